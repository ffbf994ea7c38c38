"""The `nhiemvu` command line: parse, call the application, render.

Command names, flags and JSON keys are English; what people read is Vietnamese.
Heavy modules are imported inside the commands so that `--help` stays fast.
"""

from __future__ import annotations

import getpass
import os

import click

from cli_support import NhiemvuCommand, NhiemvuGroup, ensure_utf8_stdout


def default_actor() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user database (containers): still record something
        return os.environ.get("USER", "unknown")


@click.group(cls=NhiemvuGroup)
@click.option(
    "--db",
    "db_url",
    envvar="NHIEMVU_DB",
    default=None,
    metavar="URL",
    help="Cơ sở dữ liệu: đường dẫn tệp SQLite hoặc URL postgresql+psycopg://… "
    "(mặc định: nhiemvu.db; biến môi trường NHIEMVU_DB).",
)
@click.option(
    "--actor",
    default=None,
    metavar="HỌ_TÊN",
    help="Người ghi, lưu trên mọi sự kiện (mặc định: tài khoản hệ điều hành).",
)
@click.version_option(package_name="nhiemvu")
@click.pass_context
def cli(ctx: click.Context, db_url: str | None, actor: str | None) -> None:
    """nhiemvu — theo dõi nhiệm vụ UBND giao, ghi mọi việc thành sự kiện không sửa xóa."""
    from workflow.text import optional

    ensure_utf8_stdout()
    if actor is not None and not optional(actor):
        from workflow.errors import DomainError

        raise DomainError(
            "Người ghi (--actor) không được để trống; bỏ --actor để dùng tài khoản hệ điều hành."
        )
    ctx.obj = {"db": db_url, "actor": optional(actor) or default_actor()}


@click.command(cls=NhiemvuCommand)
@click.option(
    "--file",
    "demo_file",
    default="nhiemvu-demo.db",
    show_default=True,
    metavar="TỆP",
    help="Tệp SQLite riêng của bản minh họa, dựng lại mỗi lần chạy.",
)
@click.pass_context
def demo(ctx, demo_file):
    """Dựng sổ minh họa năm 2023 từ các văn bản mẫu và in bảng tổng hợp.

    Với --db chỉ rõ, bản minh họa dựng trong cơ sở dữ liệu đó (phải còn trống).
    """
    from click.core import ParameterSource

    from application.demo import run_demo

    root = ctx.find_root()
    explicit = root.get_parameter_source("db_url") == ParameterSource.COMMANDLINE
    run_demo(ctx.obj["db"] if explicit else None, ctx.obj["actor"], demo_file, echo=click.echo)


def _register_command_modules() -> None:
    """Commands kept in their own modules, attached to the one `nhiemvu` group."""
    from cli_documents import commend, correct, reprimand
    from cli_escalation import escalate, letters, scheduler
    from cli_html import report_html
    from cli_log import events, init, projections
    from cli_ratings import assess, rating, report_assessments, score
    from cli_register import agency, directive
    from cli_reports import report
    from cli_tasks import task
    from cli_transfer import events_export, events_import, import_

    report.add_command(report_html)
    report.add_command(report_assessments)
    events.add_command(events_export)
    events.add_command(events_import)
    for command in (
        *(init, events, projections, agency, directive, task, reprimand, commend, correct, demo),
        *(report, score, rating, assess, escalate, scheduler, letters, import_),
    ):
        cli.add_command(command)


_register_command_modules()


def main() -> None:
    cli(prog_name="nhiemvu")


if __name__ == "__main__":
    main()
