"""Stream ids: one stream per aggregate, named `<kind>:<key>`."""

from __future__ import annotations


def agency(code: str) -> str:
    return f"agency:{code}"


def directive(number: str) -> str:
    return f"directive:{number}"


def task(task_id: str) -> str:
    return f"task:{task_id}"


def document(number: str) -> str:
    return f"document:{number}"


def assessment(agency_code: str, year: int) -> str:
    return f"assessment:{agency_code}:{year}"


def rating(year: int) -> str:
    return f"rating:{year}"


def kind_of(stream_id: str) -> str:
    return stream_id.split(":", 1)[0]


def key_of(stream_id: str) -> str:
    return stream_id.split(":", 1)[1]
