"""The `nhiemvu` command line: parse, call the application, render.

Command names, flags and JSON keys are English; what people read is Vietnamese.
Heavy modules are imported inside the commands so that `--help` stays fast.
"""

from __future__ import annotations

import getpass
import os

import click

from cli_support import (
    AT_LEAST_ONE,
    DATE,
    HASH,
    STATUS,
    NhiemvuGroup,
    emit_json,
    ensure_utf8_stdout,
    json_option,
    local_time_text,
    output,
    progress_bar,
    render_table,
    warn,
)
from workflow.text import clipped, grouped

AGENCY_KINDS = ["so", "quan-huyen", "don-vi-su-nghiep", "khac"]
REPRIMAND_KINDS = {
    "nhac-nho": "nhac_nho",
    "rut-kinh-nghiem": "rut_kinh_nghiem",
    "phe-binh": "phe_binh",
}


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


def get_app(ctx: click.Context, quick: bool = False, catch_up: bool = True):
    """The command's App. `quick`: if none is open yet, one over the bare driver when
    the database allows it (App.quick), which spares the process SQLAlchemy.
    `catch_up`: False for the commands that must work whatever state the projection
    is in (App)."""
    from application.app import App

    root = ctx.find_root()
    if not quick and getattr(root.obj.get("app"), "quick", False):
        _close_app(root)  # what comes next needs SQLAlchemy
    if "app" not in root.obj:
        app = App.quick(root.obj["db"], root.obj["actor"]) if quick else None
        root.obj["app"] = app or App(root.obj["db"], root.obj["actor"], catch_up=catch_up)
        root.call_on_close(lambda: _close_app(root))
    return root.obj["app"]


def _close_app(root: click.Context) -> None:
    app = root.obj.pop("app", None)
    if app is not None:
        app.close()


class LedgerCommands:
    """The ledger's commands for the CLI: on a quick App when the database allows it;
    a command that needs SQLAlchemy after all raises NeedsFullEngine having written
    nothing (its transaction rolled back), and runs again on the full App."""

    def __init__(self, ctx: click.Context) -> None:
        self._ctx = ctx

    def __getattr__(self, name: str):
        def run(*args, **kwargs):
            from events.driver import NeedsFullEngine

            try:
                return getattr(get_app(self._ctx, quick=True).ledger, name)(*args, **kwargs)
            except NeedsFullEngine:
                _close_app(self._ctx.find_root())
                return getattr(get_app(self._ctx).ledger, name)(*args, **kwargs)

        return run


def today_or(ctx, value):
    return value or get_app(ctx, quick=True).today()


def stored_key(result) -> str:
    """The key as the ledger stores it (NV-00018), not as it was typed (nv-00018 )."""
    return result.stream_id.split(":", 1)[1]


def report_result(result, as_json: bool, human: str) -> None:
    warn(result.warnings)
    if as_json:
        emit_json(
            {
                "key": result.key,
                "stream": result.stream_id,
                "events": [e.event_id for e in result.events],
            }
        )
    else:
        click.echo(human)


# -- init, events, projections -------------------------------------------------------


@cli.command()
@click.pass_context
def init(ctx):
    """Tạo hoặc nâng cấp lược đồ cơ sở dữ liệu."""
    from application.app import initialise
    from events.locations import shown

    url, restored = initialise(ctx.obj["db"])
    click.echo(f"Đã khởi tạo/nâng cấp cơ sở dữ liệu: {shown(url)}")
    if restored:
        click.echo(
            f"Đã đặt lại các trigger bảo vệ sổ sự kiện bị xóa hoặc tắt: {', '.join(restored)}. "
            "Hãy chạy `nhiemvu events verify` xem sổ có bị sửa trong lúc đó không."
        )


@cli.group()
def events():
    """Sổ sự kiện: kiểm tra, xuất, nhập."""


@events.command("verify")
@click.option(
    "--expect-hash",
    type=HASH,
    default=None,
    metavar="MÃ_BĂM",
    help="Mã băm đã ghi lại ở nơi khác (in ra khi kiểm tra hoặc xuất sổ): phải còn trong "
    "chuỗi, nếu không sổ đã bị viết lại cả các mã băm.",
)
@json_option
@click.pass_context
def events_verify(ctx, expect_hash, as_json):
    """Tính lại chuỗi mã băm của toàn bộ sổ; thoát với mã 1 nếu sổ bị sửa."""
    from events.guards import missing_guards
    from events.verify import verify_chain

    app = get_app(ctx, catch_up=False)
    with progress_bar(app.store.head_position(), "Đang kiểm tra sổ sự kiện") as tick:
        result = verify_chain(app.engine, progress=tick, expect_hash=expect_hash)
    with app.engine.connect() as connection:
        unguarded = missing_guards(connection)
    data = {
        "ok": result.ok and not unguarded,
        "unguarded": unguarded,
        "checked": result.checked,
        "broken_position": result.broken_position,
        "reason": result.reason,
        "last_hash": result.last_hash,
        "expected_hash_position": result.anchor_position,
    }
    if as_json:
        emit_json(data)
    else:
        _say_verified(result, unguarded)
    if not data["ok"]:
        ctx.exit(1)


def _say_verified(result, unguarded: list[str]) -> None:
    if result.ok:
        click.echo(f"Sổ sự kiện toàn vẹn: đã kiểm tra {grouped(result.checked)} sự kiện.")
        if result.anchor_position is not None:
            click.echo(
                f"Mã băm đối chiếu là của sự kiện ở vị trí {grouped(result.anchor_position)}."
            )
        if result.checked:
            # The hash alone on its line: a dot after it was copied with it.
            click.echo(f"Mã băm cuối: {result.last_hash}")
            click.echo(
                "Ghi lại mã này ở nơi khác (sổ, văn bản) để lần sau đối chiếu bằng "
                "--expect-hash: sổ bị viết lại cả các mã băm vẫn lộ."
            )
    else:
        where = (
            f"hỏng tại vị trí {grouped(result.broken_position)} ({result.reason})"
            if result.broken_position is not None
            else result.reason
        )
        click.echo(f"Sổ sự kiện KHÔNG toàn vẹn: {where}.", err=True)
    if unguarded:
        click.echo(
            "Cơ sở dữ liệu không còn tự từ chối sửa, xóa sự kiện: trigger "
            f"{', '.join(unguarded)} đã bị xóa hoặc tắt. Hãy chạy `nhiemvu init` để đặt lại.",
            err=True,
        )


@cli.group()
def projections():
    """Các bảng dẫn xuất từ sổ sự kiện."""


workers_option = click.option(
    "--workers",
    type=AT_LEAST_ONE,
    default=None,
    metavar="N",
    help="Số tiến trình dựng song song (mặc định: một tiến trình mỗi lõi CPU, tối đa 4; 1: không song song).",
)


@projections.command("rebuild")
@workers_option
@click.pass_context
def projections_rebuild(ctx, workers):
    """Dựng lại các bảng dẫn xuất từ đầu sổ sự kiện."""
    from events.projections import rebuild

    app = get_app(ctx, catch_up=False)
    count = rebuild(app.store, app.ledger.projection, workers=workers)
    click.echo(f"Đã dựng lại các bảng dẫn xuất từ {grouped(count)} sự kiện.")


@projections.command("verify")
@workers_option
@json_option
@click.pass_context
def projections_verify(ctx, workers, as_json):
    """So các bảng dẫn xuất với bản dựng lại từ sổ (không ghi gì); thoát với mã 1 nếu khác."""
    from events.projection_check import rows_to_read, verify_projection

    app = get_app(ctx, catch_up=False)
    projection = app.ledger.projection
    length = rows_to_read(app.store, projection)
    with progress_bar(length, "Đang so các bảng dẫn xuất với sổ") as tick:
        result = verify_projection(app.store, projection, workers=workers, progress=tick)
    if as_json:
        emit_json(projection_check_data(result))
    elif result.ok:
        rows = sum(t.rows for t in result.tables)
        click.echo(
            f"Các bảng dẫn xuất khớp với sổ sự kiện: {len(result.tables)} bảng, "
            f"{grouped(rows)} dòng, đúng như dựng lại từ {grouped(result.head)} sự kiện."
        )
    else:
        click.echo(projection_check_text(result), err=True)
    if not result.ok:
        ctx.exit(1)


def projection_check_data(result) -> dict:
    def key(check, values) -> dict:
        return dict(zip(check.key_columns, values, strict=True))

    return {
        "ok": result.ok,
        "head": result.head,
        "checkpoint": result.checkpoint,
        "checkpoint_at_head": result.checkpoint_at_head,
        "tables": [
            {
                "table": t.table,
                "ok": t.ok,
                "rows": t.rows,
                "missing": {"count": t.missing_count, "keys": [key(t, k) for k in t.missing]},
                "extra": {"count": t.extra_count, "keys": [key(t, k) for k in t.extra]},
                "different": {
                    "count": t.different_count,
                    "rows": [{"key": key(t, k), "columns": c} for k, c in t.different],
                },
            }
            for t in result.tables
        ],
    }


def projection_check_text(result) -> str:
    from events.errors import REBUILD_REMEDY

    lines = [
        f"Các bảng dẫn xuất KHÔNG khớp với sổ sự kiện (so với bản dựng lại từ "
        f"{grouped(result.head)} sự kiện):"
    ]
    if not result.checkpoint_at_head:
        lines.append(f"  projection_checkpoints: {_checkpoint_text(result)}")
    for t in result.tables:
        listed = [
            ("thiếu", t.missing_count, [_key_text(k) for k in t.missing]),
            ("thừa", t.extra_count, [_key_text(k) for k in t.extra]),
            ("sai lệch", t.different_count,
             [_key_text(k) + (f" ({', '.join(c)})" if c else "") for k, c in t.different]),
        ]  # fmt: skip
        for what, count, keys in listed:
            if count:
                rest = f", và {grouped(count - len(keys))} dòng nữa" if count > len(keys) else ""
                lines.append(f"  {t.table}: {grouped(count)} dòng {what} — {', '.join(keys)}{rest}")
    lines.append(
        "Sổ sự kiện không bị ảnh hưởng, và lệnh này không ghi gì; các bảng dẫn xuất đã bị "
        f"sửa trực tiếp, ngoài chương trình: {REBUILD_REMEDY}"
    )
    return "\n".join(lines)


def _key_text(values) -> str:
    return "/".join(str(v) for v in values)


def _checkpoint_text(result) -> str:
    if result.checkpoint is None:
        return "không có mốc đã dựng của các bảng dẫn xuất, mà sổ đã có sự kiện"
    if result.checkpoint > result.head:
        return f"mốc đã dựng ở vị trí {grouped(result.checkpoint)}, vượt đầu sổ ({grouped(result.head)})"
    # Behind the head: the commands would take the events after it for new ones, which
    # the tables (as the rest of the check says) may hold already.
    return (
        f"mốc đã dựng ở vị trí {grouped(result.checkpoint)}, trước đầu sổ "
        f"({grouped(result.head)}): {grouped(result.head - result.checkpoint)} sự kiện cuối "
        "sẽ bị coi là chưa đưa vào các bảng"
    )


# -- agencies ----------------------------------------------------------------------


@cli.group()
def agency():
    """Cơ quan, đơn vị và người đứng đầu."""


@agency.command("add")
@click.argument("code", metavar="MÃ_CQ")
@click.option("--name", required=True, metavar="TÊN", help="Tên đầy đủ, ví dụ 'Sở Xây dựng'.")
@click.option(
    "--kind",
    type=click.Choice(AGENCY_KINDS),
    required=True,
    help="Loại: sở, quận huyện, đơn vị sự nghiệp, khác.",
)
@json_option
@click.pass_context
def agency_add(ctx, code, name, kind, as_json):
    """Đăng ký cơ quan mới."""
    result = LedgerCommands(ctx).register_agency(code, name, kind)
    report_result(result, as_json, f"Đã đăng ký cơ quan {result.key}.")


@agency.command("rename")
@click.argument("code", metavar="MÃ_CQ")
@click.option("--name", required=True, metavar="TÊN", help="Tên mới.")
@click.option("--on", "on", type=DATE, default=None, help="Ngày đổi tên.")
@click.pass_context
def agency_rename(ctx, code, name, on):
    """Đổi tên cơ quan."""
    result = LedgerCommands(ctx).rename_agency(code, name, today_or(ctx, on))
    report_result(result, False, f"Đã đổi tên {code.upper()}.")


@agency.command("head")
@click.argument("code", metavar="MÃ_CQ")
@click.option("--name", "person", required=True, metavar="HỌ_TÊN", help="Họ tên người đứng đầu.")
@click.option("--from", "start", type=DATE, required=True, help="Ngày bắt đầu giữ chức vụ.")
@click.pass_context
def agency_head(ctx, code, person, start):
    """Ghi người đứng đầu mới (người trước thôi giữ chức từ ngày hôm trước)."""
    result = LedgerCommands(ctx).appoint_head(code, person, start)
    report_result(result, False, f"Đã ghi người đứng đầu {code.upper()}: {person}.")


@agency.command("deputy")
@click.argument("code", metavar="MÃ_CQ")
@click.option("--name", "person", required=True, metavar="HỌ_TÊN", help="Họ tên cấp phó.")
@click.option(
    "--field", required=True, metavar="LĨNH_VỰC", help="Lĩnh vực phụ trách, ví dụ 'xây dựng'."
)
@click.option("--from", "start", type=DATE, required=True, help="Ngày bắt đầu phụ trách.")
@click.pass_context
def agency_deputy(ctx, code, person, field, start):
    """Ghi cấp phó phụ trách một lĩnh vực."""
    result = LedgerCommands(ctx).appoint_deputy(code, person, field, start)
    report_result(result, False, f"Đã ghi cấp phó {code.upper()} phụ trách {field}: {person}.")


@agency.command("dissolve")
@click.argument("code", metavar="MÃ_CQ")
@click.option("--on", "on", type=DATE, required=True, help="Ngày giải thể hoặc sáp nhập.")
@click.option("--reason", required=True, metavar="LÝ_DO", help="Căn cứ: quyết định, lý do.")
@click.option(
    "--into",
    default=None,
    metavar="MÃ_CQ",
    help="Sáp nhập vào cơ quan này: các nhiệm vụ đang mở chuyển sang đó.",
)
@click.pass_context
def agency_dissolve(ctx, code, on, reason, into):
    """Giải thể hoặc sáp nhập cơ quan."""
    result = LedgerCommands(ctx).dissolve_agency(code, on, reason, into)
    report_result(result, False, f"Đã ghi {'sáp nhập' if into else 'giải thể'} {code.upper()}.")


@agency.command("list")
@click.option("--on", "on", type=DATE, default=None, help="Người đứng đầu tại ngày này.")
@json_option
@click.pass_context
def agency_list(ctx, on, as_json):
    """Danh sách cơ quan và người đứng đầu."""
    from application import queries

    app = get_app(ctx)
    with app.engine.connect() as connection:
        rows = queries.list_agencies(connection, on or app.today())
    columns = [
        ("code", "Mã"),
        ("name", "Tên cơ quan"),
        ("kind_label", "Loại"),
        ("head", "Người đứng đầu"),
        ("deputies", "Cấp phó"),
    ]
    if any(r["closure"] for r in rows):  # an agency merged or dissolved by then
        columns.append(("closure", "Tình trạng"))
    output(
        rows,
        as_json,
        lambda rs: render_table(
            [
                {
                    **r,
                    "deputies": "; ".join(
                        f"{d['person']} ({d['field']})" for d in r["deputies_in_charge"]
                    ),
                }
                for r in rs
            ],
            columns,
        ),
    )


@agency.command("history")
@click.argument("code", metavar="MÃ_CQ")
@json_option
@click.pass_context
def agency_history(ctx, code, as_json):
    """Toàn bộ sự kiện của một cơ quan (đổi tên, bổ nhiệm, sáp nhập…), kể cả sự kiện
    đã rút lại, với mã sự kiện để rút lại bằng `nhiemvu correct`."""
    from application import queries

    app = get_app(ctx)
    with app.engine.connect() as connection:
        rows = queries.agency_history(app.store, connection, code.strip())
    output(rows, as_json, _history_human)


# -- directives --------------------------------------------------------------------


@cli.group()
def directive():
    """Văn bản chỉ đạo (thông báo kết luận, chỉ thị, kế hoạch…)."""


@directive.command("add")
@click.argument("number", metavar="SỐ_HIỆU")
@click.option("--date", "issued_on", type=DATE, required=True, help="Ngày ban hành.")
@click.option("--title", required=True, metavar="TRÍCH_YẾU", help="Trích yếu nội dung văn bản.")
@click.option(
    "--kind", default=None, metavar="LOẠI", help="Thông báo kết luận, Chỉ thị, Kế hoạch, Công văn…"
)
@click.option(
    "--issuer",
    default=None,
    metavar="NƠI_BAN_HÀNH",
    help="UBND thành phố, Chủ tịch UBND thành phố…",
)
@json_option
@click.pass_context
def directive_add(ctx, number, issued_on, title, kind, issuer, as_json):
    """Ghi văn bản chỉ đạo."""
    result = LedgerCommands(ctx).register_directive(number, issued_on, title, kind, issuer)
    report_result(result, as_json, f"Đã ghi văn bản {result.key}.")


@directive.command("list")
@json_option
@click.pass_context
def directive_list(ctx, as_json):
    """Danh sách văn bản chỉ đạo và số nhiệm vụ."""
    from application import queries
    from workflow.dates import format_date, from_iso

    with get_app(ctx).engine.connect() as connection:
        rows = queries.list_directives(connection)
    output(
        rows,
        as_json,
        lambda rs: render_table(
            [
                {
                    **r,
                    "issued_on": format_date(from_iso(r["issued_on"])),
                    "title": clipped(r["title"], 60),
                }
                for r in rs
            ],
            [
                ("number", "Số hiệu"),
                ("issued_on", "Ngày"),
                ("kind", "Loại"),
                ("title", "Trích yếu"),
                ("tasks", "Số nhiệm vụ"),
            ],
        ),
    )


# -- tasks -------------------------------------------------------------------------


@cli.group()
def task():
    """Nhiệm vụ: giao, báo cáo tiến độ, gia hạn, hoàn thành, hủy."""


@task.command("assign")
@click.option(
    "--directive",
    "directive_number",
    required=True,
    metavar="SỐ_HIỆU",
    help="Văn bản chỉ đạo giao nhiệm vụ.",
)
@click.option("--clause", default=None, metavar="MỤC", help="Mục, điểm: 2.3, 2.5.a…")
@click.option("--title", required=True, metavar="NỘI_DUNG", help="Nội dung nhiệm vụ.")
@click.option(
    "--lead",
    "leads",
    multiple=True,
    required=True,
    metavar="MÃ_CQ",
    help="Cơ quan chủ trì (lặp lại được).",
)
@click.option(
    "--coordinate",
    "coordinators",
    multiple=True,
    metavar="MÃ_CQ",
    help="Cơ quan phối hợp (lặp lại được).",
)
@click.option("--deadline", type=DATE, default=None, help="Thời hạn hoàn thành.")
@click.option(
    "--period",
    default=None,
    metavar="2023Q2",
    help="Hoàn thành trong kỳ: quý (2023Q2), tháng (2023-10) hoặc năm (2023).",
)
@click.option(
    "--within-working-days",
    type=AT_LEAST_ONE,
    default=None,
    metavar="N",
    help="Hoàn thành trong N ngày làm việc kể từ ngày giao.",
)
@click.option("--no-deadline", is_flag=True, help="Nhiệm vụ thường xuyên, không có thời hạn.")
@click.option(
    "--assigned-on", type=DATE, default=None, help="Ngày giao (mặc định: ngày của văn bản chỉ đạo)."
)
@click.option("--leader", default=None, metavar="HỌ_TÊN", help="Lãnh đạo UBND phụ trách chỉ đạo.")
@click.option(
    "--id", "task_id", default=None, metavar="MÃ_NV", help="Mã nhiệm vụ (mặc định: NV-00001…)."
)
@json_option
@click.pass_context
def task_assign(
    ctx,
    directive_number,
    clause,
    title,
    leads,
    coordinators,
    deadline,
    period,
    within_working_days,
    no_deadline,
    assigned_on,
    leader,
    task_id,
    as_json,
):
    """Giao nhiệm vụ; in ra mã nhiệm vụ.

    \b
    Thời hạn: một trong --deadline, --period, --within-working-days, --no-deadline.

    \b
    Ví dụ:
      nhiemvu task assign --directive 129/TB-UBND --clause 2.3 --lead SXD \\
        --coordinate STC --title "Rà soát quỹ đất sạch" --deadline 31/03/2023
      nhiemvu task assign --directive 02/CT-UBND --lead STC --period 2023Q2 \\
        --title "Báo cáo giải ngân vốn đầu tư công"
    """
    from application.ledger import DeadlineInput

    forms = [
        f
        for f in (
            deadline is not None and DeadlineInput("date", deadline),
            period is not None and DeadlineInput("period", period),
            within_working_days is not None and DeadlineInput("working_days", within_working_days),
            no_deadline and DeadlineInput("none"),
        )
        if f
    ]
    if len(forms) != 1:
        raise click.UsageError(
            "Hãy chọn đúng một dạng thời hạn: --deadline, --period, --within-working-days "
            "hoặc --no-deadline."
        )
    result = LedgerCommands(ctx).assign_task(
        directive_number,
        title,
        list(leads),
        forms[0],
        clause=clause,
        coordinators=list(coordinators),
        assigned_on=assigned_on,
        leader=leader,
        task_id=task_id,
    )
    warn(result.warnings)
    if as_json:
        emit_json(
            {
                "id": result.key,
                "event_id": result.events[0].event_id,
                "deadline": result.events[0].data["deadline"]["due"],
            }
        )
    else:
        click.echo(result.key)


@task.command("progress")
@click.argument("task_id", metavar="MÃ_NV")
@click.option(
    "--percent", type=int, required=True, metavar="0-100", help="Tỷ lệ hoàn thành, từ 0 đến 100."
)
@click.option("--on", "on", type=DATE, required=True, help="Ngày báo cáo.")
@click.option("--note", default=None, metavar="GHI_CHÚ", help="Nội dung báo cáo, tóm tắt.")
@click.pass_context
def task_progress(ctx, task_id, percent, on, note):
    """Ghi báo cáo tiến độ.

    \b
    Ví dụ:
      nhiemvu task progress NV-00001 --percent 50 --on 25/03/2023 --note "Đang rà soát"
    """
    result = LedgerCommands(ctx).report_progress(task_id, percent, on, note)
    report_result(result, False, f"Đã ghi tiến độ {percent}% cho {stored_key(result)}.")


@task.command("extend")
@click.argument("task_id", metavar="MÃ_NV")
@click.option("--to", "to", type=DATE, required=True, help="Hạn mới.")
@click.option("--on", "on", type=DATE, required=True, help="Ngày lãnh đạo đồng ý gia hạn.")
@click.option("--reason", default=None, metavar="LÝ_DO", help="Lý do gia hạn (hoặc từ chối).")
@click.option("--refuse", is_flag=True, help="Ghi việc lãnh đạo KHÔNG đồng ý gia hạn.")
@click.pass_context
def task_extend(ctx, task_id, to, on, reason, refuse):
    """Ghi gia hạn được duyệt (hoặc bị từ chối với --refuse). Gia hạn duyệt sau
    thời hạn đang có hiệu lực vẫn tính là quá hạn khi chấm điểm.

    \b
    Ví dụ:
      nhiemvu task extend NV-00001 --to 30/04/2023 --on 28/03/2023 --reason "Chờ ý kiến STC"
      nhiemvu task extend NV-00001 --to 30/05/2023 --on 20/04/2023 --refuse
    """
    ledger = LedgerCommands(ctx)
    if refuse:
        result = ledger.refuse_extension(task_id, to, on, reason)
        report_result(result, False, f"Đã ghi từ chối gia hạn {stored_key(result)}.")
    else:
        result = ledger.approve_extension(task_id, to, on, reason)
        report_result(result, False, f"Đã ghi gia hạn {stored_key(result)}.")


@task.command("complete")
@click.argument("task_id", metavar="MÃ_NV")
@click.option("--on", "on", type=DATE, required=True, help="Ngày hoàn thành (ngày trên báo cáo).")
@click.option("--doc", default=None, metavar="SỐ_HIỆU", help="Số hiệu văn bản báo cáo hoàn thành.")
@click.pass_context
def task_complete(ctx, task_id, on, doc):
    """Ghi hoàn thành nhiệm vụ."""
    result = LedgerCommands(ctx).complete(task_id, on, doc)
    report_result(result, False, f"Đã ghi hoàn thành {stored_key(result)}.")


@task.command("cancel")
@click.argument("task_id", metavar="MÃ_NV")
@click.option("--on", "on", type=DATE, required=True, help="Ngày lãnh đạo cho dừng nhiệm vụ.")
@click.option("--reason", required=True, metavar="LÝ_DO", help="Vì sao không còn cần thực hiện.")
@click.pass_context
def task_cancel(ctx, task_id, on, reason):
    """Hủy nhiệm vụ không còn cần thực hiện."""
    result = LedgerCommands(ctx).cancel(task_id, on, reason)
    report_result(result, False, f"Đã hủy {stored_key(result)}.")


@task.command("reassign")
@click.argument("task_id", metavar="MÃ_NV")
@click.option(
    "--lead", "leads", multiple=True, required=True, metavar="MÃ_CQ", help="Cơ quan chủ trì mới."
)
@click.option("--on", "on", type=DATE, required=True, help="Ngày giao lại.")
@click.option("--reason", default=None, metavar="LÝ_DO", help="Vì sao giao lại.")
@click.pass_context
def task_reassign(ctx, task_id, leads, on, reason):
    """Giao lại nhiệm vụ cho cơ quan chủ trì khác."""
    result = LedgerCommands(ctx).reassign(task_id, list(leads), on, reason)
    report_result(result, False, f"Đã giao lại {stored_key(result)}.")


def _task_human(task: dict) -> str:
    from workflow.dates import format_date, from_iso
    from workflow.documents import KIND_LABELS

    def d(value):
        return format_date(from_iso(value)) if value else "—"

    lines = [
        f"Nhiệm vụ {task['id']}: {task['title']}",
        f"  Văn bản: {task['directive']}" + (f", mục {task['clause']}" if task["clause"] else ""),
        f"  Chủ trì: {', '.join(task['leads'])}"
        + (f"; phối hợp: {', '.join(task['coordinators'])}" if task["coordinators"] else ""),
        f"  Ngày giao: {d(task['assigned_on'])}",
        f"  Thời hạn: {d(task['deadline'])}"
        + (
            f" (hạn gốc {d(task['original_deadline'])})"
            if task["original_deadline"] != task["deadline"]
            else ""
        )
        + (
            f"; hạn đôn đốc hiện tại {d(task['current_deadline'])}"
            if task["current_deadline"] != task["deadline"]
            else ""
        ),
        f"  Trạng thái tại {d(task['as_of'])}: {task['status_label']}"
        + (f" ({task['days_overdue']} ngày)" if task["days_overdue"] else ""),
    ]
    if task["leader"]:
        lines.insert(4, f"  Lãnh đạo chỉ đạo: {task['leader']}")
    for e in task["extensions"]:
        lines.append(
            f"  Gia hạn: đến {d(e['to'])}, duyệt ngày {d(e['approved_on'])}"
            + ("" if e["in_time"] else " (sau hạn)")
            + (f" — {e['reason']}" if e["reason"] else "")
        )
    for r in task["refused_extensions"]:
        lines.append(
            f"  Không gia hạn: đề nghị đến {d(r['to'])}, từ chối ngày {d(r['refused_on'])}"
            + (f" — {r['reason']}" if r["reason"] else "")
        )
    if task["progress"] is not None:
        lines.append(
            f"  Tiến độ: {task['progress']}% ({d(task['progress_on'])})"
            + (f" — {task['progress_note']}" if task["progress_note"] else "")
        )
    if task["completed_on"]:
        lines.append(
            f"  Hoàn thành: {d(task['completed_on'])}"
            + (f", văn bản {task['completion_doc']}" if task["completion_doc"] else "")
        )
    if task["cancelled_on"]:
        lines.append(f"  Đã hủy: {d(task['cancelled_on'])} — {task['cancel_reason']}")
    if task["escalation_level"]:
        step = task["escalation_step"]
        lines.append(
            f"  Mức đôn đốc: {task['escalation_level']} — {step['label']} "
            f"(ngày {d(step['due_on'])})"
        )
    for doc in task["documents"]:
        kind = KIND_LABELS.get(doc["kind"], doc["kind"])
        lines.append(f"  Văn bản nhắc đến: {doc['number']} ({kind}, {d(doc['issued_on'])})")
    return "\n".join(lines)


@task.command("show")
@click.argument("task_id", metavar="MÃ_NV")
@click.option("--as-of", type=DATE, default=None, help="Trạng thái tại ngày này (ngày nghiệp vụ).")
@click.option(
    "--known-at", type=DATE, default=None, help="Chỉ dùng những gì đã được ghi đến hết ngày này."
)
@json_option
@click.pass_context
def task_show(ctx, task_id, as_of, known_at, as_json):
    """Xem một nhiệm vụ.

    Với --known-at mà không có --as-of, trạng thái tính tại chính ngày đó: điều người
    ta biết vào hôm ấy."""
    if known_at is None:
        from application.quick import QuickReads

        quick = QuickReads.open(ctx.find_root().obj["db"])
        if quick is not None:
            try:
                data = quick.show_task(task_id.strip(), _status_day(as_of, quick.today()))
            finally:
                quick.close()
            output(data, as_json, _task_human)
            return
    from application import queries
    from workflow.dates import end_of_day

    app = get_app(ctx)
    today = app.today()
    known_then = min(known_at, today) if known_at else None
    with app.engine.connect() as connection:
        data = queries.show_task(
            connection,
            app.store,
            task_id.strip(),
            _status_day(as_of, today) if as_of else known_then or today,
            end_of_day(known_at) if known_at else None,
        )
    output(data, as_json, _task_human)


def _status_day(as_of, today):
    """`--as-of` (never after today), or today."""
    from application.cutoffs import check_not_future

    if as_of is None:
        return today
    check_not_future(as_of, today)
    return as_of


@task.command("list")
@click.option("--agency", default=None, metavar="MÃ_CQ", help="Chỉ nhiệm vụ cơ quan này chủ trì.")
@click.option(
    "--directive", default=None, metavar="SỐ_HIỆU", help="Chỉ nhiệm vụ của văn bản chỉ đạo này."
)
@click.option(
    "--status",
    type=STATUS,
    default=None,
    metavar="TRẠNG_THÁI",
    help="Chỉ nhiệm vụ có trạng thái này: in_progress, overdue, done_on_time, done_late, "
    "ongoing, done, cancelled.",
)
@click.option(
    "--search",
    "words",
    default=None,
    metavar="TỪ",
    help="Chỉ nhiệm vụ có nội dung chứa mọi từ này (gõ có dấu hay không đều được).",
)
@click.option(
    "--as-of", type=DATE, default=None, help="Trạng thái tại ngày này (mặc định: hôm nay)."
)
@json_option
@click.pass_context
def task_list(ctx, agency, directive, status, words, as_of, as_json):
    """Danh sách nhiệm vụ với trạng thái tại một ngày."""
    from application import queries
    from workflow.dates import format_date, from_iso

    app = get_app(ctx)
    warnings: list[str] = []
    with app.engine.connect() as connection:
        rows = queries.list_tasks(
            connection,
            _status_day(as_of, app.today()),
            agency=agency,
            status=status,
            directive=directive,
            words=words,
            warnings=warnings,
        )
    warn(warnings)
    output(
        rows,
        as_json,
        lambda rs: render_table(
            [
                {
                    **r,
                    "leads": ", ".join(r["leads"]),
                    "deadline": format_date(from_iso(r["deadline"])),
                    "title": clipped(r["title"], 60),
                }
                for r in rs
            ],
            [
                ("id", "Mã"),
                ("directive", "Văn bản"),
                ("clause", "Mục"),
                ("title", "Nội dung"),
                ("leads", "Chủ trì"),
                ("deadline", "Thời hạn"),
                ("status_label", "Trạng thái"),
                ("days_overdue", "Số ngày quá hạn"),
            ],
        ),
    )


@task.command("history")
@click.argument("task_id", metavar="MÃ_NV")
@json_option
@click.pass_context
def task_history(ctx, task_id, as_json):
    """Toàn bộ sự kiện của một nhiệm vụ, kể cả sự kiện đã rút lại."""
    from application import queries

    app = get_app(ctx)
    with app.engine.connect() as connection:
        rows = queries.task_history(app.store, connection, task_id.strip())
    output(rows, as_json, _history_human)


def _history_human(rows: list[dict]) -> str:
    from workflow.dates import format_date, from_iso

    return render_table(
        [
            {
                **r,
                "on": format_date(from_iso(r["on"])),
                "summary": clipped(r["summary"], 90),
                "retracted": "đã rút lại" if r["retracted"] else "",
                "recorded_at": local_time_text(r["recorded_at"]),
            }
            for r in rows
        ],
        [
            ("version", "#"),
            ("on", "Ngày"),
            ("label", "Sự việc"),
            ("summary", "Nội dung"),
            # Only when there is something to say in it.
            *([("retracted", "Tình trạng")] if any(r["retracted"] for r in rows) else []),
            ("recorded_at", "Ghi lúc"),
            ("actor", "Người ghi"),
            ("id", "Mã sự kiện"),
        ],
    )


# -- reprimands, commendations, corrections ------------------------------------------


def _addressee_options(func):
    func = click.option(
        "--person", "persons", multiple=True, metavar="HỌ_TÊN", help="Gửi tới cá nhân này."
    )(func)
    func = click.option(
        "--head",
        "heads",
        multiple=True,
        metavar="MÃ_CQ",
        help="Gửi tới người đứng đầu cơ quan này.",
    )(func)
    func = click.option(
        "--agency", "agencies", multiple=True, metavar="MÃ_CQ", help="Gửi tới cơ quan này."
    )(func)
    return func


@cli.group()
def reprimand():
    """Văn bản nhắc nhở, rút kinh nghiệm, phê bình."""


@reprimand.command("issue")
@click.option(
    "--kind",
    type=click.Choice(list(REPRIMAND_KINDS)),
    required=True,
    help="Nhắc nhở, rút kinh nghiệm hoặc phê bình.",
)
@click.option("--doc", "number", required=True, metavar="SỐ_HIỆU", help="Số hiệu văn bản.")
@click.option("--on", "on", type=DATE, required=True, help="Ngày ban hành.")
@_addressee_options
@click.option(
    "--field",
    default=None,
    metavar="LĨNH_VỰC",
    help="Lĩnh vực: phê bình người đứng đầu kéo theo cấp phó.",
)
@click.option(
    "--task", "task_ids", multiple=True, metavar="MÃ_NV", help="Nhiệm vụ văn bản nhắc tới."
)
@click.option("--reason", default=None, metavar="LÝ_DO", help="Nội dung nhắc nhở, phê bình.")
@click.option(
    "--issuer",
    default=None,
    metavar="NƠI_BAN_HÀNH",
    help="Chủ tịch UBND thành phố (mặc định), Phó Chủ tịch (PCT)…: chỉ phê bình của Chủ "
    "tịch kéo theo cấp phó.",
)
@json_option
@click.pass_context
def reprimand_issue(
    ctx, kind, number, on, agencies, heads, persons, field, task_ids, reason, issuer, as_json
):
    """Ghi văn bản nhắc nhở / rút kinh nghiệm / phê bình.

    \b
    Ví dụ:
      nhiemvu reprimand issue --kind nhac-nho --doc 612/UBND-TH --on 10/09/2023 \\
        --agency SXD --task NV-00001 --reason "Chậm báo cáo"
      nhiemvu reprimand issue --kind phe-binh --doc 1234/UBND-TH --on 10/09/2023 \\
        --head SXD --field "xây dựng"
    """
    _issue(
        ctx,
        REPRIMAND_KINDS[kind],
        number,
        on,
        agencies,
        heads,
        persons,
        field,
        task_ids,
        reason,
        issuer,
        as_json,
    )


@cli.command()
@click.option("--doc", "number", required=True, metavar="SỐ_HIỆU", help="Số hiệu văn bản.")
@click.option("--on", "on", type=DATE, required=True, help="Ngày ban hành.")
@_addressee_options
@click.option(
    "--task", "task_ids", multiple=True, metavar="MÃ_NV", help="Nhiệm vụ văn bản nhắc tới."
)
@click.option("--reason", default=None, metavar="LÝ_DO", help="Nội dung biểu dương.")
@click.option("--issuer", default=None, metavar="NƠI_BAN_HÀNH", help="Nơi ban hành văn bản.")
@json_option
@click.pass_context
def commend(ctx, number, on, agencies, heads, persons, task_ids, reason, issuer, as_json):
    """Ghi văn bản biểu dương."""
    _issue(
        ctx,
        "bieu_duong",
        number,
        on,
        agencies,
        heads,
        persons,
        None,
        task_ids,
        reason,
        issuer,
        as_json,
    )


def _issue(
    ctx, kind, number, on, agencies, heads, persons, field, task_ids, reason, issuer, as_json
):
    from workflow.documents import TARGET_LABELS, Addressees

    result = LedgerCommands(ctx).issue_document(
        kind,
        number,
        on,
        Addressees(tuple(agencies), tuple(heads), tuple(persons)),
        reason=reason,
        issuer=issuer,
        field=field,
        task_ids=list(task_ids),
    )
    warn(result.warnings)
    targets = result.events[0].data["targets"]
    if as_json:
        emit_json({"doc": result.key, "event_id": result.events[0].event_id, "targets": targets})
        return
    click.echo(f"Đã ghi văn bản {result.key}. Nơi nhận:")
    for target in targets:
        who = " — ".join(x for x in (target["agency"], target["person"]) if x)
        note = " (kéo theo, TB 129 §2.8)" if target["cascaded"] else ""
        click.echo(f"  {TARGET_LABELS[target['kind']]}: {who}{note}")


@cli.command()
@click.argument("event", metavar="SỰ_KIỆN")
@click.option("--reason", required=True, metavar="LÝ_DO", help="Vì sao sự kiện bị rút lại.")
@json_option
@click.pass_context
def correct(ctx, event, reason, as_json):
    """Rút lại một sự kiện ghi nhầm (sự kiện gốc vẫn ở trong sổ).

    SỰ_KIỆN là mã sự kiện, hoặc mã nhiệm vụ và số thứ tự trong `nhiemvu task history`
    (NV-00001#3).
    """
    from workflow.history import label

    result = LedgerCommands(ctx).correct(event, reason)
    withdrawn = result.events[-1].data
    report_result(
        result,
        as_json,
        f"Đã rút lại sự kiện {withdrawn['event_id']} ({label(withdrawn['event_type'])}).",
    )


# -- the demo ------------------------------------------------------------------------


@cli.command()
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
    from cli_escalation import escalate, letters, scheduler
    from cli_html import report_html
    from cli_ratings import assess, rating, score
    from cli_reports import report
    from cli_transfer import events_export, events_import, import_

    report.add_command(report_html)
    events.add_command(events_export)
    events.add_command(events_import)
    cli.add_command(import_)
    for command in (report, score, rating, assess, escalate, scheduler, letters):
        cli.add_command(command)


_register_command_modules()


def main() -> None:
    cli(prog_name="nhiemvu")


if __name__ == "__main__":
    main()
