"""The escalation pass: raise every ladder step that has fallen due, exactly once.

Exactly once comes from the store, not from this code: each step's event id is
derived from (task, deadline, step) and the store's append is idempotent by event
id, so re-runs, overlapping passes and two scheduler processes append each step
once. The pass only avoids pointless writes by skipping steps already on the
task's stream.

What the pass reads. A pass that completes records it (`escalation.pass_completed`,
with its date, its ladder and the last position it had read), so the next pass
with the same ladder need not look again at what that one settled: every step due
by its date was raised then. A task unchanged since, none of whose facts is dated
after that day, keeps the deadline it had (the last one set, `current_deadline`),
so its only new steps are that deadline's steps falling due after the last pass's
day and by this one's, and the deadline alone says whether one does. The
candidates are therefore the tasks changed since the last pass, those with a fact
dated after its day, and the open ones whose current deadline puts a step in that
window; the state columns of the projection select them, and only they are
derived from their facts. A quiet day reads the tasks a step falls due for, not
every open overdue task. Without such a record (the first pass, a new ladder)
every task is a candidate. The pass's own steps do not count as changes for the
next one when nothing else was written meanwhile (a step only settles a task
further), so a task is not read again the day after it was escalated.

Writes go in batches of tasks, one transaction each: the log's write lock
serialises every command of the secretariat, so a catch-up pass over thousands of
tasks must not hold it for the whole pass; a task's steps commit together, and
each task is read again under the lock, so a completion recorded meanwhile is seen.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from events.errors import IdempotencyConflict
from events.memory import collector_paused
from events.sql import Raw
from events.store import ANY_VERSION, NewEvent
from workflow import tasks as tk
from workflow.dates import format_date, iso, start_of_day
from workflow.errors import DomainError
from workflow.escalation import (
    DEFAULT_LADDER,
    Calendar,
    Ladder,
    Step,
    ladder_from_rulebook,
    pending_steps,
)
from workflow.rulebook import rulebook_spans
from workflow.text import id_order

from . import streams
from .ledger import Ledger
from .loading import TASK_ORDER

log = logging.getLogger(__name__)

PASS_COMPLETED = "escalation.pass_completed"
PASSES_STREAM = "escalation:passes"
# Tasks per write transaction: long enough to amortise a commit, short enough
# that the secretariat's commands never wait long for the lock.
WRITE_BATCH = 200


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
    candidates: int = 0  # tasks the pass derived and checked


def ladder_key(ladder: Ladder) -> str:
    """What identifies a ladder for "the last pass with this ladder": its step
    codes, levels and days (labels do not change what is due)."""
    text = f"{ladder.reminder_working_days}|" + "|".join(
        f"{s.code}:{s.level}:{s.days_overdue}" for s in ladder.steps
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _leads_on(facts: list[dict[str, Any]], fallback: list[str]):
    """The lead agencies on a given day. Only a reassignment changes them: without
    one they are the assignment's on every day, and no derivation is needed."""
    if not any(f["type"] == tk.REASSIGNED for f in facts):
        return lambda day: fallback

    def leads(day: date) -> list[str]:
        task = tk.derive_task(facts, day)
        return task.leads if task is not None else fallback

    return leads


def _pending(facts, as_of: date, calendar: Calendar, ladder: Ladder, not_before=None) -> list[Step]:
    task = tk.derive_task(facts, as_of)
    if task is None or task.original_deadline is None:
        return []
    leads_on = _leads_on(facts, task.leads)
    return pending_steps(task, as_of, calendar, ladder, leads_on, not_before)


def _fingerprint(facts: list[dict[str, Any]]) -> tuple[int, str | None]:
    """What tells whether a task's facts changed between the scan and the write. Facts
    change only by a fact appended (a new id: ids are unique) or facts removed (a
    retraction; a retracted fact never comes back): so the same count and the same
    last id mean the same list. The steps due are a function of the facts."""
    return len(facts), facts[-1]["id"] if facts else None


@dataclass(frozen=True)
class Scanned:
    """A task's pending steps as the scan found them, and its facts' fingerprint."""

    fingerprint: tuple[int, str | None]
    steps: list[Step]


@dataclass(frozen=True)
class LastPass:
    as_of: date
    through_position: int


def last_pass(connection, ladder: Ladder) -> LastPass | None:
    raw = Raw(connection)
    row = raw.one(
        "SELECT as_of, through_position FROM proj_escalation_passes WHERE ladder = :ladder",
        {"ladder": ladder_key(ladder)},
    )
    return None if row is None else LastPass(raw.dialect.to_day(row[0]), row[1])


def due_windows(
    as_of: date, horizon: date, passed: date, ladder: Ladder
) -> list[tuple[date, date]]:
    """The current deadlines d, as ranges lo < d <= hi, for which a step of the
    ladder falls due after `passed` and by `as_of` (`horizon` bounds the reminder's,
    which comes working days before d). Overlapping ranges are merged."""
    spans = [(passed, horizon)] + [
        (passed - timedelta(days=s.days_overdue), as_of - timedelta(days=s.days_overdue))
        for s in ladder.steps
    ]
    merged: list[tuple[date, date]] = []
    for lo, hi in sorted(span for span in spans if span[0] < span[1]):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged


def candidates(connection, as_of: date, calendar: Calendar, ladder: Ladder, since=None):
    """(task id, facts) of every task that may have a step due by `as_of` and not raised."""
    raw = Raw(connection)
    day = raw.dialect.day
    # A deadline after this has every step after `as_of`, the reminder included.
    horizon = calendar.add_working_days(as_of, ladder.reminder_working_days + 1)
    params: dict[str, Any] = {"as_of": day(as_of), "horizon": day(horizon)}
    settled = ""
    if since is not None and since.as_of >= as_of:
        # Passed as of this day already (the days of an earlier rulebook, passed again
        # by every run): only a task changed since may have a step of them due now.
        params["through"] = since.through_position
        settled = "AND last_position > :through "
    elif since is not None:
        params |= {"through": since.through_position, "passed": day(since.as_of)}
        falls_due = []
        for i, (lo, hi) in enumerate(due_windows(as_of, horizon, since.as_of, ladder)):
            params |= {f"lo{i}": day(lo), f"hi{i}": day(hi)}
            falls_due.append(f"(current_deadline > :lo{i} AND current_deadline <= :hi{i})")
        # Unchanged since the last pass, a task closed by its day has nothing new; an
        # open one has if a step of its deadline falls due in the window, or if a fact
        # is dated after that day (the pass saw the task as it stood then).
        may_be_due = " OR ".join(["last_fact_on > :passed", *falls_due])
        settled = (
            "AND (last_position > :through OR closed_on > :passed "
            f"OR (closed_on IS NULL AND ({may_be_due}))) "
        )
    # The facts as text: psycopg would parse json with `json.loads`, `to_json` is faster.
    sql = (
        "SELECT task_id, CAST(facts AS text) FROM proj_tasks "
        "WHERE assigned_on <= :as_of AND original_deadline IS NOT NULL "
        "AND original_deadline <= :horizon "
        f"{settled}"
        f"ORDER BY {TASK_ORDER}"
    )
    to_json = raw.dialect.to_json
    for task_id, facts in raw.all(sql, params):
        yield task_id, to_json(facts)


def scan(connection, as_of: date, calendar: Calendar, ladder: Ladder = DEFAULT_LADDER, since=None):
    """(task id, pending steps) for every task with a step due and not yet raised."""
    for task_id, facts in candidates(connection, as_of, calendar, ladder, since):
        steps = _pending(facts, as_of, calendar, ladder)
        if steps:
            yield task_id, steps


@collector_paused()  # its tasks and steps are many small objects, none cyclic (events.memory)
def run_escalation_pass(
    ledger: Ledger,
    as_of: date | None = None,
    dry_run: bool = False,
    calendar: Calendar | None = None,
    ladder: Ladder | None = None,
) -> PassResult:
    """Raise (or, dry run, list) every step due by `as_of` that is not yet on the log.

    Without an explicit ladder, each span of days under one ladder is passed with
    it, the span of `as_of` last: a pass after downtime across a change of rules
    raises what daily passes would have. A span passed before is passed again for
    the tasks changed since (a task recorded late, with steps due in those days):
    the earlier ladder's steps are its own, and a later ladder puts none before
    its first day.
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
    if ladder is not None:
        return _pass(ledger, as_of, dry_run, calendar, ladder)
    outcomes: dict[str, Outcome] = {}
    checked = 0
    for first_day, last_day, span_ladder in ladder_spans(as_of):
        span = _pass(ledger, last_day, dry_run, calendar, span_ladder, first_day)
        checked += span.candidates
        for outcome in span.outcomes:  # (a dry run lists a step once, as its span found it)
            outcomes.setdefault(outcome.step.event_id, outcome)
    ordered = sorted(outcomes.values(), key=_outcome_order)
    return PassResult(as_of, dry_run, ordered, checked)


def ladder_spans(as_of: date) -> list[tuple[date | None, date, Ladder]]:
    """(first day, last day, ladder) of each run of days under one ladder up to
    `as_of`, in date order. Books in force one after the other with the same ladder
    (a new book that changes only the ratings) make one span. The first span has no
    first day: no ladder before it takes the steps it would put earlier."""
    spans: list[tuple[date | None, date, Ladder]] = []
    for book, first_day, last_day in rulebook_spans(as_of):
        ladder = ladder_from_rulebook(book)
        if spans:
            start, end, before = spans[-1]
            if ladder_key(before) == ladder_key(ladder) and end + timedelta(days=1) == first_day:
                spans[-1] = (start, last_day, ladder)
                continue
        spans.append((first_day if spans else None, last_day, ladder))
    return spans


def _pass(
    ledger: Ledger,
    as_of: date,
    dry_run: bool,
    calendar: Calendar,
    ladder: Ladder,
    not_before: date | None = None,
):
    # The scan reads the projection without the lock and keeps only the tasks with
    # something pending; its read transaction ends before the first write, and each
    # write reads its task again under the lock (and derives it again if it changed).
    with ledger.reading() as connection:
        through = ledger.store.head_position(connection)
        since = last_pass(connection, ladder)
        checked = 0
        found = []
        for task_id, facts in candidates(connection, as_of, calendar, ladder, since):
            checked += 1
            steps = _pending(facts, as_of, calendar, ladder, not_before)
            if steps:
                found.append((task_id, Scanned(_fingerprint(facts), steps)))
        if dry_run:
            # A retracted step stays on the log under its id: a pass never raises it again.
            listed = [s for _, scanned in found for s in scanned.steps]
            on_log = ledger.store.stored_ids([s.event_id for s in listed], connection)
    if dry_run:
        outcomes = [Outcome(s, False) for s in listed if s.event_id not in on_log]
    else:
        outcomes = []
        for start in range(0, len(found), WRITE_BATCH):
            chunk = found[start : start + WRITE_BATCH]
            with ledger.batch():
                # One statement each for the chunk's tasks and step ids, not one per task.
                ledger.prefetch([task_id for task_id, _ in chunk])
                ledger.prefetch_event_ids([s.event_id for _, c in chunk for s in c.steps])
                for task_id, scanned in chunk:
                    outcomes.extend(
                        _raise_for_task(
                            ledger, task_id, scanned, as_of, calendar, ladder, not_before
                        )
                    )
        if since is None or as_of > since.as_of or outcomes:
            # A pass again on the same day that found nothing teaches nothing new.
            _record_pass(ledger, as_of, ladder, through, len(outcomes))
    outcomes.sort(key=_outcome_order)
    return PassResult(as_of, dry_run, outcomes, checked)


def _outcome_order(outcome: Outcome):
    return outcome.step.due_on, id_order(outcome.step.task_id), outcome.step.level


def _record_pass(ledger: Ledger, as_of: date, ladder: Ladder, through: int, raised: int) -> None:
    with ledger.command() as tx:
        head = tx.lock().position
        passed = last_pass(tx.connection, ladder)
        if not raised and passed is not None and passed.as_of >= as_of:
            # Another pass, run at the same time, recorded this day first: this one
            # raised nothing and teaches nothing more.
            return
        if head == through + raised:
            # Nothing but this pass's own steps since its scan (positions are
            # contiguous): the next pass need not read again the tasks they settled.
            through = head
        data = {
            "as_of": iso(as_of),
            "ladder": ladder_key(ladder),
            "through_position": through,
            "raised": raised,
        }
        tx.append(PASSES_STREAM, [NewEvent(PASS_COMPLETED, data, start_of_day(as_of), None)],
                  ANY_VERSION, ledger.actor)  # fmt: skip


def _raise_for_task(
    ledger: Ledger, task_id: str, scanned: Scanned, as_of: date, calendar, ladder, not_before
) -> list[Outcome]:
    with ledger.command() as tx:
        task = ledger._session(tx).task_row(task_id)
        if task is None or not task.facts:
            return []  # its assignment was retracted since the scan
        steps = scanned.steps
        if _fingerprint(task.facts) != scanned.fingerprint:  # changed since the scan
            steps = _pending(task.facts, as_of, calendar, ladder, not_before)
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
