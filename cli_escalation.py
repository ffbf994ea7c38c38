"""`nhiemvu escalate`, `nhiemvu scheduler run`, `nhiemvu letters`.

Registered on the root group by cli.py (`cli.add_command(...)`). Heavy modules
(APScheduler, python-docx) are imported inside the commands so `--help` stays fast.
"""

from __future__ import annotations

from pathlib import Path

import click

from cli_app import get_app
from cli_support import (
    DATE,
    NhiemvuCommand,
    NhiemvuGroup,
    emit_json,
    json_option,
    render_table,
)

SCHEDULER_ACTOR = "scheduler"


def _app(ctx: click.Context, default_actor: str | None = None):
    """The shared App; its actor is --actor if given, else `default_actor` if given."""
    root = ctx.find_root()
    if default_actor and root.params.get("actor") is None and "app" not in root.obj:
        root.obj["actor"] = default_actor
    return get_app(ctx)


@click.command(cls=NhiemvuCommand)
@click.option("--as-of", type=DATE, default=None, help="Chạy như vào ngày này (mặc định: hôm nay).")
@click.option("--dry-run", is_flag=True, help="Chỉ liệt kê các bước sẽ ghi; không ghi gì.")
@json_option
@click.pass_context
def escalate(ctx, as_of, dry_run, as_json):
    """Chạy một lượt đôn đốc: ghi các bước nhắc hạn, đôn đốc đã đến hạn (mỗi bước một lần)."""
    from application.escalation import run_escalation_pass
    from workflow.dates import format_date

    # Steps are recorded by "scheduler" unless someone names themselves with --actor.
    app = _app(ctx, SCHEDULER_ACTOR)
    try:
        result = run_escalation_pass(app.ledger, as_of, dry_run=dry_run)
    except KeyboardInterrupt:
        # A pass writes a batch of tasks at a time: what committed stays, and the
        # next pass raises the rest, each step once.
        after = (
            "Chạy thử: không ghi gì."
            if dry_run
            else "Các bước đã ghi được giữ nguyên; chạy lại `nhiemvu escalate` để hoàn tất "
            "lượt (mỗi bước chỉ ghi một lần)."
        )
        click.echo(f"Đã dừng giữa lượt đôn đốc. {after}", err=True)
        ctx.exit(1)
    rows = [o.to_dict() for o in result.outcomes]
    if as_json:
        emit_json(rows)
        return
    when = format_date(result.as_of)
    if not rows:
        click.echo(f"Tính đến ngày {when}: không có bước đôn đốc nào mới.")
        return
    if dry_run:
        click.echo(f"Chạy thử (không ghi gì), tính đến ngày {when}: sẽ ghi {len(rows)} bước.")
    else:
        click.echo(f"Lượt đôn đốc tính đến ngày {when}: đã ghi {len(rows)} bước.")
    click.echo(
        render_table(
            [
                {
                    **r,
                    "due_on": format_date(o.step.due_on),
                    "deadline": format_date(o.step.deadline),
                    "agencies": ", ".join(r["agencies"]),
                }
                for r, o in zip(rows, result.outcomes, strict=True)
            ],
            [
                ("task", "Nhiệm vụ"),
                ("level", "Mức"),
                ("label", "Bước đôn đốc"),
                ("due_on", "Ngày đến hạn"),
                ("deadline", "Thời hạn"),
                ("agencies", "Cơ quan chủ trì"),
            ],
        )
    )


def _secretariat_log_format():
    """Log lines on the secretariat's clock (Asia/Ho_Chi_Minh, whatever the server's
    zone), warnings and errors named in Vietnamese: `05/12/2026 07:00:01 CẢNH BÁO …`."""
    import logging
    from datetime import datetime

    from workflow.dates import LOCAL_TZ

    levels = {logging.WARNING: "CẢNH BÁO ", logging.ERROR: "LỖI ", logging.CRITICAL: "LỖI "}

    class SecretariatLogFormatter(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            stamp = datetime.fromtimestamp(record.created, LOCAL_TZ)
            level = levels.get(record.levelno, "")
            return f"{stamp:%d/%m/%Y %H:%M:%S} {level}{super().format(record)}"

    return SecretariatLogFormatter("%(message)s")


@click.group(cls=NhiemvuGroup)
def scheduler():
    """Bộ lập lịch: tự chạy lượt đôn đốc hằng ngày."""


@scheduler.command("run")
@click.option(
    "--at",
    default="07:00",
    show_default=True,
    metavar="HH:MM",
    help="Giờ chạy hằng ngày (giờ Việt Nam).",
)
@click.option(
    "--once-now", is_flag=True, help="Chạy một lượt ngay khi bắt đầu, rồi tiếp tục theo lịch."
)
# For tests and drills: a pass every N seconds instead of the daily time.
@click.option("--interval-seconds", type=click.FloatRange(min=0.1), default=None, hidden=True)
@click.option("--poll-seconds", type=click.FloatRange(min=0.05), default=5.0, hidden=True)
@click.pass_context
def scheduler_run(ctx, at, once_now, interval_seconds, poll_seconds):
    """Chạy bộ lập lịch đến khi nhận Ctrl+C hoặc SIGTERM.

    Mỗi cơ sở dữ liệu chỉ có một bộ lập lịch chạy; tiến trình thứ hai sẽ chờ.
    """
    import logging
    import sys

    from application.scheduler import parse_time, run_scheduler
    from events.database import resolve_url

    parse_time(at)  # a bad --at is refused before anything starts
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_secretariat_log_format())
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    # APScheduler's own messages are English chatter; keep its warnings and errors.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    root = ctx.find_root()
    actor = root.params.get("actor") or SCHEDULER_ACTOR
    run_scheduler(
        resolve_url(root.obj["db"]),
        actor,
        at=at,
        once_now=once_now,
        interval_seconds=interval_seconds,
        poll_seconds=poll_seconds,
    )


@click.command(cls=NhiemvuCommand)
@click.option("--as-of", type=DATE, required=True, help="Ngày tính quá hạn.")
@click.option("--agency", default=None, metavar="MÃ_CQ", help="Chỉ lập cho cơ quan này.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    metavar="THƯ_MỤC",
    help="Thư mục ghi các tệp .docx.",
)
@click.option("--replace", is_flag=True, help="Ghi đè các dự thảo cùng tên đã có trong thư mục.")
@json_option
@click.pass_context
def letters(ctx, as_of, agency, out_dir, replace, as_json):
    """Lập dự thảo công văn đôn đốc (.docx) cho từng cơ quan có nhiệm vụ quá hạn."""
    from application.letters import write_letters
    from workflow.dates import format_date
    from workflow.text import code as norm_code

    app = _app(ctx)
    try:
        with app.engine.connect() as connection:
            written = write_letters(connection, as_of, out_dir, app.today(), agency, replace)
    except KeyboardInterrupt:
        # The set is written whole or not at all (application.letters.write_letters).
        click.echo(
            f"Đã dừng: không lập dự thảo nào, thư mục '{out_dir}' giữ nguyên như trước. "
            "Chạy lại lệnh để lập cả bộ.",
            err=True,
        )
        ctx.exit(1)
    if as_json:
        emit_json([letter.to_dict() for letter in written])
        return
    if not written:
        whose = f"{norm_code(agency)} không có nhiệm vụ chủ trì" if agency else "Không có nhiệm vụ"
        click.echo(f"{whose} quá hạn tại ngày {format_date(as_of)}; không lập công văn.")
        return
    for letter in written:
        click.echo(str(letter.path))
