"""Read side of the periodic reports: gathers tasks and documents, calls the domain."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from events.memory import collector_paused
from workflow import reports
from workflow.tasks import STATUS_LABELS, STATUSES
from workflow.text import code as norm_code

from . import loading
from . import tables as t


def documents(
    connection: Connection, until: date | None = None, since: date | None = None
) -> list[dict]:
    """The documents issued in the range, each with the id of its event (what
    `nhiemvu correct` takes to retract one)."""
    documents = t.documents.c
    query = sa.select(documents.data, documents.event_id).order_by(
        documents.issued_on, documents.number
    )
    if until is not None:
        query = query.where(documents.issued_on <= until)
    if since is not None:
        query = query.where(documents.issued_on >= since)
    return [{**data, "event_id": event_id} for data, event_id in connection.execute(query)]


@collector_paused()  # a city's tasks as objects: nothing cyclic to collect, see events.memory
def task_report(connection: Connection, period: reports.Period, agency: str | None = None) -> dict:
    if agency is not None:
        agency = norm_code(agency)
        # As of a day (no start): every task it led up to then — none before it opened.
        loading.load_agency(connection, agency).check_stands_in(
            period.start, period.end, "số liệu nhiệm vụ"
        )
    # The period's tasks are those assigned in it and those still open when it
    # began; anything settled before it began is neither.
    tasks = loading.task_states(connection, period.end, active_since=period.start, agency=agency)
    report = reports.task_report(tasks, period, agency)
    names = agency_names(connection, period.end)
    for row in report["agencies"]:
        row["name"] = names.get(row["agency"])
    return report


def agency_names(connection: Connection, on: date) -> dict[str, str]:
    """Each agency's name as it was `on` (a report names agencies as of its cut-off)."""
    return {code: agency.name_on(on) for code, agency in loading.load_agencies(connection).items()}


def reprimand_report(connection: Connection, start: date, end: date, label: str) -> dict:
    return reports.reprimand_report(documents(connection, end, start), start, end, label)


TASK_REPORT_COLUMNS = (
    [("agency", "Cơ quan chủ trì"), ("total", "Tổng số (trừ đã hủy)")]
    + [(s, STATUS_LABELS[s]) for s in STATUSES]
    + [
        ("overdue_rate_all", "Tỷ lệ quá hạn / tổng số (%)"),
        ("overdue_rate_with_deadline", "Tỷ lệ quá hạn / số có thời hạn (%)"),
    ]
)

# The workbook has room for the names the terminal's table leaves out.
TASK_REPORT_XLSX_COLUMNS = [
    TASK_REPORT_COLUMNS[0],
    ("name", "Tên cơ quan"),
    *TASK_REPORT_COLUMNS[1:],
]
