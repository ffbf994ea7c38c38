"""The escalation ladder: which steps a task has reached, and on which day each fell due.

Pure domain logic. The application layer turns each `Step` into a `task.escalated`
event whose id is derived from (task, deadline, step), so that appending it twice
is a no-op; this module decides *what* is due, never *whether it was written*.

The time model (DOMAIN.md, issue 5). A task's deadlines form epochs: the original
deadline is in force from the assignment date, each approved extension from its
approval date, each until the day before the next one takes over (see `epochs`
for approvals recorded out of date order). A step of deadline d
with due date u is due as of a date C iff

- u ≤ C,
- u falls within the epoch of d (an extension restarts the ladder for the new
  deadline, and the old deadline's later steps never happen),
- the task was still open on u (not completed or cancelled on or before u).

A step whose due date falls before its epoch began (the reminder of an extension
approved one day before its new deadline) is dated on the epoch's first day.
Because each step is dated on the day it fell due — never on the day the pass
runs — a pass after days of downtime raises exactly what daily passes would have.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol

from .dates import iso
from .tasks import Task

# Fixed forever: changing it would change every event id and raise every step again.
NAMESPACE = uuid.UUID("7c1d4a52-3f0e-5b8e-9a61-2d5c8e4f1b07")

REMINDER = "reminder"


class Calendar(Protocol):
    def working_days_before(self, d: date, n: int) -> date: ...

    def working_days_between(self, a: date, b: date) -> int: ...


@dataclass(frozen=True)
class OverdueStep:
    code: str
    level: int
    days_overdue: int  # calendar days after the deadline
    label: str


@dataclass(frozen=True)
class Ladder:
    """The ladder's numbers; the rulebook will supply them (an adapter builds one)."""

    reminder_working_days: int = 3
    reminder_label: str = "Nhắc hạn"  # followed by the working days left
    steps: tuple[OverdueStep, ...] = (
        OverdueStep("overdue_1", 1, 1, "Đôn đốc: quá hạn"),
        OverdueStep("overdue_2", 2, 7, "Đề xuất ban hành văn bản nhắc nhở: quá hạn 7 ngày"),
        OverdueStep("overdue_3", 3, 15, "Đề xuất ban hành văn bản phê bình: quá hạn 15 ngày"),
    )

    def __post_init__(self) -> None:
        if self.reminder_working_days < 1:
            raise ValueError("Số ngày làm việc nhắc hạn trước phải là số nguyên dương.")
        codes = [REMINDER, *(s.code for s in self.steps)]
        if len(set(codes)) != len(codes):
            raise ValueError("Mã các bước đôn đốc phải khác nhau.")
        days = [s.days_overdue for s in self.steps]
        levels = [s.level for s in self.steps]
        if any(d < 1 for d in days) or days != sorted(set(days)) or levels != sorted(set(levels)):
            raise ValueError(
                "Các bước quá hạn phải có số ngày quá hạn ≥ 1 và mức tăng dần, không trùng nhau."
            )

    @property
    def reminder_text(self) -> str:
        return self.reminder_text_for(self.reminder_working_days)

    def reminder_text_for(self, working_days_left: int, due_today: bool = False) -> str:
        """The reminder's label: the working days actually left after its day. Fewer
        than the ladder's when the deadline falls on a day off (a Saturday, Tết), or
        when the reminder comes late (a deadline set fewer working days ahead)."""
        if working_days_left >= 1:
            return f"{self.reminder_label}: còn {working_days_left} ngày làm việc"
        if due_today:
            return f"{self.reminder_label}: đến hạn hôm nay"
        return f"{self.reminder_label}: hạn rơi vào ngày nghỉ, không còn ngày làm việc nào"

    def label_of(self, code: str) -> str:
        if code == REMINDER:
            return self.reminder_text
        return next(s.label for s in self.steps if s.code == code)


DEFAULT_LADDER = Ladder()


@dataclass(frozen=True)
class Epoch:
    """One deadline in force: from `start` until the day before `end` (None: still in force)."""

    deadline: date
    start: date
    end: date | None

    def contains(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)


@dataclass(frozen=True)
class Step:
    task_id: str
    code: str
    level: int
    label: str
    due_on: date
    deadline: date
    agencies: tuple[str, ...]
    days_overdue: int  # on due_on; 0 for the reminder

    @property
    def event_id(self) -> str:
        return escalation_event_id(self.task_id, self.deadline, self.code)

    @property
    def key(self) -> tuple[str, str, date, date]:
        return (self.task_id, self.code, self.deadline, self.due_on)

    def payload(self) -> dict[str, Any]:
        """The `task.escalated` payload: exactly these keys, ISO dates."""
        return {
            "step": self.code,
            "level": self.level,
            "label": self.label,
            "due_on": iso(self.due_on),
            "deadline": iso(self.deadline),
            "agencies": list(self.agencies),
            "days_overdue": self.days_overdue,
        }


def escalation_event_id(task_id: str, deadline: date, step: str) -> str:
    """Deterministic: the same step of the same deadline always gets the same event id."""
    return str(uuid.uuid5(NAMESPACE, f"{task_id}|{iso(deadline)}|{step}"))


def epochs(task: Task) -> list[Epoch]:
    """The deadlines the task has had, each with the days it was in force, in log order.

    On a day x the deadline in force is the one set last in log order (as
    `Task.current_deadline` is) among those approved on or before x. Approval
    dates are business dates and may be recorded out of order: a back-dated
    approval recorded later takes over from its own date, and an earlier-logged
    extension it overtakes may never be in force at all (an empty epoch). This
    depends only on facts dated on or before x, so a pass as of x sees the same
    epochs up to x whenever it runs — what catch-up needs.
    """
    if task.original_deadline is None:
        return []
    spans: list[tuple[date, date]] = [(task.original_deadline, task.assigned_on)]
    spans += [(e.to, e.approved_on) for e in task.extensions]
    result = []
    for index, (deadline, start) in enumerate(spans):
        later = [s for _, s in spans[index + 1 :]]
        end = min(later) if later else None
        if end is not None and end < start:
            end = start  # overtaken before it began: never in force
        result.append(Epoch(deadline, start, end))
    return result


def due_steps(
    task: Task,
    as_of: date,
    calendar: Calendar,
    ladder: Ladder = DEFAULT_LADDER,
    leads_on: Callable[[date], Sequence[str]] | None = None,
) -> list[Step]:
    """Every step the task has reached by `as_of`, raised or not, ordered by due date.

    `task` should be derived as of `as_of` (facts dated later left out), so that a
    pass as of a past date sees what a pass on that date would have seen.
    `leads_on(day)` gives the lead agencies on a day (a reassignment changes who
    is urged); without it the task's current leads are used.
    """
    return _steps(task, as_of, calendar, ladder, leads_on, skip=frozenset())


def pending_steps(
    task: Task,
    as_of: date,
    calendar: Calendar,
    ladder: Ladder = DEFAULT_LADDER,
    leads_on: Callable[[date], Sequence[str]] | None = None,
    not_before: date | None = None,
) -> list[Step]:
    """The due steps not yet on the task's stream: each step once per deadline.

    `not_before`: the first day `ladder` is in force (a rulebook that took over from
    another). A step this ladder puts earlier belongs to the earlier ladder's days;
    if the task has reached it by then, it falls due on that first day — as it would
    have on a daily pass that day — provided its deadline is still in force and the
    task still open."""
    raised = frozenset((e["deadline"], e["step"]) for e in task.escalations)
    return _steps(task, as_of, calendar, ladder, leads_on, skip=raised, not_before=not_before)


def _steps(task, as_of, calendar, ladder, leads_on, skip, not_before=None) -> list[Step]:
    result: list[Step] = []
    for epoch in epochs(task):
        if epoch.start > as_of:
            continue  # every step of this epoch is dated on or after its start
        deadline = iso(epoch.deadline)
        for code, level, label, nominal in _ladder_dates(epoch.deadline, calendar, ladder):
            if (deadline, code) in skip:
                continue
            nominal_on = nominal()
            due_on = max(nominal_on, epoch.start, not_before or epoch.start)
            if code == REMINDER and due_on > epoch.deadline:
                # A reminder that the deadline is near makes no sense once it has
                # passed (an extension approved after its new date): skip it.
                continue
            if due_on > as_of or not epoch.contains(due_on) or not task.open_on(due_on):
                continue
            if code == REMINDER:
                label = ladder.reminder_text_for(
                    calendar.working_days_between(due_on, epoch.deadline),
                    due_today=due_on == epoch.deadline,
                )
            # Looked up last: deriving the leads on a past day is the costly part.
            agencies = tuple(leads_on(due_on) if leads_on else task.leads)
            days = max((due_on - epoch.deadline).days, 0)
            result.append(Step(task.id, code, level, label, due_on, epoch.deadline, agencies, days))
    result.sort(key=lambda s: (s.due_on, s.deadline, s.level))
    return result


def _ladder_dates(deadline: date, calendar: Calendar, ladder: Ladder):
    """(code, level, label, nominal due date) per step; the dates are computed on demand
    because the working-day walk is wasted on a step already raised."""
    yield (
        REMINDER,
        0,
        ladder.reminder_text,
        lambda: calendar.working_days_before(deadline, ladder.reminder_working_days),
    )
    for step in ladder.steps:
        try:
            due = deadline + timedelta(days=step.days_overdue)
        except OverflowError:
            # A deadline days before 31/12/9999 (older data: such dates are refused
            # now): its later steps fall on no date there is, so none is ever due —
            # and one such task must not stop the pass for every other.
            return
        yield step.code, step.level, step.label, lambda due=due: due


def ladder_from_rulebook(rulebook) -> Ladder:
    """The ladder a rulebook prescribes. Step codes stay `overdue_<level>`: they are
    part of the deterministic event ids, so they must not change with labels."""
    escalation = rulebook.escalation
    return Ladder(
        reminder_working_days=escalation.reminder_working_days,
        reminder_label=escalation.reminder_label,
        steps=tuple(
            OverdueStep(
                f"overdue_{step.level}",
                step.level,
                step.days_overdue,
                f"{step.label}: quá hạn {step.days_overdue} ngày",
            )
            for step in escalation.levels
        ),
    )
