"""Task statuses and the effective-deadline rule, on DOMAIN.md's worked example."""

from datetime import date

import pytest

from workflow.tasks import derive_task

CUTOFF = date(2024, 12, 31)


def facts(due, *rest):
    assigned = {
        "id": "a",
        "type": "task.assigned",
        "data": {
            "task_id": "K",
            "directive": "1/TB",
            "title": "K",
            "leads": ["SCT"],
            "assigned_on": "2023-11-01",
            "deadline": {"kind": "date" if due else "none", "due": due},
        },
    }
    return [assigned, *({"id": str(i), "type": t, "data": d} for i, (t, d) in enumerate(rest))]


def ext(on, to):
    return ("task.extension_approved", {"on": on, "to": to, "reason": ""})


def done(on):
    return ("task.completed", {"on": on})


@pytest.mark.parametrize(
    ("name", "task_facts", "status", "deadline", "days"),
    [
        ("K1", facts("2024-01-31", done("2024-01-25")), "done_on_time", "2024-01-31", 0),
        ("K2", facts("2023-12-15", done("2024-02-10")), "done_late", "2023-12-15", 57),
        (
            "K3",
            facts("2024-05-31", ext("2024-05-20", "2024-06-30"), done("2024-06-28")),
            "done_on_time",
            "2024-06-30",
            0,
        ),
        (
            "K4",
            facts("2024-07-31", ext("2024-08-05", "2024-08-31"), done("2024-08-20")),
            "done_late",
            "2024-07-31",
            20,
        ),
        ("K5", facts("2024-11-30"), "overdue", "2024-11-30", 31),
        ("K6", facts(None), "ongoing", None, 0),
        (
            "K7",
            facts("2024-10-31", ("task.cancelled", {"on": "2024-10-01", "reason": "x"})),
            "cancelled",
            "2024-10-31",
            0,
        ),
    ],
)
def test_worked_example_statuses(name, task_facts, status, deadline, days):
    task = derive_task(task_facts)
    assert task.status(CUTOFF) == status, name
    assert task.effective_deadline == (date.fromisoformat(deadline) if deadline else None)
    assert task.days_overdue(CUTOFF) == days


def test_late_extension_moves_the_escalation_clock_not_the_lateness():
    task = derive_task(facts("2024-07-31", ext("2024-08-05", "2024-08-31")))
    assert task.current_deadline == date(2024, 8, 31)
    assert task.effective_deadline == date(2024, 7, 31)
    # A further extension, approved before the new date, cannot erase lateness either.
    task = derive_task(
        facts("2024-07-31", ext("2024-08-05", "2024-08-31"), ext("2024-08-20", "2024-09-30"))
    )
    assert task.effective_deadline == date(2024, 7, 31)
    assert task.current_deadline == date(2024, 9, 30)


def test_chained_in_time_extensions_each_count():
    task = derive_task(
        facts("2024-05-31", ext("2024-05-20", "2024-06-30"), ext("2024-06-30", "2024-07-31"))
    )
    assert task.effective_deadline == date(2024, 7, 31)


def test_as_of_leaves_out_later_facts():
    task_facts = facts("2024-05-31", ext("2024-05-20", "2024-06-30"), done("2024-06-28"))
    assert derive_task(task_facts, date(2024, 5, 10)).status(date(2024, 5, 10)) == "in_progress"
    assert derive_task(task_facts, date(2024, 5, 25)).effective_deadline == date(2024, 6, 30)
    assert derive_task(task_facts, date(2023, 10, 1)) is None
    # on the deadline day itself the task is still in time
    assert derive_task(facts("2024-05-31")).status(date(2024, 5, 31)) == "in_progress"
    assert derive_task(facts("2024-05-31")).status(date(2024, 6, 1)) == "overdue"
