"""`nhiemvu agency …` and `nhiemvu directive …`: who may be given tasks, and under
which documents."""

from __future__ import annotations

import click

from cli_app import LedgerCommands, get_app, report_result, result_json, today_or
from cli_support import DATE, NhiemvuGroup, history_table, json_option, output, render_table
from workflow.text import clipped, listed

AGENCY_KINDS = ["so", "quan-huyen", "don-vi-su-nghiep", "khac"]


@click.group(cls=NhiemvuGroup)
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
@click.option(
    "--since",
    type=DATE,
    default=None,
    help="Ngày thành lập (bỏ trống: cơ quan có từ trước khi sổ bắt đầu ghi).",
)
@click.option(
    "--merging",
    multiple=True,
    metavar="MÃ_CQ",
    help="Cơ quan cũ sáp nhập vào cơ quan mới từ ngày --since (lặp lại được): các nhiệm vụ "
    "đang mở của nó chuyển sang. Cơ quan mới được mang tên của cơ quan cũ.",
)
@click.option(
    "--reason",
    default=None,
    metavar="LÝ_DO",
    help="Căn cứ sáp nhập (quyết định…), cùng --merging.",
)
@json_option
@click.pass_context
def agency_add(ctx, code, name, kind, since, merging, reason, as_json):
    """Đăng ký cơ quan mới (cả cơ quan hình thành do sáp nhập các cơ quan cũ)."""
    if merging:
        missing = [
            option
            for option, value in (("--since NGÀY", since), ('--reason "Quyết định …"', reason))
            if value is None
        ]
        if missing:
            raise click.UsageError(
                f"--merging cần thêm {' và '.join(missing)}: các cơ quan cũ sáp nhập vào cơ "
                "quan mới từ ngày thành lập của nó, theo một căn cứ."
            )
    elif reason is not None:
        raise click.UsageError("--reason chỉ dùng cùng --merging (căn cứ sáp nhập).")
    result = LedgerCommands(ctx).register_agency(code, name, kind, since, merging, reason)
    human, data = f"Đã đăng ký cơ quan {result.key}.", None
    if result.mergers:
        from workflow.dates import format_date

        human = "\n".join(
            [
                f"Đã đăng ký cơ quan {result.key}, thành lập từ ngày {format_date(since)} do "
                f"sáp nhập {len(result.mergers)} cơ quan:",
                *(f"  {m.code}: {_moved(m.moved)}" for m in result.mergers),
            ]
        )
        merged = [
            {"code": m.code, "event_id": m.events[0].event_id, "moved_tasks": list(m.moved)}
            for m in result.mergers
        ]
        data = {**result_json(result), "merged": merged}
    report_result(result, as_json, human, data)


def _moved(tasks: tuple[str, ...]) -> str:
    if not tasks:
        return "không có nhiệm vụ đang mở nào phải chuyển"
    return f"chuyển {len(tasks)} nhiệm vụ sang ({listed(list(tasks), more_of='nhiệm vụ')})"


@agency.command("rename")
@click.argument("code", metavar="MÃ_CQ")
@click.option("--name", required=True, metavar="TÊN", help="Tên mới.")
@click.option("--on", "on", type=DATE, default=None, help="Ngày đổi tên (mặc định: hôm nay).")
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
@click.option(
    "--on", "on", type=DATE, default=None, help="Người đứng đầu tại ngày này (mặc định: hôm nay)."
)
@json_option
@click.pass_context
def agency_list(ctx, on, as_json):
    """Danh sách cơ quan và người đứng đầu."""
    from application import queries
    from workflow.dates import format_date, from_iso

    app = get_app(ctx)
    with app.engine.connect() as connection:
        rows = queries.list_agencies(connection, on or app.today())
    columns = [
        ("code", "Mã"),
        ("name", "Tên cơ quan"),
        ("kind_label", "Loại"),
        *([("since", "Thành lập")] if any(r["since"] for r in rows) else []),
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
                    "since": format_date(from_iso(r["since"])),
                    "deputies": "; ".join(
                        f"{d['person']} ({d['field']})" for d in r["deputies_in_charge"]
                    ),
                }
                for r in rs
            ],
            columns,
            empty=(
                f"Ngày {format_date(on)} chưa có cơ quan nào trong sổ."
                if on
                else "Chưa có cơ quan nào trong sổ. Đăng ký cơ quan: `nhiemvu agency add`."
            ),
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

    app, code = get_app(ctx), code.strip()
    with app.engine.connect() as connection:
        rows = queries.agency_history(app.store, connection, code)
        # Not in --json: a list of this stream's events, whose places are the AGENCY#N
        # `correct` takes; rows of other streams there would shift what users index.
        mergers = [] if as_json else queries.agency_mergers(connection, code)
    output(rows, as_json, lambda rs: history_table(rs) + _mergers_table(code, mergers))


def _mergers_table(code: str, mergers: list[dict]) -> str:
    """The agencies merged into this one, whose mergers its own history does not hold."""
    from workflow.dates import format_date, from_iso
    from workflow.text import code as norm_code

    if not mergers:
        return ""
    code = norm_code(code)
    table = render_table(
        [
            {
                **m,
                "on": format_date(from_iso(m["on"])),
                "with_registration": "có" if m["with_registration"] else "không",
            }
            for m in mergers
        ],
        [
            ("code", "Mã"),
            ("name", "Tên cơ quan"),
            ("on", "Ngày sáp nhập"),
            ("with_registration", f"Ghi cùng việc đăng ký {code}"),
            ("event_id", "Mã sự kiện"),
        ],
    )
    return (
        f"\n\nCác cơ quan đã sáp nhập vào {code} (sự kiện sáp nhập nằm trong lịch sử của cơ "
        f"quan cũ, `nhiemvu agency history MÃ_CQ`):\n{table}"
    )


@click.group(cls=NhiemvuGroup)
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
            empty="Chưa có văn bản chỉ đạo nào trong sổ. Ghi văn bản: `nhiemvu directive add`.",
        ),
    )
