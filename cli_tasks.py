"""`nhiemvu task …`: a task's life, from its assignment to its completion, and what is
known of it."""

from __future__ import annotations

import click

from cli_app import LedgerCommands, get_app, report_result, stored_key
from cli_support import (
    AT_LEAST_ONE,
    DATE,
    STATUS,
    NhiemvuGroup,
    echo_table,
    emit_json,
    emit_json_rows,
    history_table,
    json_option,
    output,
    period_options,
    warn,
    window,
)
from workflow.text import clipped, display_width


@click.group(cls=NhiemvuGroup)
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
    "--lead",
    "leads",
    multiple=True,
    required=True,
    metavar="MÃ_CQ",
    help="Cơ quan chủ trì mới (lặp lại được).",
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


# How long `task list` may wait for its reader on PostgreSQL (events.database.read_snapshot).
LIST_IDLE_LIMIT_S = 600


# The table of `task list`, written as it is read: its columns as wide as their widest
# cell among the first rows (echo_table), and in a longer list at least these widths —
# an id up to NV-100000 and beyond, a directive number as the city writes them (both
# widened to the longest the ledger holds, in _task_columns), a clause as the
# directives number them (III.1.2, II.3.a), a title clipped to 60 columns, leads
# clipped to 25; 0: the heading's (the status column at least as wide as the widest
# label, in _task_columns).
TASK_COLUMNS = [
    ("id", "Mã", 9),
    ("directive", "Văn bản", 12),
    ("clause", "Mục", 8),
    ("title", "Nội dung", 60),
    ("leads", "Chủ trì", 25),
    ("deadline", "Thời hạn", 10),
    ("status_label", "Trạng thái", 0),
    ("days_overdue", "Số ngày quá hạn", 0),
]


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
@period_options
@click.option(
    "--limit",
    type=AT_LEAST_ONE,
    default=None,
    metavar="N",
    help="Chỉ N nhiệm vụ đầu tiên (theo ngày giao).",
)
@click.option(
    "--as-of", type=DATE, default=None, help="Trạng thái tại ngày này (mặc định: hôm nay)."
)
@json_option
@click.pass_context
def task_list(
    ctx, agency, directive, status, words, year, quarter, month, date_from, date_to, limit,
    as_of, as_json,
):  # fmt: skip
    """Danh sách nhiệm vụ với trạng thái tại một ngày, theo thứ tự ngày giao.

    \b
    Kỳ (--year, --quarter, --month, hoặc --from và --to): chỉ nhiệm vụ được giao
    trong kỳ đó.

    \b
    Ví dụ:
      nhiemvu task list --agency SXD --status overdue
      nhiemvu task list --quarter 2023Q2 --search "quy hoạch" --limit 20
    """
    from contextlib import closing

    from application import task_list as listing
    from events.database import read_snapshot

    period = window(year, quarter, month, date_from, date_to, allow_none=True)
    assigned_from, assigned_to = (None, None) if period is None else period[1:]
    app = get_app(ctx)
    as_of = _status_day(as_of, app.today())
    warnings: list[str] = []
    # One snapshot: the list is read in batches, each a statement of its own.
    with read_snapshot(app.engine, idle_limit_s=LIST_IDLE_LIMIT_S) as connection:
        rows = listing.list_tasks(
            connection,
            as_of,
            agency=agency,
            status=status,
            directive=directive,
            words=words,
            assigned_from=assigned_from,
            assigned_to=assigned_to,
            limit=limit,
            warnings=warnings,
        )
        warn(warnings)
        # Closed here, should the output fail (`| head`), while its connection is open.
        with closing(rows):
            if as_json:
                emit_json_rows(rows)
            else:
                chosen = agency or directive or status or words or period
                empty = _no_task(bool(chosen), as_of if as_of < app.today() else None)
                columns = _task_columns(listing.widest_keys(connection))
                echo_table(_table_rows(rows), columns, empty=empty)


def _no_task(chosen: bool, past_day) -> str:
    """What an empty list says: a past `--as-of` may be before the first task."""
    from workflow.dates import format_date

    if chosen:
        return "Không có nhiệm vụ nào khớp điều kiện đã chọn."
    if past_day is not None:
        return f"Ngày {format_date(past_day)} chưa có nhiệm vụ nào được giao."
    return "Chưa có nhiệm vụ nào trong sổ. Giao nhiệm vụ: `nhiemvu task assign`."


def _table_rows(rows):
    from workflow.dates import format_date, from_iso

    for row in rows:
        yield {
            **row,
            "leads": clipped(", ".join(row["leads"]), 25),
            "deadline": format_date(from_iso(row["deadline"])),
            "title": clipped(row["title"], 60),
        }


def _task_columns(widest: dict[str, int]) -> list[tuple[str, str, int]]:
    """TASK_COLUMNS, the keys as wide as the longest the ledger holds (`widest`)."""
    from workflow.tasks import STATUS_LABELS

    widest = {**widest, "status_label": max(map(display_width, STATUS_LABELS.values()))}
    return [(k, h, max(w, widest.get(k, 0))) for k, h, w in TASK_COLUMNS]


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
    output(rows, as_json, history_table)
