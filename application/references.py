"""What still refers to an agency or a directive, read from the projection tables.

Retracting a registration while something refers to what it registered would
leave those records pointing at nothing; `Ledger.correct` asks these first.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any

from events.serialization import canonical_json
from events.sql import Raw, loads
from workflow.agencies import derive_agency
from workflow.documents import PHE_BINH
from workflow.errors import DomainError
from workflow.text import fold

# Task ids as people read them (workflow.text.id_order): NV-99949 before NV-100000.
_ID_ORDER = "length(task_id), task_id"


def tasks_of_directive(raw: Raw, number: str) -> list[str]:
    """The tasks (not retracted) given by the directive registered as `number`."""
    rows = raw.all(
        f"SELECT task_id FROM proj_tasks WHERE directive = :number ORDER BY {_ID_ORDER}",
        {"number": number},
    )
    return [task_id for (task_id,) in rows]


def caused_by(raw: Raw, event_id: str) -> list[tuple[str, str]]:
    """(event id, stream id) of the events recorded as caused by `event_id` (the task
    moves of a merger), in log order. No index answers it: `correct` alone asks."""
    rows = raw.all(
        "SELECT event_id, stream_id FROM events WHERE causation_id = :id ORDER BY position",
        {"id": event_id},
    )
    return [(row[0], row[1]) for row in rows]


def agency_references(raw: Raw, code: str) -> dict[str, list[str]]:
    """What names the agency `code`, by kind: tasks it leads or led, or coordinates;
    documents addressed to it or its head; assessments of it; finalised ratings that
    rate its head; agencies merged into it."""
    return {
        "tasks": tasks_naming(raw, code),
        "documents": _documents_with(raw, code, lambda target: target.get("agency") == code),
        "assessments": [
            f"năm {year} ({criterion})"
            for year, criterion in raw.all(
                "SELECT year, criterion FROM proj_assessments WHERE agency = :code "
                "ORDER BY year, criterion",
                {"code": code},
            )
        ],
        "ratings": [
            f"năm {year}, lần {revision}"
            for (year, revision), data in _naming(
                raw, "proj_ratings", "year, revision", "data", code
            )
            if any(row.get("agency") == code for row in data.get("ratings", []))
        ],
        "agencies": merged_into(raw, code),
    }


def tasks_naming(raw: Raw, code: str) -> list[str]:
    """The tasks `code` leads or led, or coordinates, in the order of their ids."""
    return [
        task_id
        for task_id, facts in _naming(raw, "proj_tasks", "task_id", "facts", code, _ID_ORDER)
        if any(code in _agencies_of_task_fact(fact) for fact in facts)
    ]


def merged_into(raw: Raw, code: str) -> list[str]:
    """The agencies merged into `code`."""
    return [
        other
        for other, facts in _naming(raw, "proj_agencies", "code", "facts", code)
        if _merged_into(facts) == code
    ]


def documents_reaching(raw: Raw, code: str, person: str) -> list[str]:
    """The documents (numbers) that reached `person` as head or deputy of `code`."""
    return _documents_with(raw, code, _addressed(code, ("head", "deputy"), person, True))


def documents_to_another_head(raw: Raw, code: str, since: date, person: str) -> list[str]:
    """The documents (numbers) addressed to the head of `code` on or after `since` that
    name someone other than `person`: appointed from `since`, `person` would be the
    head they count for, though they name another."""
    return _documents_with(raw, code, _addressed(code, ("head",), person, False), since)


def criticisms_of_head(raw: Raw, code: str, since: date) -> list[tuple[str, dict[str, Any]]]:
    """(number, data) of the phê bình documents addressed to the head of `code` and
    issued on or after `since`."""
    first = since.isoformat()  # ISO dates compare as text
    return [
        (number, data)
        for number, data in _naming(raw, "proj_documents", "number", "data", code)
        if data["kind"] == PHE_BINH
        and data["issued_on"] >= first
        and any(t.get("agency") == code and t["kind"] == "head" for t in data["targets"])
    ]


def _addressed(code: str, roles: tuple[str, ...], person: str, named: bool):
    """Whether a document's target is `code`'s head or deputy (`roles`) by the name of
    `person` (`named`), or by another name (not `named`)."""
    wanted = person.casefold()
    return lambda target: (
        target.get("agency") == code
        and target.get("kind") in roles
        and ((target.get("person") or "").casefold() == wanted) == named
    )


def check_name_free(
    raw: Raw, name: str, on: date | None, code: str, closing: Collection[str] = ()
) -> None:
    """Two agencies open at once do not bear one name: the Excel importer, the reports
    and people tell agencies apart by it (`on`: a rename's date; None: today's names).
    `code`: the agency that would bear it; `closing`: agencies merged into it the day
    it opens, which the same command closes."""
    wanted = fold(name)
    for other_code, facts in raw.all("SELECT code, CAST(facts AS text) FROM proj_agencies"):
        mine = other_code == code or other_code in closing
        other = None if mine else derive_agency(loads(facts))
        if other is None or (other.closed_on is not None and (on is None or other.closed_on <= on)):
            continue
        if wanted in {fold(borne) for borne in _names_from(other, on)}:
            raise DomainError(
                f"'{name}' là tên của cơ quan {other_code}: hai cơ quan không mang cùng một "
                f"tên (sổ Excel và các báo cáo nhận cơ quan theo tên). Kiểm tra lại tên, hoặc "
                f"đổi tên {other_code} trước (`nhiemvu agency rename {other_code}`)."
            )


def _names_from(agency, on: date | None) -> list[str]:
    """The names `agency` bears on `on` (None: today) or on a later day it is open: a
    name taken from `on` on must not be one it will bear then (renames recorded out of
    each other's date order)."""
    if on is None:
        return [agency.name]
    later = [
        n.name
        for n in agency.names
        if n.start is not None
        and n.start > on
        and (agency.closed_on is None or n.start < agency.closed_on)
    ]
    return [agency.name_on(on), *later]


def documents_from(raw: Raw, code: str, day: date) -> list[str]:
    """The documents (numbers) addressed to `code` or its people, issued on `day` or
    after."""
    since = day.isoformat()
    return [
        number
        for number, data in _naming(raw, "proj_documents", "number", "data", code)
        if data["issued_on"] >= since
        and any(target.get("agency") == code for target in data.get("targets", []))
    ]


def _documents_with(raw: Raw, code: str, reaches, since: date | None = None) -> list[str]:
    """The numbers of the documents naming `code` one of whose targets `reaches` (and
    issued on or after `since`, if given)."""
    first = "" if since is None else since.isoformat()  # ISO dates compare as text
    return [
        number
        for number, data in _naming(raw, "proj_documents", "number", "data", code)
        if data["issued_on"] >= first and any(reaches(t) for t in data.get("targets", []))
    ]


def _agencies_of_task_fact(fact: dict[str, Any]) -> list[str]:
    data = fact["data"]
    if fact["type"] == "task.assigned":
        return [*data["leads"], *data.get("coordinators", [])]
    if fact["type"] == "task.reassigned":
        return [*data["from"], *data["to"]]
    return []


def _merged_into(facts: list[dict[str, Any]]) -> str | None:
    agency = derive_agency(facts)
    return None if agency is None else agency.merged_into


def _naming(
    raw: Raw, table: str, keys: str, column: str, code: str, order: str | None = None
) -> list[tuple[Any, Any]]:
    """(key, parsed JSON) of the rows whose JSON `column` holds the string `code`: a
    text search first (as the projection writes JSON, canonical), then the caller
    looks at the fields themselves. Several key columns come back as a tuple. In the
    order of `keys`, or of `order`."""
    pattern = "%" + _like_escaped(canonical_json(code)) + "%"
    rows = raw.all(
        f"SELECT {keys}, CAST({column} AS text) FROM {table} "
        f"WHERE CAST({column} AS text) LIKE :pattern ESCAPE '!' ORDER BY {order or keys}",
        {"pattern": pattern},
    )
    return [(row[0] if len(row) == 2 else tuple(row[:-1]), loads(row[-1])) for row in rows]


def _like_escaped(text: str) -> str:
    return text.replace("!", "!!").replace("%", "!%").replace("_", "!_")
