"""The escalation ladder: pure rules first, then `nhiemvu escalate` on both backends.

The pure tests build task facts by hand and derive the task as of each date the
way a pass does, so "day by day" versus "once after downtime" is checked on the
rules themselves; the CLI tests then check the same property through the store,
plus exactly-once under re-runs and two concurrent processes.

Business dates are in 2023–2024, well before the wall clock, so the "not in the
future" rules never depend on when the suite runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import application.escalation
from application.app import App
from application.escalation import _fingerprint, run_escalation_pass
from events.catalog import REGISTRY
from events.database import make_engine
from events.store import EventStore
from workflow.calendar import WorkingCalendar
from workflow.dates import start_of_day
from workflow.escalation import (
    DEFAULT_LADDER,
    Ladder,
    OverdueStep,
    due_steps,
    epochs,
    escalation_event_id,
    pending_steps,
)
from workflow.tasks import derive_task

REPO = Path(__file__).resolve().parents[1]

from nhiemvu_cli import Nhiemvu as CliTool  # noqa: E402

CAL = WorkingCalendar()
D = date.fromisoformat


# -- facts by hand -----------------------------------------------------------------------


class Facts:
    """A task's fact list, built the way the projection keeps it."""

    def __init__(self, deadline: str | None, assigned_on: str = "2024-03-01", leads=("SXD",)):
        self.facts = [
            {
                "id": "a",
                "type": "task.assigned",
                "data": {
                    "task_id": "NV-1",
                    "directive": "1/CT-UBND",
                    "clause": "1",
                    "title": "Việc",
                    "leads": list(leads),
                    "coordinators": [],
                    "leader": None,
                    "assigned_on": assigned_on,
                    "deadline": {
                        "kind": "date" if deadline else "none",
                        "value": deadline,
                        "due": deadline,
                    },
                },
            }
        ]

    def add(self, type_: str, **data) -> Facts:
        self.facts.append({"id": f"f{len(self.facts)}", "type": f"task.{type_}", "data": data})
        return self

    def extend(self, on: str, to: str) -> Facts:
        return self.add("extension_approved", on=on, to=to, reason="")

    def complete(self, on: str) -> Facts:
        return self.add("completed", on=on, doc=None)

    def cancel(self, on: str) -> Facts:
        return self.add("cancelled", on=on, reason="thôi")

    def reassign(self, on: str, to: list[str]) -> Facts:
        return self.add("reassigned", on=on, to=to, reason="")

    def task(self, as_of: date | None = None):
        return derive_task(self.facts, as_of)

    def steps(self, as_of: str | date, **kwargs):
        as_of = D(as_of) if isinstance(as_of, str) else as_of
        return due_steps(self.task(as_of), as_of, CAL, **kwargs)


def summary(steps) -> list[tuple[str, str, str]]:
    return [(s.code, s.deadline.isoformat(), s.due_on.isoformat()) for s in steps]


# -- the default ladder ----------------------------------------------------------------


def test_default_ladder_numbers_and_labels():
    assert DEFAULT_LADDER.reminder_working_days == 3
    assert [(s.code, s.level, s.days_overdue) for s in DEFAULT_LADDER.steps] == [
        ("overdue_1", 1, 1),
        ("overdue_2", 2, 7),
        ("overdue_3", 3, 15),
    ]
    assert DEFAULT_LADDER.label_of("reminder") == "Nhắc hạn: còn 3 ngày làm việc"
    assert DEFAULT_LADDER.label_of("overdue_1") == "Đôn đốc: quá hạn"
    assert "nhắc nhở" in DEFAULT_LADDER.label_of("overdue_2")
    assert "phê bình" in DEFAULT_LADDER.label_of("overdue_3")


@pytest.mark.parametrize(
    "steps",
    [
        (OverdueStep("a", 1, 7, "x"), OverdueStep("b", 2, 1, "y")),  # days not increasing
        (OverdueStep("a", 1, 0, "x"),),  # not overdue yet
        (OverdueStep("reminder", 1, 1, "x"),),  # code clash
        (OverdueStep("a", 2, 1, "x"), OverdueStep("b", 1, 7, "y")),  # levels decreasing
    ],
)
def test_ladder_refuses_inconsistent_steps(steps):
    with pytest.raises(ValueError):
        Ladder(steps=steps)


def test_a_reminder_may_come_one_working_day_ahead_but_not_none():
    # A rulebook may set escalation.reminder_working_days = 1 (its smallest value).
    assert Ladder(reminder_working_days=1).reminder_text == "Nhắc hạn: còn 1 ngày làm việc"
    with pytest.raises(ValueError, match="nhắc hạn"):
        Ladder(reminder_working_days=0)


def test_full_ladder_of_an_open_task():
    steps = Facts("2023-03-31", assigned_on="2023-03-01").steps("2023-06-30")
    assert summary(steps) == [
        ("reminder", "2023-03-31", "2023-03-28"),  # Fri 31/3 → Tue 28/3
        ("overdue_1", "2023-03-31", "2023-04-01"),
        ("overdue_2", "2023-03-31", "2023-04-07"),
        ("overdue_3", "2023-03-31", "2023-04-15"),
    ]
    assert [s.level for s in steps] == [0, 1, 2, 3]
    assert [s.days_overdue for s in steps] == [0, 1, 7, 15]


def test_payload_has_exactly_the_agreed_keys():
    step = Facts("2023-03-31", assigned_on="2023-03-01").steps("2023-04-01")[1]
    assert step.payload() == {
        "step": "overdue_1",
        "level": 1,
        "label": "Đôn đốc: quá hạn",
        "due_on": "2023-04-01",
        "deadline": "2023-03-31",
        "agencies": ["SXD"],
        "days_overdue": 1,
    }


def test_event_ids_are_deterministic_per_task_deadline_and_step():
    a = escalation_event_id("NV-1", D("2023-03-31"), "overdue_1")
    assert a == escalation_event_id("NV-1", D("2023-03-31"), "overdue_1")
    others = {
        escalation_event_id("NV-2", D("2023-03-31"), "overdue_1"),
        escalation_event_id("NV-1", D("2023-04-30"), "overdue_1"),
        escalation_event_id("NV-1", D("2023-03-31"), "overdue_2"),
    }
    assert a not in others and len(others) == 3


# -- working days ------------------------------------------------------------------------


def test_reminder_before_a_deadline_inside_tet_2024():
    # Per the `holidays` package, Tết Giáp Thìn runs Thu 08/02 – Wed 14/02/2024:
    # 09/02 (the Friday) is itself a holiday, so is 08/02.
    assert not CAL.is_working_day(D("2024-02-08"))
    assert not CAL.is_working_day(D("2024-02-09"))
    assert CAL.is_working_day(D("2024-02-07"))
    reminder = Facts("2024-02-09", assigned_on="2024-01-02").steps("2024-02-09")[0]
    # Working days before 09/02: Wed 07/02, Tue 06/02, Mon 05/02.
    assert (reminder.code, reminder.due_on) == ("reminder", D("2024-02-05"))


def test_reminder_for_a_monday_deadline_is_the_previous_wednesday():
    reminder = Facts("2024-03-18").steps("2024-03-18")[0]
    assert D("2024-03-18").weekday() == 0
    assert reminder.due_on == D("2024-03-13")
    assert reminder.due_on.weekday() == 2


def test_reminder_across_30_4_and_1_5():
    # 2024: 29/4 swapped off (worked back on Sat 04/5), 30/4 and 1/5 holidays.
    reminder = Facts("2024-05-02", assigned_on="2024-04-01").steps("2024-05-02")[0]
    assert reminder.due_on == D("2024-04-24")  # Fri 26, Thu 25, Wed 24
    # The Saturday worked in exchange counts: Mon 06/5 → Sat 04/5, Fri 03/5, Thu 02/5.
    reminder = Facts("2024-05-06", assigned_on="2024-04-01").steps("2024-05-06")[0]
    assert reminder.due_on == D("2024-05-02")
    # 2023: 29/4–03/5 off (Giỗ Tổ moved, compensatory days).
    reminder = Facts("2023-05-04", assigned_on="2023-04-01").steps("2023-05-04")[0]
    assert reminder.due_on == D("2023-04-26")


# -- open, closed, not yet due -----------------------------------------------------------


def test_nothing_before_its_due_date():
    facts = Facts("2023-03-31", assigned_on="2023-03-01")
    assert facts.steps("2023-03-27") == []
    assert summary(facts.steps("2023-03-28")) == [("reminder", "2023-03-31", "2023-03-28")]
    assert [s.code for s in facts.steps("2023-04-06")] == ["reminder", "overdue_1"]


def test_a_deadline_at_the_end_of_the_calendar_has_only_the_steps_that_fit():
    # Older data could hold one (such dates are refused now): 31/12/9999 + 1 day is no
    # date at all, and the pass must go on for every other task.
    facts = Facts("9999-12-20", assigned_on="2023-03-01")
    assert [s.code for s in facts.steps("9999-12-31")] == ["reminder", "overdue_1", "overdue_2"]


def test_a_completed_task_gets_no_later_steps():
    facts = Facts("2023-03-31", assigned_on="2023-03-01").complete("2023-04-05")
    assert [s.code for s in facts.steps("2023-12-31")] == ["reminder", "overdue_1"]


def test_completion_on_the_due_day_prevents_that_step():
    facts = Facts("2023-03-31", assigned_on="2023-03-01").complete("2023-04-01")
    assert [s.code for s in facts.steps("2023-12-31")] == ["reminder"]


def test_a_cancelled_task_gets_no_later_steps():
    facts = Facts("2023-03-31", assigned_on="2023-03-01").cancel("2023-03-20")
    assert facts.steps("2023-12-31") == []


def test_a_task_without_deadline_is_never_escalated():
    assert Facts(None).steps("2030-01-01") == []
    assert epochs(Facts(None).task()) == []


def test_reminder_of_a_task_assigned_late_is_dated_on_assignment():
    facts = Facts("2024-03-18", assigned_on="2024-03-15")  # reminder would be Wed 13/3
    assert summary(facts.steps("2024-03-20")) == [
        ("reminder", "2024-03-18", "2024-03-15"),
        ("overdue_1", "2024-03-18", "2024-03-19"),
    ]


def test_a_late_reminder_says_how_many_working_days_are_left():
    # Thu 14/03/2024 assigned with a deadline on Mon 18/03: Fri and Mon are left.
    (late,) = [s for s in Facts("2024-03-18", assigned_on="2024-03-14").steps("2024-03-14")]
    assert (late.due_on, late.label) == (D("2024-03-14"), "Nhắc hạn: còn 2 ngày làm việc")
    # Fri 15/03 with a deadline on Mon 18/03: one working day is left, not none.
    (last,) = Facts("2024-03-18", assigned_on="2024-03-15").steps("2024-03-15")
    assert last.label == "Nhắc hạn: còn 1 ngày làm việc"
    (today,) = Facts("2024-03-18", assigned_on="2024-03-18").steps("2024-03-18")
    assert today.label == "Nhắc hạn: đến hạn hôm nay"
    (on_time,) = Facts("2024-03-18", assigned_on="2024-03-01").steps("2024-03-13")
    assert on_time.label == "Nhắc hạn: còn 3 ngày làm việc"


def test_the_reminder_counts_the_working_days_left_before_a_deadline_on_a_day_off():
    # A Saturday deadline: three working days before it is Wed 06/03; Thu and Fri are left.
    (saturday,) = Facts("2024-03-09", assigned_on="2024-03-01").steps("2024-03-06")
    assert (saturday.due_on, saturday.label) == (D("2024-03-06"), "Nhắc hạn: còn 2 ngày làm việc")
    # Given on Wed 07/02/2024 with a deadline of Tue 13/02, in Tết (08–14/02): none left,
    # and the deadline is not today.
    (tet,) = Facts("2024-02-13", assigned_on="2024-02-07").steps("2024-02-07")
    assert tet.label == "Nhắc hạn: hạn rơi vào ngày nghỉ, không còn ngày làm việc nào"


def test_the_reminder_is_named_as_the_ladder_names_it():
    ladder = Ladder(reminder_label="Báo sắp đến hạn")
    (reminder,) = Facts("2024-03-18", assigned_on="2024-03-01").steps("2024-03-13", ladder=ladder)
    assert reminder.label == "Báo sắp đến hạn: còn 3 ngày làm việc"


# -- extensions: epochs ------------------------------------------------------------------


def test_rule_an_extension_before_the_deadline_restarts_the_ladder():
    facts = Facts("2023-03-31", assigned_on="2023-03-01").extend("2023-03-30", "2023-04-28")
    assert summary(facts.steps("2023-06-30")) == [
        ("reminder", "2023-03-31", "2023-03-28"),
        ("reminder", "2023-04-28", "2023-04-25"),
        ("overdue_1", "2023-04-28", "2023-04-29"),
        ("overdue_2", "2023-04-28", "2023-05-05"),
        ("overdue_3", "2023-04-28", "2023-05-13"),
    ]


def test_a_step_due_on_the_approval_day_belongs_to_the_new_deadline():
    # Approved on 01/04, the day overdue_1 of 31/03 would fall due: that step never happens.
    facts = Facts("2023-03-31", assigned_on="2023-03-01").extend("2023-04-01", "2023-05-31")
    assert summary(facts.steps("2023-05-01")) == [("reminder", "2023-03-31", "2023-03-28")]


def test_a_late_extension_keeps_the_old_steps_and_restarts_after_approval():
    facts = Facts("2023-03-31", assigned_on="2023-03-01").extend("2023-04-10", "2023-04-30")
    assert summary(facts.steps("2023-05-02")) == [
        ("reminder", "2023-03-31", "2023-03-28"),
        ("overdue_1", "2023-03-31", "2023-04-01"),
        ("overdue_2", "2023-03-31", "2023-04-07"),
        ("reminder", "2023-04-30", "2023-04-26"),
        ("overdue_1", "2023-04-30", "2023-05-01"),
    ]


def test_reminder_of_an_extension_approved_a_day_before_its_new_deadline():
    # Deadline Wed 10/04/2024; on that day an extension to Thu 11/04 is approved.
    # The new reminder would be Mon 08/04, before the extension existed: dated 10/04.
    facts = Facts("2024-04-10", assigned_on="2024-03-01").extend("2024-04-10", "2024-04-11")
    assert summary(facts.steps("2024-04-30")) == [
        ("reminder", "2024-04-10", "2024-04-05"),
        ("reminder", "2024-04-11", "2024-04-10"),
        ("overdue_1", "2024-04-11", "2024-04-12"),
        ("overdue_2", "2024-04-11", "2024-04-18"),
        ("overdue_3", "2024-04-11", "2024-04-26"),
    ]


def test_an_extension_to_a_date_already_past_gets_no_reminder_and_dated_overdue_steps():
    # Approved 20/04 (late) to 15/04: the new deadline had passed when it was approved.
    facts = Facts("2023-03-31", assigned_on="2023-03-01").extend("2023-04-20", "2023-04-15")
    new = [s for s in facts.steps("2023-05-31") if s.deadline == D("2023-04-15")]
    assert [(s.code, s.due_on.isoformat(), s.days_overdue) for s in new] == [
        ("overdue_1", "2023-04-20", 5),
        ("overdue_2", "2023-04-22", 7),
        ("overdue_3", "2023-04-30", 15),
    ]
    # Dated later than the ladder says, a step keeps its own label (not a reminder's).
    assert [s.label for s in new] == [DEFAULT_LADDER.label_of(s.code) for s in new]


def test_a_back_dated_extension_recorded_later_takes_over_from_its_own_date():
    facts = (
        Facts("2023-03-31", assigned_on="2023-03-01")
        .extend("2023-03-20", "2023-04-30")
        .extend("2023-03-10", "2023-05-31")  # approved earlier, recorded after the first
    )
    spans = [(e.deadline.isoformat(), e.start.isoformat(), e.end) for e in epochs(facts.task())]
    assert spans == [
        ("2023-03-31", "2023-03-01", D("2023-03-10")),
        ("2023-04-30", "2023-03-20", D("2023-03-20")),  # overtaken: never in force
        ("2023-05-31", "2023-03-10", None),
    ]
    assert {s.deadline for s in facts.steps("2023-07-31")} == {D("2023-05-31")}
    # As of 15/03 only the back-dated one is known: the same deadline was in force.
    assert facts.task(D("2023-03-15")).current_deadline == D("2023-05-31")


def test_agencies_are_the_leads_on_the_day_the_step_fell_due():
    facts = Facts("2023-03-31", assigned_on="2023-03-01").reassign("2023-04-05", ["STC"])
    task = facts.task(D("2023-04-30"))
    steps = due_steps(task, D("2023-04-30"), CAL, leads_on=lambda day: facts.task(day).leads)
    assert [(s.code, s.agencies) for s in steps] == [
        ("reminder", ("SXD",)),
        ("overdue_1", ("SXD",)),
        ("overdue_2", ("STC",)),
        ("overdue_3", ("STC",)),
    ]


def test_pending_steps_leave_out_what_is_already_on_the_stream():
    facts = Facts("2023-03-31", assigned_on="2023-03-01")
    first = facts.steps("2023-04-01")
    for step in first:
        facts.facts.append({"id": step.event_id, "type": "task.escalated", "data": step.payload()})
    task = facts.task(D("2023-04-30"))
    assert [s.code for s in pending_steps(task, D("2023-04-30"), CAL)] == [
        "overdue_2",
        "overdue_3",
    ]
    assert task.escalation_level == 1


# -- catch-up, as a property of the rules ------------------------------------------------


def _union_day_by_day(facts: Facts, first: date, last: date) -> set:
    seen = set()
    day = first
    while day <= last:
        seen |= {s.key for s in facts.steps(day)}
        day += timedelta(days=1)
    return seen


@settings(max_examples=150, deadline=None)
@given(
    deadline_offset=st.integers(0, 40),
    extensions=st.lists(st.tuples(st.integers(0, 60), st.integers(1, 40)), max_size=3),
    closed=st.one_of(st.none(), st.tuples(st.booleans(), st.integers(0, 80))),
    downtime=st.integers(1, 30),
)
def test_day_by_day_equals_catch_up(deadline_offset, extensions, closed, downtime):
    start = D("2024-01-15")
    deadline = start + timedelta(days=deadline_offset)
    facts = Facts(deadline.isoformat(), assigned_on=start.isoformat())
    current = deadline
    for approve_after, push in extensions:
        current = current + timedelta(days=push)
        facts.extend((start + timedelta(days=approve_after)).isoformat(), current.isoformat())
    if closed is not None:
        completed, after = closed
        on = (start + timedelta(days=after)).isoformat()
        if completed:
            facts.complete(on)
        else:
            facts.cancel(on)
    last = start + timedelta(days=100)
    daily = _union_day_by_day(facts, start, last)
    # Down from day 1 until `downtime` days later, then daily again.
    resumed = {s.key for s in facts.steps(start + timedelta(days=downtime))}
    resumed |= _union_day_by_day(facts, start + timedelta(days=downtime), last)
    once = {s.key for s in facts.steps(last)}
    assert daily == once == resumed
    # Each step at most once per deadline.
    assert len({(k[1], k[2]) for k in once}) == len(once)


# -- through the CLI and the store, on both backends -------------------------------------


class Nhiemvu(CliTool):
    """The shared CLI helper (no --actor by default), plus the escalation steps logged."""

    def __init__(self, db_url: str, actor: str | None = None) -> None:
        super().__init__(db_url, actor)

    def escalated(self) -> list:
        return self.events("task.escalated")

    def events(self, event_type: str) -> list:
        engine = make_engine(self.db_url)
        try:
            return [e for e in EventStore(engine, REGISTRY).read_all() if e.type == event_type]
        finally:
            engine.dispose()

    def keys(self) -> set:
        return {
            (e.stream_id, e.data["step"], e.data["deadline"], e.data["due_on"])
            for e in self.escalated()
        }

    def event_count(self) -> int:
        engine = make_engine(self.db_url)
        try:
            return EventStore(engine, REGISTRY).count()
        finally:
            engine.dispose()


def seed(db_url: str) -> Nhiemvu:
    """Agencies and a directive, recorded by a person (not the scheduler)."""
    n = Nhiemvu(db_url, actor="tester")
    n.ok("agency", "add", "SXD", "--name", "Sở Xây dựng", "--kind", "so")
    n.ok("agency", "add", "STC", "--name", "Sở Tài chính", "--kind", "so")
    n.ok("agency", "add", "SCT", "--name", "Sở Công Thương", "--kind", "so")
    n.ok("directive", "add", "02/CT-UBND", "--date", "02/01/2024", "--title", "Chỉ thị năm 2024")
    return n


def assign(n: Nhiemvu, task_id: str, deadline: str, *extra: str, lead: str = "SXD") -> None:
    n.ok(
        "task", "assign", "--directive", "02/CT-UBND", "--id", task_id, "--title",
        f"Nhiệm vụ {task_id}", "--lead", lead, "--deadline", deadline, *extra,
    )  # fmt: skip


def build_scenario(n: Nhiemvu) -> None:
    """Tasks whose facts (all in the past) span 01/03–25/03/2024: one of each case."""
    assign(n, "OPEN", "2024-03-05", "--assigned-on", "2024-02-01")
    assign(n, "EXT", "2024-03-08", "--assigned-on", "2024-02-01")
    n.ok("task", "extend", "EXT", "--to", "2024-03-20", "--on", "2024-03-07")
    assign(n, "LATE-EXT", "2024-03-04", "--assigned-on", "2024-02-01", lead="STC")
    n.ok("task", "extend", "LATE-EXT", "--to", "2024-03-15", "--on", "2024-03-12")
    assign(n, "DONE", "2024-03-06", "--assigned-on", "2024-02-01")
    n.ok("task", "complete", "DONE", "--on", "2024-03-10")
    assign(n, "CANCELLED", "2024-03-11", "--assigned-on", "2024-02-01", lead="SCT")
    n.ok("task", "cancel", "CANCELLED", "--on", "2024-03-09", "--reason", "Không còn cần")
    assign(n, "NEW", "2024-03-14", "--assigned-on", "2024-03-13")  # reminder date < assignment
    assign(n, "MOVED", "2024-03-01", "--assigned-on", "2024-02-01")
    n.ok("task", "reassign", "MOVED", "--lead", "STC", "--on", "2024-03-05")


EXPECTED_ON_DAY_25 = {
    ("task:OPEN", "reminder", "2024-03-05", "2024-02-29"),
    ("task:OPEN", "overdue_1", "2024-03-05", "2024-03-06"),
    ("task:OPEN", "overdue_2", "2024-03-05", "2024-03-12"),
    ("task:OPEN", "overdue_3", "2024-03-05", "2024-03-20"),
    ("task:EXT", "reminder", "2024-03-08", "2024-03-05"),
    ("task:EXT", "reminder", "2024-03-20", "2024-03-15"),
    ("task:EXT", "overdue_1", "2024-03-20", "2024-03-21"),
    ("task:LATE-EXT", "reminder", "2024-03-04", "2024-02-28"),
    ("task:LATE-EXT", "overdue_1", "2024-03-04", "2024-03-05"),
    ("task:LATE-EXT", "overdue_2", "2024-03-04", "2024-03-11"),
    ("task:LATE-EXT", "reminder", "2024-03-15", "2024-03-12"),
    ("task:LATE-EXT", "overdue_1", "2024-03-15", "2024-03-16"),
    ("task:LATE-EXT", "overdue_2", "2024-03-15", "2024-03-22"),
    ("task:DONE", "reminder", "2024-03-06", "2024-03-01"),
    ("task:DONE", "overdue_1", "2024-03-06", "2024-03-07"),
    ("task:CANCELLED", "reminder", "2024-03-11", "2024-03-06"),
    ("task:NEW", "reminder", "2024-03-14", "2024-03-13"),
    ("task:NEW", "overdue_1", "2024-03-14", "2024-03-15"),
    ("task:NEW", "overdue_2", "2024-03-14", "2024-03-21"),
    ("task:MOVED", "reminder", "2024-03-01", "2024-02-27"),
    ("task:MOVED", "overdue_1", "2024-03-01", "2024-03-02"),
    ("task:MOVED", "overdue_2", "2024-03-01", "2024-03-08"),
    ("task:MOVED", "overdue_3", "2024-03-01", "2024-03-16"),
}


def _days(first: str, last: str):
    day = D(first)
    while day <= D(last):
        yield day
        day += timedelta(days=1)


def test_day_by_day_and_after_downtime_raise_the_same_steps(db_url, second_db_url):
    daily, downtime = seed(db_url), seed(second_db_url)
    build_scenario(daily)
    build_scenario(downtime)
    for day in _days("2024-03-01", "2024-03-25"):
        Nhiemvu(db_url).ok("escalate", "--as-of", day.isoformat())
    # Day 1, then down for 20 days, then day 21 and day 25.
    for day in ("2024-03-01", "2024-03-21", "2024-03-25"):
        Nhiemvu(second_db_url).ok("escalate", "--as-of", day)
    assert daily.keys() == downtime.keys() == EXPECTED_ON_DAY_25

    def detail(n):
        return {
            (e.stream_id, e.data["step"], e.data["deadline"]): (
                e.occurred_at,
                tuple(e.data["agencies"]),
                e.data["days_overdue"],
                e.actor,
            )
            for e in n.escalated()
        }

    assert detail(daily) == detail(downtime)
    for (_stream, _step, _deadline), (occurred, *_rest) in detail(daily).items():
        assert occurred.minute == 0 and occurred.second == 0
    # Each step dated on the day it fell due, never on the catch-up day.
    for e in downtime.escalated():
        assert e.occurred_at == start_of_day(D(e.data["due_on"]))
        assert e.actor == "scheduler"
    moved = {
        e.data["step"]: e.data["agencies"] for e in daily.escalated() if "MOVED" in e.stream_id
    }
    assert moved == {
        "reminder": ["SXD"],
        "overdue_1": ["SXD"],
        "overdue_2": ["STC"],
        "overdue_3": ["STC"],
    }


def test_a_second_pass_writes_nothing(db_url):
    n = seed(db_url)
    build_scenario(n)
    first = n.json("escalate", "--as-of", "2024-03-25")
    assert {(f"task:{r['task']}", r["step"], r["deadline"], r["due_on"]) for r in first} == (
        EXPECTED_ON_DAY_25
    )
    assert all(r["raised"] is True for r in first)
    count = n.event_count()
    assert n.json("escalate", "--as-of", "2024-03-25") == []
    assert n.event_count() == count
    # An earlier date has nothing new either: its steps are a subset.
    assert n.json("escalate", "--as-of", "2024-03-10") == []
    assert n.event_count() == count


def test_dry_run_lists_the_same_steps_and_writes_nothing(db_url):
    n = seed(db_url)
    build_scenario(n)
    count = n.event_count()
    planned = n.json("escalate", "--as-of", "2024-03-25", "--dry-run")
    assert n.event_count() == count
    assert all(r["raised"] is False for r in planned)
    done = n.json("escalate", "--as-of", "2024-03-25")
    strip = [{k: v for k, v in r.items() if k != "raised"} for r in planned]
    assert strip == [{k: v for k, v in r.items() if k != "raised"} for r in done]
    assert set(planned[0]) == {
        "task", "step", "level", "label", "due_on", "deadline", "agencies", "raised",
    }  # fmt: skip


def test_human_output_is_a_vietnamese_table(db_url):
    n = seed(db_url)
    assign(n, "T1", "2024-03-05", "--assigned-on", "2024-02-01")
    out = n.ok("escalate", "--as-of", "2024-03-06", "--dry-run").stdout
    assert "Chạy thử (không ghi gì), tính đến ngày 06/03/2024: sẽ ghi 2 bước." in out
    assert "Nhiệm vụ" in out and "Ngày đến hạn" in out and "Đôn đốc: quá hạn" in out
    assert "06/03/2024" in out and "29/02/2024" in out
    out = n.ok("escalate", "--as-of", "2024-03-06").stdout
    assert "đã ghi 2 bước" in out
    out = n.ok("escalate", "--as-of", "2024-03-06").stdout
    assert "không có bước đôn đốc nào mới" in out


def test_a_real_pass_in_the_future_is_refused_but_a_dry_run_is_not(db_url):
    n = seed(db_url)
    assign(n, "T1", "2024-03-05", "--assigned-on", "2024-02-01")
    count = n.event_count()
    result = n.run("escalate", "--as-of", "2999-01-01")
    assert result.exit_code == 1
    assert "Lỗi:" in result.stderr and "tương lai" in result.stderr
    assert n.event_count() == count
    assert len(n.json("escalate", "--as-of", "2999-01-01", "--dry-run")) == 4
    assert n.event_count() == count


def test_actor_is_scheduler_unless_given(db_url):
    n = seed(db_url)
    assign(n, "T1", "2024-03-05", "--assigned-on", "2024-02-01")
    Nhiemvu(db_url).ok("escalate", "--as-of", "2024-03-01")
    Nhiemvu(db_url, actor="chuyenvien.th").ok("escalate", "--as-of", "2024-03-06")
    assert {e.data["step"]: e.actor for e in n.escalated()} == {
        "reminder": "scheduler",
        "overdue_1": "chuyenvien.th",
    }


def _escalate_process(db_url: str, as_of: str) -> subprocess.Popen:
    code = "import cli; cli.main()"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen(
        [sys.executable, "-c", code, "--db", db_url, "escalate", "--as-of", as_of, "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )


def test_two_processes_at_once_raise_each_step_once(db_url):
    n = seed(db_url)
    for i in range(12):
        assign(n, f"P{i:02d}", f"2024-03-{i + 1:02d}", "--assigned-on", "2024-02-01")
    processes = [_escalate_process(db_url, "2024-03-31") for _ in range(2)]
    outputs = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
        outputs.append(json.loads(stdout))
    events = n.escalated()
    ids = [e.event_id for e in events]
    assert len(ids) == len(set(ids))
    keys = [(e.stream_id, e.data["step"], e.data["deadline"]) for e in events]
    assert len(keys) == len(set(keys)) == 12 * 4
    # Between them the two processes report every step, and none twice.
    reported = [(f"task:{r['task']}", r["step"], r["deadline"]) for out in outputs for r in out]
    assert sorted(reported) == sorted(keys)


def test_an_extension_before_the_deadline_restarts_the_ladder(db_url):
    n = seed(db_url)
    assign(n, "K3", "2024-05-31", "--assigned-on", "2024-05-02")
    n.ok("escalate", "--as-of", "2024-05-30")
    assert n.json("task", "show", "K3", "--as-of", "2024-05-30")["escalation_level"] == 0
    n.ok("task", "extend", "K3", "--to", "2024-06-28", "--on", "2024-05-30")
    # Nothing more for 31/05: its overdue steps would fall after the extension.
    assert n.json("escalate", "--as-of", "2024-06-20") == []
    raised = n.json("escalate", "--as-of", "2024-07-06")
    assert [(r["step"], r["deadline"], r["due_on"]) for r in raised] == [
        ("reminder", "2024-06-28", "2024-06-25"),
        ("overdue_1", "2024-06-28", "2024-06-29"),
        ("overdue_2", "2024-06-28", "2024-07-05"),
    ]
    assert n.json("task", "show", "K3", "--as-of", "2024-07-06")["escalation_level"] == 2
    assert {(e.data["step"], e.data["deadline"]) for e in n.escalated()} == {
        ("reminder", "2024-05-31"),
        ("reminder", "2024-06-28"),
        ("overdue_1", "2024-06-28"),
        ("overdue_2", "2024-06-28"),
    }


def test_a_late_extension_resets_the_level_which_rises_again(db_url):
    n = seed(db_url)
    assign(n, "K4", "2024-07-31", "--assigned-on", "2024-07-01")
    n.ok("escalate", "--as-of", "2024-08-08")
    assert n.json("task", "show", "K4", "--as-of", "2024-08-08")["escalation_level"] == 2
    n.ok("task", "extend", "K4", "--to", "2024-08-31", "--on", "2024-08-09")
    assert n.json("task", "show", "K4", "--as-of", "2024-08-09")["escalation_level"] == 0
    n.ok("escalate", "--as-of", "2024-09-01")
    shown = n.json("task", "show", "K4", "--as-of", "2024-09-01")
    assert shown["escalation_level"] == 1
    assert shown["current_deadline"] == "2024-08-31"


def test_a_completed_task_gets_no_later_steps_through_the_store(db_url):
    n = seed(db_url)
    assign(n, "K5", "2024-03-05", "--assigned-on", "2024-02-01")
    n.ok("escalate", "--as-of", "2024-03-07")
    n.ok("task", "complete", "K5", "--on", "2024-03-08")
    assert n.json("escalate", "--as-of", "2024-04-30") == []
    assert {e.data["step"] for e in n.escalated()} == {"reminder", "overdue_1"}


def test_a_task_completed_between_the_scan_and_the_writes_gets_only_its_earlier_steps(
    db_url, monkeypatch
):
    """The pass scans without the lock and writes under it: a completion recorded in
    between (by another process) is seen, and the steps it made moot are not raised."""
    n = seed(db_url)
    assign(n, "K7", "2024-03-05", "--assigned-on", "2024-02-01")
    assign(n, "K8", "2024-03-05", "--assigned-on", "2024-02-01")
    scheduler_app, secretariat = App(db_url, "scheduler"), App(db_url, "văn thư")
    scan = application.escalation.candidates

    def scan_then_complete(*args, **kwargs):
        yield from scan(*args, **kwargs)
        secretariat.ledger.complete("K7", D("2024-03-08"), None)

    monkeypatch.setattr(application.escalation, "candidates", scan_then_complete)
    try:
        result = run_escalation_pass(scheduler_app.ledger, as_of=D("2024-04-30"))
    finally:
        scheduler_app.close()
        secretariat.close()
    raised = {(o.step.task_id, o.step.code) for o in result.outcomes}
    assert raised == {("K7", "reminder"), ("K7", "overdue_1")} | {
        ("K8", code) for code in ("reminder", "overdue_1", "overdue_2", "overdue_3")
    }
    assert {(e.stream_id, e.data["step"]) for e in n.escalated()} == {
        (f"task:{task}", code) for task, code in raised
    }


def test_a_pass_that_another_overtook_records_nothing(db_url, monkeypatch):
    """Two passes at once: the one that scanned first but wrote last finds every step
    raised by the other, which also recorded the day as passed; it has nothing to add
    to the log, not a second pass of the same day (with a stale position)."""
    n = seed(db_url)
    assign(n, "K7", "2024-03-05", "--assigned-on", "2024-02-01")
    late, early = App(db_url, "scheduler"), App(db_url, "scheduler")
    scan = application.escalation.candidates

    def scan_then_let_the_other_pass(*args, **kwargs):
        found = list(scan(*args, **kwargs))
        monkeypatch.setattr(application.escalation, "candidates", scan)
        run_escalation_pass(early.ledger, as_of=D("2024-04-30"))
        yield from found

    monkeypatch.setattr(application.escalation, "candidates", scan_then_let_the_other_pass)
    before = n.event_count()
    try:
        overtaken = run_escalation_pass(late.ledger, as_of=D("2024-04-30"))
    finally:
        late.close()
        early.close()
    assert overtaken.outcomes == []
    passes = n.events("escalation.pass_completed")
    assert [p.data["as_of"] for p in passes] == ["2024-04-30"]
    assert n.event_count() == before + 4 + 1  # the other's four steps and its pass


def _read_by_next_pass(app: App, as_of: date) -> set[str]:
    """The tasks the next pass as of that day would read (derive from their facts)."""
    ladder = DEFAULT_LADDER
    with app.engine.connect() as connection:
        since = application.escalation.last_pass(connection, ladder)
        calendar = app.ledger.calendar()
        found = application.escalation.candidates(connection, as_of, calendar, ladder, since)
        return {task_id for task_id, _ in found}


def test_the_day_after_a_pass_reads_its_tasks_again_only_if_others_wrote_meanwhile(
    db_url, monkeypatch
):
    """A pass's own steps settle their tasks: alone on the log, the next day's pass
    does not read them again until a further step falls due. Had anyone else written
    between its scan and its end, it reads every task changed since its scan."""
    n = seed(db_url)
    assign(n, "K7", "2024-03-05", "--assigned-on", "2024-02-01")
    assign(n, "K8", "2024-03-05", "--assigned-on", "2024-02-01")
    app = App(db_url, "scheduler")
    try:
        run_escalation_pass(app.ledger, as_of=D("2024-03-06"), ladder=DEFAULT_LADDER)
        assert _read_by_next_pass(app, D("2024-03-07")) == set()  # overdue_2 on 12/03
        assert _read_by_next_pass(app, D("2024-03-12")) == {"K7", "K8"}

        secretariat = App(db_url, "văn thư")
        scan = application.escalation.candidates

        def scan_then_report(*args, **kwargs):
            yield from scan(*args, **kwargs)
            secretariat.ledger.report_progress("K8", 40, D("2024-03-12"), "Đang làm")

        monkeypatch.setattr(application.escalation, "candidates", scan_then_report)
        try:
            run_escalation_pass(app.ledger, as_of=D("2024-03-12"), ladder=DEFAULT_LADDER)
        finally:
            secretariat.close()
        monkeypatch.undo()
        assert _read_by_next_pass(app, D("2024-03-13")) == {"K7", "K8"}
        run_escalation_pass(app.ledger, as_of=D("2024-03-13"), ladder=DEFAULT_LADDER)
        assert _read_by_next_pass(app, D("2024-03-14")) == set()  # overdue_3 on 20/03
    finally:
        app.close()


def test_a_fact_dated_after_the_last_pass_keeps_its_task_read(db_url):
    """A catch-up pass as of a past day sees a task as it stood that day. An
    extension already recorded but approved later leaves the old deadline in force
    until then, and its next step must still come although the task is unchanged
    since that pass and its current deadline is far off."""
    n = seed(db_url)
    assign(n, "K9", "2024-03-05", "--assigned-on", "2024-02-01")
    n.ok("task", "extend", "K9", "--to", "2024-04-30", "--on", "2024-03-20")
    app = App(db_url, "scheduler")
    try:
        first = run_escalation_pass(app.ledger, as_of=D("2024-03-06"), ladder=DEFAULT_LADDER)
        assert [o.step.code for o in first.outcomes] == ["reminder", "overdue_1"]
        assert _read_by_next_pass(app, D("2024-03-15")) == {"K9"}
        second = run_escalation_pass(app.ledger, as_of=D("2024-03-15"), ladder=DEFAULT_LADDER)
        assert [(o.step.code, o.step.deadline) for o in second.outcomes] == [
            ("overdue_2", D("2024-03-05"))
        ]
    finally:
        app.close()


@given(st.lists(st.one_of(st.just("append"), st.integers(0, 30)), max_size=40))
def test_the_same_fingerprint_means_the_same_facts(changes):
    """What the pass relies on to skip deriving a task again under the lock: over any
    history of appended and retracted facts, two states with the same fingerprint
    are the same list."""
    facts: list[dict] = []
    states = [facts]
    for n, change in enumerate(changes):
        if change == "append":
            facts = [*facts, {"id": f"e{n}", "type": "task.progress_reported"}]
        elif facts:
            retracted = facts[change % len(facts)]["id"]
            facts = [f for f in facts if f["id"] != retracted]
        states.append(facts)
    for a in states:
        for b in states:
            assert _fingerprint(a) != _fingerprint(b) or a == b


def test_task_history_shows_the_steps(db_url):
    n = seed(db_url)
    assign(n, "K6", "2024-03-05", "--assigned-on", "2024-02-01")
    Nhiemvu(db_url).ok("escalate", "--as-of", "2024-03-12")  # no --actor: "scheduler"
    history = n.json("task", "history", "K6")
    steps = [r for r in history if r["type"] == "task.escalated"]
    assert [(r["data"]["step"], r["data"]["due_on"], r["actor"]) for r in steps] == [
        ("reminder", "2024-02-29", "scheduler"),
        ("overdue_1", "2024-03-06", "scheduler"),
        ("overdue_2", "2024-03-12", "scheduler"),
    ]
    assert steps[1]["occurred_at"].startswith("2024-03-05T17:00:00")  # 06/03 00:00 +07
    table = n.ok("task", "history", "K6").stdout
    assert table.count("Đôn đốc ") == 3
    assert "Nhắc hạn: còn 3 ngày làm việc (hạn 05/03/2024), gửi SXD" in table


def test_steps_of_days_a_back_dated_completion_closed_the_task_are_no_level(db_url):
    """The morning pass urges a task whose completion on time is logged that afternoon:
    the steps stay in the history, but the task is done and at no escalation level."""
    n = seed(db_url)
    assign(n, "K8", "2024-03-05", "--assigned-on", "2024-02-01")
    n.ok("escalate", "--as-of", "2024-03-12")
    assert n.json("task", "show", "K8")["escalation_level"] == 2
    n.ok("task", "complete", "K8", "--on", "2024-03-05")
    shown = n.json("task", "show", "K8")
    assert (shown["status"], shown["escalation_level"], shown["escalation_step"]) == (
        "done_on_time",
        0,
        None,
    )
    assert "Mức đôn đốc" not in n.ok("task", "show", "K8").stdout
    assert len(n.escalated()) == 3  # the log keeps what was sent


def test_a_retracted_step_stays_retracted_and_later_steps_still_come(db_url):
    n = seed(db_url)
    assign(n, "K7", "2024-03-05", "--assigned-on", "2024-02-01")
    n.ok("escalate", "--as-of", "2024-03-06")
    wrong = next(e for e in n.escalated() if e.data["step"] == "overdue_1")
    n.ok("correct", wrong.event_id, "--reason", "Đôn đốc nhầm: đơn vị đã báo cáo bằng văn bản")
    assert n.json("task", "show", "K7", "--as-of", "2024-03-06")["escalation_level"] == 0
    # overdue_1 is due again in the rules' eyes, but its event id is on the log.
    raised = n.json("escalate", "--as-of", "2024-03-12")
    assert [(r["step"], r["due_on"]) for r in raised] == [("overdue_2", "2024-03-12")]
    assert n.json("escalate", "--as-of", "2024-03-12") == []
    # A dry run does not promise the retracted step either: it lists what a pass writes.
    assert n.json("escalate", "--as-of", "2024-03-12", "--dry-run") == []
    steps = [e.data["step"] for e in n.escalated()]
    assert sorted(steps) == ["overdue_1", "overdue_2", "reminder"]


def _rules_change_on_new_year(tmp_path, monkeypatch, level_2: int, level_3: int) -> None:
    """The shipped book until 31/12/2023, then one whose levels 2 and 3 come at
    `level_2` and `level_3` days overdue (as a new decision would set them)."""
    import workflow.rulebook as rulebook_module

    shipped = next(rulebook_module.default_rulebooks_dir().glob("rulebook_*.toml"))
    text = shipped.read_text(encoding="utf-8")
    folder = tmp_path / "rulebooks"
    folder.mkdir()
    (folder / "rulebook_a.toml").write_text(
        text.replace('effective_to = ""', "effective_to = 2023-12-31"), encoding="utf-8"
    )
    newer = (
        text.replace('id = "qd44-2019-haiphong"', 'id = "thu-2024"')
        .replace("effective_from = 2019-12-20", "effective_from = 2024-01-01")
        .replace(
            "level_2_days_overdue = { value = 7,", f"level_2_days_overdue = {{ value = {level_2},"
        )
        .replace(
            "level_3_days_overdue = { value = 15,", f"level_3_days_overdue = {{ value = {level_3},"
        )
    )
    (folder / "rulebook_b.toml").write_text(newer, encoding="utf-8")
    monkeypatch.setattr(rulebook_module, "default_rulebooks_dir", lambda: folder)


@pytest.fixture
def rules_change_on_new_year(tmp_path, monkeypatch):
    """From 2024, levels 2 and 3 at 10 and 20 days overdue (later than 7 and 15)."""
    _rules_change_on_new_year(tmp_path, monkeypatch, 10, 20)


@pytest.fixture
def stricter_rules_on_new_year(tmp_path, monkeypatch):
    """From 2024, levels 2 and 3 at 5 and 10 days overdue (sooner than 7 and 15)."""
    _rules_change_on_new_year(tmp_path, monkeypatch, 5, 10)


def test_after_downtime_across_a_change_of_rules_each_day_has_its_own_ladder(
    db_url, second_db_url, rules_change_on_new_year
):
    daily, downtime = seed(db_url), seed(second_db_url)
    for n in (daily, downtime):
        n.ok("directive", "add", "200/TB-UBND", "--date", "01/12/2023", "--title", "Tháng 12")
        for task_id, deadline in (("EARLY", "2023-12-10"), ("LATE", "2023-12-28")):
            n.ok("task", "assign", "--directive", "200/TB-UBND", "--id", task_id, "--title",
                 task_id, "--lead", "SXD", "--deadline", deadline, "--assigned-on", "2023-12-01")  # fmt: skip
    for day in _days("2023-12-01", "2024-01-20"):
        daily.ok("escalate", "--as-of", day.isoformat())
    downtime.ok("escalate", "--as-of", "2024-01-20")
    raised = daily.keys()
    assert downtime.keys() == raised
    assert {k for k in raised if k[0] == "task:LATE"} == {
        ("task:LATE", "reminder", "2023-12-28", "2023-12-25"),
        ("task:LATE", "overdue_1", "2023-12-28", "2023-12-29"),
        ("task:LATE", "overdue_2", "2023-12-28", "2024-01-07"),  # 10 days: the 2024 book
        ("task:LATE", "overdue_3", "2023-12-28", "2024-01-17"),  # 20 days
    }
    assert ("task:EARLY", "overdue_3", "2023-12-10", "2023-12-25") in raised  # 15 days


def _december_task(n: Nhiemvu, task_id: str, deadline: str, *extend: str) -> None:
    if "200/TB-UBND" not in {d["number"] for d in n.json("directive", "list")}:
        n.ok("directive", "add", "200/TB-UBND", "--date", "01/12/2023", "--title", "Tháng 12")
    n.ok("task", "assign", "--directive", "200/TB-UBND", "--id", task_id, "--title", task_id,
         "--lead", "SXD", "--deadline", deadline, "--assigned-on", "2023-12-01")  # fmt: skip
    if extend:
        n.ok("task", "extend", task_id, "--to", extend[0], "--on", extend[1])


def test_a_stricter_ladder_puts_no_step_on_days_before_it_took_effect(
    db_url, second_db_url, stricter_rules_on_new_year
):
    """The 2024 book's level 3 (10 days) of a deadline of 15/12/2023 would be 25/12,
    when the 2023 book (15 days) was in force; the deadline was extended on 27/12,
    so no day of either book ever had that step due."""
    daily, downtime = seed(db_url), seed(second_db_url)
    _december_task(daily, "EXT", "2023-12-15")
    for day in _days("2023-12-01", "2023-12-26"):
        daily.ok("escalate", "--as-of", day.isoformat())
    daily.ok("task", "extend", "EXT", "--to", "2024-01-31", "--on", "2023-12-27")
    _december_task(downtime, "EXT", "2023-12-15", "2024-01-31", "2023-12-27")
    # A task whose deadline has not moved: the 2024 book's level 3 of its deadline,
    # 30/12 by its count, falls due on the book's first day, as on a daily pass then.
    for n in (daily, downtime):
        _december_task(n, "OPEN", "2023-12-20")
    for day in _days("2023-12-27", "2024-01-05"):
        daily.ok("escalate", "--as-of", day.isoformat())
    downtime.ok("escalate", "--as-of", "2024-01-05")
    raised = daily.keys()
    assert downtime.keys() == raised
    assert {k for k in raised if k[0] == "task:EXT" and k[2] == "2023-12-15"} == {
        ("task:EXT", "reminder", "2023-12-15", "2023-12-12"),
        ("task:EXT", "overdue_1", "2023-12-15", "2023-12-16"),
        ("task:EXT", "overdue_2", "2023-12-15", "2023-12-22"),  # 7 days: the 2023 book
    }
    assert {k for k in raised if k[0] == "task:OPEN" and k[1] == "overdue_3"} == {
        ("task:OPEN", "overdue_3", "2023-12-20", "2024-01-01"),
    }
    labels = {
        e.data["step"]: e.data["label"] for e in daily.escalated() if e.stream_id == "task:OPEN"
    }
    assert labels["overdue_3"].endswith("quá hạn 10 ngày")


def test_a_task_recorded_late_gets_the_steps_of_an_earlier_ladder_passed_before(
    db_url, second_db_url, rules_change_on_new_year
):
    """The days of the 2023 book were passed while it was in force; a task assigned
    then, recorded only in January, still gets the steps that book put on them."""
    late, known = seed(db_url), seed(second_db_url)
    for day in _days("2023-12-01", "2024-01-05"):
        late.ok("escalate", "--as-of", day.isoformat())
    for n in (late, known):
        _december_task(n, "BACK", "2023-12-11", "2024-01-31", "2023-12-19")
        n.ok("escalate", "--as-of", "2024-01-06")
    raised = late.keys()
    assert known.keys() == raised
    assert {k for k in raised if k[0] == "task:BACK"} == {
        ("task:BACK", "reminder", "2023-12-11", "2023-12-06"),
        ("task:BACK", "overdue_1", "2023-12-11", "2023-12-12"),
        ("task:BACK", "overdue_2", "2023-12-11", "2023-12-18"),  # 7 days: the 2023 book
    }
