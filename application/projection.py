"""The ledger projection: agencies, directives, tasks, documents, assessments, ratings.

It runs inside the command's transaction (incremental) and from the log
(`nhiemvu projections rebuild`); both paths go through `apply`, so they cannot
disagree. Within one `apply` call, fact lists are cached and written once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from events.store import RecordedEvent

from . import streams
from . import tables as t

RETRACTED = "event.retracted"


def _fact(event: RecordedEvent) -> dict[str, Any]:
    return {"id": event.event_id, "type": event.type, "data": event.data}


class _FactCache:
    """Fact lists of one table keyed by primary key, loaded lazily, flushed once."""

    def __init__(self, connection: Connection, table: sa.Table, key_column: str) -> None:
        self.connection = connection
        self.table = table
        self.key_column = table.c[key_column]
        self.loaded: dict[str, list[dict[str, Any]] | None] = {}
        self.original: dict[str, list[dict[str, Any]] | None] = {}
        self.dirty: set[str] = set()

    def get(self, key: str) -> list[dict[str, Any]] | None:
        if key not in self.loaded:
            self.loaded[key] = self.original[key] = self.connection.execute(
                sa.select(self.table.c.facts).where(self.key_column == key)
            ).scalar()
        return self.loaded[key]

    def put(self, key: str, facts: list[dict[str, Any]]) -> None:
        if key not in self.loaded:
            self.get(key)
        self.loaded[key] = facts
        self.dirty.add(key)

    def exists_in_db(self, key: str) -> bool:
        return (
            self.connection.execute(sa.select(sa.literal(1)).where(self.key_column == key)).first()
            is not None
        )


class LedgerProjection:
    name = "ledger"

    def reset(self, connection: Connection) -> None:
        for table in t.PROJECTION_TABLES:
            connection.execute(table.delete())

    def apply(self, connection: Connection, events: Sequence[RecordedEvent]) -> None:
        tasks = _FactCache(connection, t.tasks, "task_id")
        agencies = _FactCache(connection, t.agencies, "code")
        for event in events:
            kind = streams.kind_of(event.stream_id)
            key = streams.key_of(event.stream_id)
            if kind == "task":
                self._task_event(tasks, key, event)
            elif kind == "agency":
                self._agency_event(agencies, key, event)
            elif kind == "directive":
                self._directive_event(connection, key, event)
            elif kind == "document":
                self._document_event(connection, tasks, key, event)
            elif kind == "assessment":
                self._assessment_event(connection, event)
            elif kind == "rating":
                self._rating_event(connection, key, event)
        self._flush_tasks(tasks)
        self._flush_agencies(agencies)

    # -- tasks --------------------------------------------------------------

    def _task_event(self, cache: _FactCache, task_id: str, event: RecordedEvent) -> None:
        facts = list(cache.get(task_id) or [])
        if event.type == RETRACTED:
            facts = [f for f in facts if f["id"] != event.data["event_id"]]
        else:
            facts.append(_fact(event))
        cache.put(task_id, facts)

    def _flush_tasks(self, cache: _FactCache) -> None:
        connection = cache.connection
        for task_id in cache.dirty:
            facts = cache.loaded[task_id]
            assignment = next((f for f in facts if f["type"] == "task.assigned"), None)
            if _same_row(cache.original[task_id], facts, assignment):
                # The common case (progress, completion…): only the facts change.
                connection.execute(
                    t.tasks.update().where(t.tasks.c.task_id == task_id).values(facts=facts)
                )
                continue
            connection.execute(t.tasks.delete().where(t.tasks.c.task_id == task_id))
            connection.execute(t.task_leads.delete().where(t.task_leads.c.task_id == task_id))
            if assignment is None:
                continue  # the assignment was retracted: the task no longer exists
            data = assignment["data"]
            connection.execute(
                t.tasks.insert().values(
                    task_id=task_id,
                    directive=data["directive"],
                    assigned_on=date.fromisoformat(data["assigned_on"]),
                    facts=facts,
                )
            )
            leads = _all_leads(facts)
            if leads:
                connection.execute(
                    t.task_leads.insert(), [{"task_id": task_id, "agency": a} for a in leads]
                )

    # -- agencies -----------------------------------------------------------

    def _agency_event(self, cache: _FactCache, code: str, event: RecordedEvent) -> None:
        facts = list(cache.get(code) or [])
        if event.type == RETRACTED:
            facts = [f for f in facts if f["id"] != event.data["event_id"]]
        else:
            facts.append(_fact(event))
        cache.put(code, facts)

    def _flush_agencies(self, cache: _FactCache) -> None:
        connection = cache.connection
        for code in cache.dirty:
            facts = cache.loaded[code]
            connection.execute(t.agencies.delete().where(t.agencies.c.code == code))
            if any(f["type"] == "agency.registered" for f in facts):
                connection.execute(t.agencies.insert().values(code=code, facts=facts))

    # -- the rest ---------------------------------------------------------------

    def _directive_event(self, connection: Connection, key: str, event: RecordedEvent):
        if event.type == RETRACTED:
            numbers = connection.execute(sa.select(t.directives.c.number)).scalars()
            retracted = [n for n in numbers if n.upper() == key]
            connection.execute(t.directives.delete().where(t.directives.c.number.in_(retracted)))
            return
        data = event.data
        connection.execute(
            t.directives.insert().values(
                number=data["number"],
                issued_on=date.fromisoformat(data["issued_on"]),
                kind=data.get("kind"),
                issuer=data.get("issuer"),
                title=data["title"],
            )
        )

    def _document_event(self, connection, tasks: _FactCache, key: str, event):
        if event.type == RETRACTED:
            issued = t.documents.c.event_id == event.data["event_id"]
            row = connection.execute(sa.select(t.documents.c.data).where(issued)).scalar()
            connection.execute(t.documents.delete().where(issued))
            for task_id in (row or {}).get("tasks", []):
                facts = tasks.get(task_id) or []
                tasks.put(task_id, [f for f in facts if f["id"] != event.data["event_id"]])
            return
        data = event.data
        connection.execute(
            t.documents.insert().values(
                number=data["number"],
                event_id=event.event_id,
                kind=data["kind"],
                issued_on=date.fromisoformat(data["issued_on"]),
                data=data,
            )
        )
        for task_id in data.get("tasks", []):
            facts = tasks.get(task_id)
            if facts is not None:
                tasks.put(task_id, [*facts, _fact(event)])

    def _assessment_event(self, connection: Connection, event: RecordedEvent) -> None:
        if event.type == RETRACTED:
            connection.execute(
                t.assessments.delete().where(t.assessments.c.event_id == event.data["event_id"])
            )
            return
        data = event.data
        connection.execute(
            t.assessments.insert().values(
                event_id=event.event_id,
                position=event.position,
                agency=data["agency"],
                year=data["year"],
                criterion=data["criterion"],
                points=data["points"],
                reason=data["reason"],
            )
        )

    def _rating_event(self, connection: Connection, year: str, event: RecordedEvent) -> None:
        if event.type == RETRACTED:
            connection.execute(
                t.ratings.delete().where(t.ratings.c.event_id == event.data["event_id"])
            )
            return
        connection.execute(
            t.ratings.insert().values(
                year=int(year),
                revision=event.data["revision"],
                event_id=event.event_id,
                data=event.data,
            )
        )


def _same_row(before, after, assignment) -> bool:
    """Whether the task keeps its row and lead index, so that only its facts change."""
    if before is None or assignment is None:
        return False
    before_assignment = next((f for f in before if f["type"] == "task.assigned"), None)
    return (
        before_assignment is not None
        and before_assignment["id"] == assignment["id"]
        and _all_leads(before) == _all_leads(after)
    )


def _all_leads(facts: list[dict[str, Any]]) -> list[str]:
    """Every agency that has led the task at some time: "as of" queries filter on
    these and then keep the task only if the agency led it on that date."""
    leads: list[str] = []
    for fact in facts:
        if fact["type"] == "task.assigned":
            leads.extend(fact["data"]["leads"])
        elif fact["type"] == "task.reassigned":
            leads.extend(fact["data"]["to"])
    return list(dict.fromkeys(leads))
