"""The escalation pass: raise every ladder step that has fallen due, exactly once.

Exactly once comes from the store, not from this code: each step's event id is
derived from (task, deadline, step) and the store's append is idempotent by event
id, so re-runs, overlapping passes and two scheduler processes append each step
once. The pass only avoids pointless writes by skipping steps already on the
task's stream.

One write transaction per task that has something to raise: the log's write lock
serialises every command of the secretariat, so a catch-up pass over thousands of
tasks must not hold it for the whole pass; a task's steps still commit together,
and the task is re-read under the lock so a completion recorded meanwhile is seen.
A commit per task costs little next to a daily pass that writes a few dozen
steps; the tasks with nothing due (almost all) cost one read and no transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa

from events.errors import IdempotencyConflict
from events.store import ANY_VERSION, NewEvent
from workflow import tasks as tk
from workflow.dates import format_date, iso, start_of_day
from workflow.errors import DomainError, NotFound
from workflow.escalation import (
    DEFAULT_LADDER,
    Calendar,
    Ladder,
    Step,
    ladder_from_rulebook,
    pending_steps,
)
from workflow.rulebook import rulebook_in_force

from . import loading, streams
from . import tables as t
from .ledger import Ledger

log = logging.getLogger(__name__)

SCAN_BATCH = 500


@dataclass(frozen=True)
class Outcome:
    step: Step
    raised: bool  # written by this pass; False in a dry run

    def to_dict(self) -> dict[str, Any]:
        step = self.step
        return {
            "task": step.task_id,
            "step": step.code,
            "level": step.level,
            "label": step.label,
            "due_on": iso(step.due_on),
            "deadline": iso(step.deadline),
            "agencies": list(step.agencies),
            "raised": self.raised,
        }


@dataclass(frozen=True)
class PassResult:
    as_of: date
    dry_run: bool
    outcomes: list[Outcome]  # raised by this pass (or, dry run, that it would raise)


def _leads_on(facts: list[dict[str, Any]], fallback: list[str]):
    def leads(day: date) -> list[str]:
        task = tk.derive_task(facts, day)
        return task.leads if task is not None else fallback

    return leads


def _pending(facts, as_of: date, calendar: Calendar, ladder: Ladder) -> list[Step]:
    task = tk.derive_task(facts, as_of)
    if task is None or task.original_deadline is None:
        return []
    return pending_steps(task, as_of, calendar, ladder, _leads_on(facts, task.leads))


def scan(connection, as_of: date, calendar: Calendar, ladder: Ladder = DEFAULT_LADDER):
    """(task id, pending steps) for every task with a step due and not yet raised."""
    query = (
        sa.select(t.tasks.c.task_id, t.tasks.c.facts)
        .where(t.tasks.c.assigned_on <= as_of)
        .order_by(t.tasks.c.assigned_on, t.tasks.c.task_id)
        .execution_options(yield_per=SCAN_BATCH)
    )
    for task_id, facts in connection.execute(query):
        steps = _pending(facts, as_of, calendar, ladder)
        if steps:
            yield task_id, steps


def run_escalation_pass(
    ledger: Ledger,
    as_of: date | None = None,
    dry_run: bool = False,
    calendar: Calendar | None = None,
    ladder: Ladder | None = None,
) -> PassResult:
    """Raise (or, dry run, list) every step due by `as_of` that is not yet on the log.

    Without an explicit ladder, the one of the rulebook in force on `as_of` is used.
    """
    today = ledger.today()
    as_of = as_of or today
    if as_of > today and not dry_run:
        raise DomainError(
            f"Không chạy đôn đốc cho ngày {format_date(as_of)} ở tương lai (hôm nay là "
            f"{format_date(today)}): các bước sẽ được ghi trước khi đến hạn. "
            "Dùng --dry-run để xem trước."
        )
    calendar = calendar or ledger.calendar()
    if ladder is None:
        ladder = ladder_from_rulebook(rulebook_in_force(as_of))
    # The scan reads the projection without the lock and keeps only the few tasks
    # with something pending; its read transaction ends before the first write, and
    # each write re-reads its task under the lock.
    with ledger.store.engine.connect() as connection:
        candidates = list(scan(connection, as_of, calendar, ladder))
    if dry_run:
        outcomes = [Outcome(s, False) for _, steps in candidates for s in steps]
    else:
        outcomes = []
        for task_id, _ in candidates:
            outcomes.extend(_raise_for_task(ledger, task_id, as_of, calendar, ladder))
    outcomes.sort(key=lambda o: (o.step.due_on, o.step.task_id, o.step.level))
    return PassResult(as_of, dry_run, outcomes)


def _raise_for_task(ledger: Ledger, task_id: str, as_of: date, calendar, ladder) -> list[Outcome]:
    with ledger.command() as tx:
        try:
            facts = loading.task_facts(tx.connection, task_id)
        except NotFound:
            return []  # its assignment was retracted since the scan
        steps = _pending(facts, as_of, calendar, ladder)
        if not steps:
            return []  # raised meanwhile by another pass, or the task was closed
        stream = streams.task(task_id)
        events = [
            NewEvent(tk.ESCALATED, s.payload(), start_of_day(s.due_on), event_id=s.event_id)
            for s in steps
        ]
        # Expected version ANY: a step's identity is its event id, not its place in
        # the stream; another writer in between changes nothing.
        try:
            result = tx.append(stream, events, ANY_VERSION, ledger.actor)
            return [] if result.duplicate else [Outcome(s, True) for s in steps]
        except IdempotencyConflict:
            pass
        # Some of them are on the log though not among the task's facts: retracted
        # steps stay retracted. One at a time, keeping the new ones.
        written = []
        for step, event in zip(steps, events, strict=True):
            if not tx.append(stream, [event], ANY_VERSION, ledger.actor).duplicate:
                written.append(Outcome(step, True))
        return written
