"""Reading aggregates back from the projection tables, inside a transaction or not."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from events.sql import Raw
from workflow.agencies import Agency, derive_agency
from workflow.errors import NotFound
from workflow.tasks import Task, TaskState, derive_task

from . import numbering, task_reads
from . import tables as t

# Tasks in the order people read them: by assignment, the ids of a day by their
# number (workflow.text.id_order: NV-99949 before NV-100000, which as text sorts first).
TASK_ORDER = "assigned_on, length(task_id), task_id"


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


def task_ids(connection: Connection) -> list[str]:
    return task_reads.task_ids(Raw(connection))


def task_facts(connection: Connection, task_id: str) -> list[dict]:
    return task_reads.task_facts(Raw(connection), task_id)


def load_task(connection: Connection, task_id: str, as_of: date | None = None) -> Task:
    return task_reads.load_task(Raw(connection), task_id, as_of)


def directive_row(connection: Connection, typed: str, on: date | None = None):
    """The directive `typed` names: its number in any case, with or without the year
    (application.numbering: the number alone, if it names several, the latest issued
    by `on`)."""
    return directive_choice(connection, typed, on)[0]


def directive_choice(connection: Connection, typed: str, on: date | None = None):
    """`directive_row`, and the warning when the number alone named several."""
    chosen, warnings = find_directive(connection, typed, on)
    if chosen is None:
        known = connection.execute(sa.select(t.directives.c.number)).scalars().all()
        raise NotFound("văn bản chỉ đạo", typed, list(known))
    return chosen, warnings


def find_directive(connection: Connection, typed: str, on: date | None = None):
    """`directive_choice` without the refusal: (None, []) when no directive has the
    number — for a caller that asks of many numbers, most of them new (an import),
    and has no use for the suggestions a refusal looks for among every number."""
    base, year = numbering.split_year(typed)
    family = numbering.directive_family(Raw(connection), base)
    return numbering.choose(family, year, on, typed)


def iter_tasks(
    connection: Connection,
    agency: str | None = None,
    as_of: date | None = None,
    directive: str | None = None,
):
    """Every task (optionally led by one agency, or given by one directive) as domain
    objects, as of a date."""
    raw = Raw(connection)
    where, params = ["1 = 1"], {}
    if directive is not None:
        where.append("directive = :directive")
        params["directive"] = directive
    if agency is not None:
        where.append("task_id IN (SELECT task_id FROM proj_task_leads WHERE agency = :agency)")
        params["agency"] = agency
    if as_of is not None:
        where.append("assigned_on <= :as_of")
        params["as_of"] = raw.dialect.day(as_of)
    # The facts as text, parsed by `Dialect.to_json`: SQLAlchemy's JSON type costs a
    # fifth more per row (json.loads, and its result processing).
    sql = (
        f"SELECT CAST(facts AS text) FROM proj_tasks WHERE {' AND '.join(where)} "
        f"ORDER BY {TASK_ORDER}"
    )
    to_json = raw.dialect.to_json
    for (facts,) in raw.execute(sql, params):  # the cursor is this Raw's own
        task = derive_task(to_json(facts), as_of)
        if task is not None and (agency is None or agency in task.leads):
            yield task


# JSON columns are read as text, here and in tasks_by_id: psycopg would parse each
# with `json.loads` (a fifth of a rating's time on PostgreSQL), `Dialect.to_json`
# is faster.
_STATE_COLUMNS = (
    "task_id, CAST(leads AS text), assigned_on, original_deadline, effective_deadline, "
    "current_deadline, completed_on, cancelled_on, CAST(lead_periods AS text)"
)


def task_states(
    connection: Connection,
    as_of: date,
    active_since: date | None = None,
    agency: str | None = None,
    with_deadline: bool = False,
    directive: str | None = None,
) -> Iterator[TaskState]:
    """The tasks assigned by `as_of`, each as it stood on `as_of`, in assignment order.

    A task whose facts are all dated on or before `as_of` stood then as it stands
    now, so it is read from the state columns; only the others are derived from
    their facts (read for those alone). `active_since` keeps the tasks that still
    mattered on or after that day — assigned then or later, open then, closed then
    or later, or due then or later — which leaves out the settled history that no
    report or rating of a later period counts. `agency`: tasks it led on `as_of`.
    `directive`: the tasks it gave.
    """
    raw = Raw(connection)
    dialect = raw.dialect
    where = ["assigned_on <= :as_of"]
    params: dict[str, Any] = {"as_of": dialect.day(as_of)}
    if active_since is not None:
        # "Assigned then or later" is left out of the SQL: a task is closed on or after
        # the day it was assigned (the commands refuse earlier dates), so such a task is
        # open or closed since. Every term left has an index, so both engines read the
        # tasks that still mattered instead of every task of every year.
        where.append("(closed_on IS NULL OR closed_on >= :since OR current_deadline >= :since)")
        params["since"] = dialect.day(active_since)
    if with_deadline:
        where.append("original_deadline IS NOT NULL")
    if agency is not None:
        where.append("task_id IN (SELECT task_id FROM proj_task_leads WHERE agency = :agency)")
        params["agency"] = agency
    if directive is not None:
        where.append("directive = :directive")
        params["directive"] = directive
    sql = (
        f"SELECT {_STATE_COLUMNS}, CASE WHEN last_fact_on > :as_of THEN CAST(facts AS text) END "
        f"FROM proj_tasks WHERE {' AND '.join(where)} ORDER BY {TASK_ORDER}"
    )
    day, to_json = dialect.to_day, dialect.to_json
    for row in raw.all(sql, params):
        if row[9] is not None:
            state = derive_task(to_json(row[9]), as_of)
            if state is None:
                continue
        else:
            state = TaskState(
                row[0], to_json(row[1]), day(row[2]), day(row[3]), day(row[4]), day(row[5]),
                day(row[6]), day(row[7]), _lead_periods(to_json(row[8])),
            )  # fmt: skip
        if agency is None or agency in state.leads:
            yield state


def _lead_periods(stored: list | None) -> tuple:
    """The column `lead_periods` as TaskState holds it (see lead_periods_json)."""
    if stored is None:
        return ()
    return tuple((date.fromisoformat(since), tuple(leads)) for since, leads in stored)


def tasks_by_id(connection: Connection, task_ids, as_of: date | None = None) -> dict[str, Task]:
    """Whole tasks (from their facts) for these ids, as of a date."""
    raw = Raw(connection)
    found: dict[str, Task] = {}
    ids = list(dict.fromkeys(task_ids))
    for start in range(0, len(ids), 500):
        placeholders, params = raw.in_list("t", ids[start : start + 500])
        for task_id, facts in raw.all(
            f"SELECT task_id, CAST(facts AS text) FROM proj_tasks WHERE task_id IN {placeholders}",
            params,
        ):
            task = derive_task(raw.dialect.to_json(facts), as_of)
            if task is not None:
                found[task_id] = task
    return found
