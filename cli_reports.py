"""`nhiemvu report …`: the secretariat's monthly, quarterly and yearly figures."""

from __future__ import annotations

import click

from cli_app import get_app
from cli_support import (
    DATE,
    NhiemvuGroup,
    json_option,
    output,
    period_options,
    render_table,
    window,
    workbook_target,
    workbook_written,
    xlsx_options,
)


@click.group(cls=NhiemvuGroup)
def report():
    """Báo cáo định kỳ: tình hình thực hiện nhiệm vụ, văn bản nhắc nhở/phê bình."""


def _provisional(label: str, cutoff, end, today) -> str:
    """A period not over yet is counted up to today, and says so (see
    application.cutoffs.provisional)."""
    from application.cutoffs import provisional
    from workflow.dates import format_date

    if not provisional(cutoff, end, today):
        return label
    return f"{label} (tạm tính đến ngày {format_date(cutoff)})"


@report.command("tasks")
@period_options
@click.option("--as-of", type=DATE, default=None, help="Mọi nhiệm vụ giao đến ngày này.")
@click.option("--agency", default=None, metavar="MÃ_CQ", help="Chỉ cơ quan này.")
@json_option
@xlsx_options
@click.pass_context
def report_tasks(
    ctx, year, quarter, month, date_from, date_to, as_of, agency, as_json, xlsx_path, replace
):
    """Số nhiệm vụ theo trạng thái tại ngày chốt, tỷ lệ quá hạn, theo cơ quan và tổng."""
    from application import reporting
    from application.cutoffs import check_not_future, period_cutoff
    from workflow.dates import format_date
    from workflow.reports import Period, period_label

    chosen = window(year, quarter, month, date_from, date_to, allow_none=as_of is not None)
    if chosen and as_of:
        raise click.UsageError("--as-of không đi cùng một kỳ báo cáo.")
    keep = workbook_target(ctx, xlsx_path, replace)
    app = get_app(ctx)
    if chosen is None:
        check_not_future(as_of, app.today())
        period = Period(None, as_of, f"tính đến ngày {format_date(as_of)}")
    else:
        kind, start, end = chosen
        label = period_label(kind, start, end)
        cutoff = period_cutoff(start, end, label, None, app.today())
        period = Period(start, cutoff, _provisional(label, cutoff, end, app.today()))
    with app.engine.connect() as connection:
        data = reporting.task_report(connection, period, agency)
    rows = data["agencies"] + [{"agency": "TỔNG CỘNG", **data["total"]}]
    # The day statuses are counted on, unless the period's label names it already
    # ("tính đến ngày …", "tạm tính đến ngày …").
    cut_off = format_date(period.end)
    state_on = "" if cut_off in data["period"] else f", trạng thái tại ngày {cut_off}"
    if xlsx_path:
        from application.xlsx import Sheet, write_workbook

        write_workbook(
            xlsx_path,
            [
                Sheet(
                    "Nhiệm vụ",
                    reporting.TASK_REPORT_XLSX_COLUMNS,
                    rows,
                    notes=[f"Tình hình thực hiện nhiệm vụ {data['period']}{state_on}"],
                )
            ],
            keep,
        )
    output(
        data,
        as_json,
        lambda d: (
            f"TÌNH HÌNH THỰC HIỆN NHIỆM VỤ {d['period'].upper()}"
            + (f" ({state_on[2:]})" if state_on else "")
            + "\n"
            + render_table(rows, reporting.TASK_REPORT_COLUMNS)
        ),
    )
    workbook_written(xlsx_path, as_json)


@report.command("reprimands")
@period_options
@json_option
@xlsx_options
@click.pass_context
def report_reprimands(ctx, year, quarter, month, date_from, date_to, as_json, xlsx_path, replace):
    """Số văn bản nhắc nhở, rút kinh nghiệm, phê bình, biểu dương và số đơn vị, cá nhân."""
    from application import reporting
    from application.cutoffs import period_cutoff
    from workflow.dates import format_date, from_iso
    from workflow.documents import KIND_LABELS
    from workflow.reports import REPRIMAND_GROUPS, period_label

    kind, start, end = window(year, quarter, month, date_from, date_to)
    keep = workbook_target(ctx, xlsx_path, replace)
    app = get_app(ctx)
    label = period_label(kind, start, end)
    cutoff = period_cutoff(start, end, label, None, app.today())
    with app.engine.connect() as connection:
        data = reporting.reprimand_report(
            connection, start, cutoff, _provisional(label, cutoff, end, app.today())
        )
        names = reporting.agency_names(connection, cutoff) if xlsx_path else {}
    docs = [
        {**doc, "group": group} for group in REPRIMAND_GROUPS for doc in data[f"{group}_documents"]
    ]
    columns = [
        ("number", "Số văn bản"),
        ("kind_label", "Loại"),
        ("issued_on", "Ngày"),
        ("targets_text", "Nơi nhận"),
    ]
    doc_rows = [
        {**d, "kind_label": KIND_LABELS[d["kind"]], "targets_text": _targets_text(d["targets"])}
        for d in docs
    ]
    if xlsx_path:
        from application.xlsx import Sheet, write_workbook

        named = [{**r, "targets_text": _targets_text(r["targets"], names)} for r in doc_rows]

        summary = [
            {"group": label, "docs": data[f"{g}_docs"], "targets": data[f"{g}_targets"]}
            for g, label in REPRIMAND_GROUPS.items()
        ]
        write_workbook(
            xlsx_path,
            [
                Sheet(
                    "Tổng hợp",
                    [("group", "Nhóm"), ("docs", "Số văn bản"), ("targets", "Số đơn vị, cá nhân")],
                    summary,
                    notes=[data["sentence"]],
                ),
                Sheet("Văn bản", columns, named, date_keys=frozenset({"issued_on"})),
            ],
            keep,
        )
    text_rows = [{**r, "issued_on": format_date(from_iso(r["issued_on"]))} for r in doc_rows]
    # The id `nhiemvu correct` takes, for a document recorded by mistake; not in the
    # workbook, which is the report people read.
    text_columns = [*columns, ("event_id", "Mã sự kiện")]
    # With no document, the sentence says so: no headings over nothing.
    table = "\n\n" + render_table(text_rows, text_columns) if text_rows else ""
    output(data, as_json, lambda d: d["sentence"] + table)
    workbook_written(xlsx_path, as_json)


def _targets_text(targets, names: dict[str, str] | None = None) -> str:
    """Who a document reached; with `names`, each agency by its name too (a workbook)."""
    parts = []
    for target in targets:
        code = target.get("agency")
        agency = f"{code} ({names[code]})" if code and names and code in names else code
        who = " ".join(x for x in (agency, target.get("person")) if x)
        parts.append(who + (" (kéo theo)" if target.get("cascaded") else ""))
    return "; ".join(parts)
