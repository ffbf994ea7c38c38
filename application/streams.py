"""Stream ids: one stream per aggregate, named `<kind>:<key>`."""

from __future__ import annotations


def agency(code: str) -> str:
    return f"agency:{code}"


def directive(number: str) -> str:
    # Document numbers are matched case-insensitively: "129/tb-ubnd" is 129/TB-UBND.
    return f"directive:{number.upper()}"


def task(task_id: str) -> str:
    return f"task:{task_id.upper()}"


def document(number: str) -> str:
    return f"document:{number.upper()}"


def assessment(agency_code: str, year: int) -> str:
    return f"assessment:{agency_code}:{year}"


def rating(year: int) -> str:
    return f"rating:{year}"


def kind_of(stream_id: str) -> str:
    return stream_id.split(":", 1)[0]


def key_of(stream_id: str) -> str:
    return stream_id.split(":", 1)[1]


# The projection of tasks, agencies and directives (application.projection).
LEDGER_PROJECTION = "ledger"
