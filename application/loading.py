"""Reading aggregates back from the projection tables, inside a transaction or not."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from workflow.agencies import Agency, derive_agency
from workflow.errors import NotFound
from workflow.tasks import Task, derive_task

from . import tables as t


def agency_codes(connection: Connection) -> list[str]:
    return list(
        connection.execute(sa.select(t.agencies.c.code).order_by(t.agencies.c.code)).scalars()
    )


def load_agency(connection: Connection, code: str) -> Agency:
    facts = connection.execute(
        sa.select(t.agencies.c.facts).where(t.agencies.c.code == code)
    ).scalar()
    agency = derive_agency(facts) if facts else None
    if agency is None:
        raise NotFound("cơ quan", code, agency_codes(connection))
    return agency


def load_agencies(connection: Connection) -> dict[str, Agency]:
    result = {}
    for code, facts in connection.execute(sa.select(t.agencies.c.code, t.agencies.c.facts)):
        agency = derive_agency(facts)
        if agency is not None:
            result[code] = agency
    return result


def task_facts(connection: Connection, task_id: str) -> list[dict]:
    task_id = task_id.strip().upper()
    facts = connection.execute(
        sa.select(t.tasks.c.facts).where(t.tasks.c.task_id == task_id)
    ).scalar()
    if facts is None:
        known = list(connection.execute(sa.select(t.tasks.c.task_id)).scalars())
        raise NotFound("nhiệm vụ", task_id, known)
    return facts


def load_task(connection: Connection, task_id: str, as_of: date | None = None) -> Task:
    task = derive_task(task_facts(connection, task_id), as_of)
    if task is None:
        raise NotFound("nhiệm vụ", task_id)
    return task


def directive_row(connection: Connection, number: str):
    """The directive with this number; numbers are matched case-insensitively."""
    query = sa.select(t.directives)
    row = connection.execute(query.where(t.directives.c.number == number)).mappings().first()
    if row is not None:
        return row
    # SQL upper() is ASCII-only on SQLite (numbers may hold Đ): compare in Python.
    known = list(connection.execute(sa.select(t.directives.c.number)).scalars())
    same = [n for n in known if n.upper() == number.upper()]
    if not same:
        raise NotFound("văn bản chỉ đạo", number, known)
    return connection.execute(query.where(t.directives.c.number == same[0])).mappings().one()


def iter_tasks(connection: Connection, agency: str | None = None, as_of: date | None = None):
    """Every task (optionally led by one agency) as domain objects, as of a date."""
    query = sa.select(t.tasks.c.facts).order_by(t.tasks.c.assigned_on, t.tasks.c.task_id)
    if agency is not None:
        query = query.where(
            t.tasks.c.task_id.in_(
                sa.select(t.task_leads.c.task_id).where(t.task_leads.c.agency == agency)
            )
        )
    if as_of is not None:
        query = query.where(t.tasks.c.assigned_on <= as_of)
    for (facts,) in connection.execute(query):
        task = derive_task(facts, as_of)
        if task is not None and (agency is None or agency in task.leads):
            yield task
