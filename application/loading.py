"""Reading aggregates back from the projection tables, inside a transaction or not."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from events.database import file_unmapped
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
    # The facts as text, parsed by `Dialect.to_json` (orjson): SQLAlchemy's JSON type
    # (json.loads, and its result processing) cost a quarter more over a city's tasks.
    # Through `Raw`, the bare driver of the quick writes runs it too (a merger).
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
    sql, params = _states_statement(
        raw.dialect, as_of, active_since, agency, with_deadline, directive
    )
    for row in raw.all(sql, params):
        state = _state_of(raw.dialect, row, as_of, agency)
        if state is not None:
            yield state


def task_state_batches(
    connection: Connection,
    as_of: date,
    *,
    active_since: date | None = None,
    agency: str | None = None,
    directive: str | None = None,
    assigned_from: date | None = None,
    assigned_to: date | None = None,
    titles: bool = False,
    batch_size: int = 500,
) -> Iterator[list[tuple[TaskState, str | None]]]:
    """`task_states`, `batch_size` rows read at a time (on PostgreSQL through a
    server-side cursor) instead of all at once: memory does not grow with the number
    of tasks. Each state comes with its title if `titles` (else None), read from the
    task's first fact by the database rather than by parsing every task's facts here;
    None too if that fact is not the assignment. `assigned_from`, `assigned_to`: the
    tasks assigned in those days only."""
    raw = Raw(connection)
    dialect = raw.dialect
    sql, params = _states_statement(
        dialect, as_of, active_since, agency, False, directive, assigned_from, assigned_to,
        _TITLE[dialect.name] if titles else None,
    )  # fmt: skip
    try:
        # Unmapped: each page read through SQLite's memory map would stay in the
        # process's resident set, which would grow with the log (a city: 170 MB).
        with file_unmapped(raw), closing(raw.stream(sql, params, batch_size)) as batches:
            yield from _batch_states(dialect, batches, as_of, agency, titles)
    finally:
        raw.close()


def _batch_states(dialect, batches, as_of: date, agency: str | None, titles: bool):
    """Each batch of rows as (state, title) pairs: those of the tasks that stood on
    `as_of` (and that `agency` led then)."""
    for rows in batches:
        batch = []
        for row in rows:
            state = _state_of(dialect, row, as_of, agency)
            if state is not None:
                batch.append((state, row[10] if titles else None))
        yield batch


# The title of a task, from its first fact: its assignment (the first event of its
# stream; a retracted assignment takes the row away). The database extracts it from
# the text, at a fraction of the cost of parsing every task's facts here.
_TITLE = {
    "sqlite": "CASE WHEN json_extract(facts, '$[0].type') = 'task.assigned' "
    "THEN json_extract(facts, '$[0].data.title') END",
    "postgresql": "CASE WHEN facts->0->>'type' = 'task.assigned' "
    "THEN facts->0->'data'->>'title' END",
}


def _states_statement(
    dialect,
    as_of: date,
    active_since: date | None,
    agency: str | None,
    with_deadline: bool,
    directive: str | None,
    assigned_from: date | None = None,
    assigned_to: date | None = None,
    title: str | None = None,
) -> tuple[str, dict[str, Any]]:
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
    if assigned_from is not None:
        where.append("assigned_on >= :assigned_from")
        params["assigned_from"] = dialect.day(assigned_from)
    if assigned_to is not None:
        where.append("assigned_on <= :assigned_to")
        params["assigned_to"] = dialect.day(assigned_to)
    sql = (
        f"SELECT {_STATE_COLUMNS}, CASE WHEN last_fact_on > :as_of THEN CAST(facts AS text) END"
        + (f", {title}" if title else "")
        + f" FROM proj_tasks WHERE {' AND '.join(where)} ORDER BY {TASK_ORDER}"
    )
    return sql, params


def _state_of(dialect, row, as_of: date, agency: str | None) -> TaskState | None:
    """The state of a row of `_states_statement`: from the state columns, or derived
    from the facts (a Task, then) if some are dated after `as_of`. None if the task
    did not stand on `as_of`, or `agency` did not lead it then."""
    day, to_json = dialect.to_day, dialect.to_json
    if row[9] is not None:
        state = derive_task(to_json(row[9]), as_of)
        if state is None:
            return None
    else:
        state = TaskState(
            row[0], to_json(row[1]), day(row[2]), day(row[3]), day(row[4]), day(row[5]),
            day(row[6]), day(row[7]), _lead_periods(to_json(row[8])),
        )  # fmt: skip
    if agency is not None and agency not in state.leads:
        return None
    return state


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
