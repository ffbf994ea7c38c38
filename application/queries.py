"""Read side: what the CLI shows, as JSON-ready dictionaries (ISO dates, English keys)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from events.schema import events as event_rows
from events.store import EventStore, RecordedEvent
from workflow import history
from workflow.agencies import DISSOLVED, KINDS, MERGED, REGISTERED, Agency, derive_agency
from workflow.dates import LOCAL_TZ, end_of_day, format_date, iso
from workflow.errors import DomainError, NotFound
from workflow.tasks import derive_task
from workflow.text import code as norm_code

from . import loading, streams, task_list
from . import tables as t
from .task_reads import not_yet_assigned, task_to_dict


def facts_from_events(events: list[RecordedEvent]) -> list[dict[str, Any]]:
    """The same retained facts the projection keeps, from raw stream events."""
    retracted = {e.data["event_id"] for e in events if e.type == "event.retracted"}
    return [
        {"id": e.event_id, "type": e.type, "data": e.data}
        for e in events
        if e.type != "event.retracted" and e.event_id not in retracted
    ]


def show_task(
    connection: Connection,
    store: EventStore,
    task_id: str,
    as_of: date,
    known_at: datetime | None = None,
) -> dict[str, Any]:
    task_id = norm_code(task_id)
    if known_at is None:
        return task_to_dict(loading.load_task(connection, task_id, as_of), as_of)
    facts = _facts_known_at(connection, store, task_id, known_at)
    task = derive_task(facts, as_of)
    if task is None:
        raise not_yet_assigned(derive_task(facts), task_id, as_of)
    return task_to_dict(task, as_of)


def _facts_known_at(
    connection: Connection, store: EventStore, task_id: str, known_at: datetime
) -> list[dict[str, Any]]:
    """The task's facts as the log knew them at `known_at`: none is an error, which
    says when the task was recorded if that was later."""
    stream_id = streams.task(task_id)
    stream = store.read_stream(stream_id, known_at=known_at, connection=connection)
    if stream:
        return facts_from_events(stream) + _documents_naming(connection, store, task_id, known_at)
    recorded = store.read_stream(stream_id, connection=connection)
    if not recorded:
        loading.task_facts(connection, task_id)  # NotFound, with suggestions
        raise NotFound("nhiệm vụ", task_id)
    first = recorded[0].recorded_at.astimezone(LOCAL_TZ).date()
    asked = known_at.astimezone(LOCAL_TZ).date()
    raise DomainError(
        f"Nhiệm vụ {task_id} được ghi vào sổ ngày {format_date(first)}, sau ngày "
        f"{format_date(asked)} được hỏi (--known-at): khi đó sổ chưa có nhiệm vụ này. Hãy "
        f"hỏi một ngày từ {format_date(first)} trở đi."
    )


def _documents_naming(
    connection: Connection, store: EventStore, task_id: str, known_at: datetime
) -> list[dict[str, Any]]:
    """Documents naming the task that were recorded, and not yet retracted, by `known_at`."""
    events = store.read_streams_of_kind("document", known_at, connection)
    return [
        fact
        for fact in facts_from_events(events)
        if fact["type"] == "document.issued" and task_id in fact["data"].get("tasks", [])
    ]


def list_tasks(connection: Connection, as_of: date, **filters: Any) -> list[dict[str, Any]]:
    """Every row of `task_list.list_tasks` (its filters, `warnings` too), in a list."""
    return list(task_list.list_tasks(connection, as_of, **filters))


def task_history(store: EventStore, connection: Connection, task_id: str) -> list[dict[str, Any]]:
    # Read the log itself: a task whose assignment was retracted has no
    # projection row, but its history (the retracted original included) remains.
    stream = store.read_stream(streams.task(norm_code(task_id)), connection=connection)
    if not stream:
        loading.task_facts(connection, task_id)  # NotFound, with suggestions
    return _history(stream)


def agency_history(store: EventStore, connection: Connection, code: str) -> list[dict[str, Any]]:
    """Every event of an agency's stream, as `task_history` gives a task's: the ids
    `nhiemvu correct` takes (a merger, an appointment recorded by mistake)."""
    code = norm_code(code)
    stream = store.read_stream(streams.agency(code), connection=connection)
    if not stream:
        loading.load_agency(connection, code)  # NotFound, with suggestions
    return _history(stream)


def agency_mergers(connection: Connection, code: str) -> list[dict[str, Any]]:
    """The agencies merged into `code` (`agency dissolve OLD --into CODE`, or `agency add
    CODE --merging OLD`), in date order: each merger is an event of the old agency's
    stream, not of this one's history. With the merger's id (`correct` takes it) and
    whether it was recorded with this agency's registration."""
    code = norm_code(code)
    merged, registrations = [], set()
    for other, facts in connection.execute(sa.select(t.agencies.c.code, t.agencies.c.facts)):
        if other == code:
            registrations = {f["id"] for f in facts if f["type"] == REGISTERED}
        agency = derive_agency(facts)
        if agency is not None and agency.merged_into == code:
            # The retained facts: a merger retracted is none, the last one stands.
            merger = [f for f in facts if f["type"] in (MERGED, DISSOLVED)][-1]
            merged.append((agency, merger["id"]))
    causes = dict(
        connection.execute(
            sa.select(event_rows.c.event_id, event_rows.c.causation_id).where(
                event_rows.c.event_id.in_([event_id for _, event_id in merged])
            )
        ).all()
    )
    return [
        {
            "code": agency.code,
            "name": agency.name,
            "on": iso(agency.closed_on),
            "event_id": event_id,
            "with_registration": causes.get(event_id) in registrations,
        }
        for agency, event_id in sorted(merged, key=lambda m: (m[0].closed_on, m[0].code))
    ]


def _history(stream) -> list[dict[str, Any]]:
    retracted = {e.data["event_id"]: e for e in stream if e.type == "event.retracted"}
    versions = {e.event_id: e.stream_version for e in stream}
    return [
        {
            "id": e.event_id,
            "position": e.position,
            "version": e.stream_version,
            "type": e.type,
            "label": history.label(e.type),
            "on": iso(history.business_date(e.type, e.data)),
            "summary": history.summary(e.type, e.data, versions.get),
            "occurred_at": e.occurred_at.isoformat(),
            "recorded_at": e.recorded_at.isoformat(),
            "actor": e.actor,
            "data": e.data,
            "retracted": e.event_id in retracted,
            "retracted_by": retracted[e.event_id].event_id if e.event_id in retracted else None,
        }
        for e in stream
    ]


def agency_to_dict(agency: Agency, on: date) -> dict[str, Any]:
    return {
        "code": agency.code,
        "name": agency.name_on(on),
        "names": [{"name": n.name, "from": iso(n.start)} for n in agency.names],
        "kind": agency.kind,
        "kind_label": KINDS.get(agency.kind, agency.kind),
        "since": iso(agency.since),  # None: registered without its establishment date
        "head": agency.head_on(on),
        "heads": [
            {"person": h.person, "from": iso(h.start), "to": iso(h.end)} for h in agency.heads
        ],
        "deputies_in_charge": [
            {"person": d.person, "field": d.field} for d in agency.deputies_on(on)
        ],
        "deputies": [
            {"person": d.person, "field": d.field, "from": iso(d.start), "to": iso(d.end)}
            for d in agency.deputies
        ],
        "closed_on": iso(agency.closed_on),
        "merged_into": agency.merged_into,
        # Closed by `on`: "sáp nhập vào STC từ ngày 01/07/2023", "giải thể từ ngày …".
        "closure": agency.closure() if agency.closed_on and agency.closed_on <= on else None,
    }


def list_agencies(connection: Connection, on: date) -> list[dict[str, Any]]:
    """The agencies established by `on`: those closed by then too, with their closure."""
    agencies = loading.load_agencies(connection)
    opened = sorted(code for code, agency in agencies.items() if agency.opened_by(on))
    return [agency_to_dict(agencies[code], on) for code in opened]


def list_directives(connection: Connection) -> list[dict[str, Any]]:
    counts = dict(
        connection.execute(
            sa.select(t.tasks.c.directive, sa.func.count()).group_by(t.tasks.c.directive)
        ).all()
    )
    # The number settles the order of a day's directives: without it, the order in
    # which the table happened to hold them (it changes when a rebuild rewrites it).
    query = sa.select(t.directives).order_by(t.directives.c.issued_on, t.directives.c.number)
    rows = connection.execute(query).all()
    registered = _registrations(connection, [row.number for row in rows])
    return [
        {
            "number": row.number,
            "issued_on": iso(row.issued_on),
            "kind": row.kind,
            "issuer": row.issuer,
            "title": row.title,
            "tasks": counts.get(row.number, 0),
            "event_id": registered.get(streams.directive(row.number)),
        }
        for row in rows
    ]


def _registrations(connection: Connection, numbers: list[str]) -> dict[str, str]:
    """The id of each directive's registration (`nhiemvu correct` takes it), by stream:
    its stream's last one, as a number is registered again only once the registration
    before it is retracted. Read through the stream index, 500 streams a statement."""
    wanted = [streams.directive(number) for number in numbers]
    last: dict[str, tuple[int, str]] = {}
    for start in range(0, len(wanted), 500):
        query = sa.select(
            event_rows.c.stream_id, event_rows.c.stream_version, event_rows.c.event_id
        ).where(
            event_rows.c.stream_id.in_(wanted[start : start + 500]),
            event_rows.c.event_type == "directive.registered",
        )
        for stream_id, version, event_id in connection.execute(query):
            if version > last.get(stream_id, (0, ""))[0]:
                last[stream_id] = (version, event_id)
    return {stream_id: event_id for stream_id, (_, event_id) in last.items()}


def as_of_instant(on: date) -> datetime:
    return end_of_day(on)
