"""A task held by a projection session keeps its facts' JSON text in step with its facts.

The row is written from that text, not by encoding the facts again, so a text that
drifted from the facts would be stored as the task's history without any error.
"""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from application.projection import TaskRow, facts_text

ASSIGNED = {
    "id": "e-0",
    "type": "task.assigned",
    "data": {
        "assigned_on": "2020-01-02",
        "clause": "1.2",
        "coordinators": [],
        "deadline": {"due": "2020-03-06", "kind": "date", "value": "2020-03-06"},
        "directive": "2/TB-UBND",
        "leader": "Phó Chủ tịch UBND thành phố",
        "leads": ["SKHDT"],
        "task_id": "NV-00011",
        "title": "Tham mưu ban hành quy hoạch chi tiết khu đô thị mới",
    },
}


def progress(number: int) -> dict:
    return {
        "id": f"e-{number}",
        "type": "task.progress_reported",
        "data": {"note": None, "on": f"2020-02-{number % 28 + 1:02d}", "percent": number % 101},
    }


# What may happen to a held task between its facts: nothing, the session lightens
# it (facts kept as text only), or it is written out (its text read).
steps = st.lists(
    st.tuples(st.booleans(), st.sampled_from(["none", "lighten", "write", "task"])),
    max_size=12,
)


@given(steps, st.booleans())
def test_the_text_of_a_task_row_always_parses_to_its_facts(steps, text_known):
    row = TaskRow("NV-00011", [], 0, 1)
    row.added(ASSIGNED, facts_text(ASSIGNED) if text_known else None)
    expected = [ASSIGNED]
    for number, (with_text, then) in enumerate(steps, start=1):
        fact = progress(number)
        row.added(fact, facts_text(fact) if with_text else None)
        expected.append(fact)
        if then == "lighten":
            row.lighten()
        elif then == "write" and row.facts_json is None:
            row.facts_json = facts_text(row.facts)  # as the session does when it writes
        elif then == "task":
            assert row.task.id == "NV-00011"
        if row.facts_json is not None:
            assert json.loads(row.facts_json) == expected
    assert row.facts == expected
    assert row.last_fact_on.isoformat() == max(f["data"].get("on", "2020-01-02") for f in expected)


@given(st.lists(st.integers(min_value=1, max_value=40), max_size=6, unique=True))
def test_a_row_read_back_from_its_stored_text_goes_on_from_it(numbers):
    """A row read back from the table (its text as stored, spaces and all on an
    older row) takes further facts after the stored ones."""
    stored = [ASSIGNED, *(progress(n) for n in numbers)]
    for text in (facts_text(stored), json.dumps(stored)):
        row = TaskRow("NV-00011", json.loads(text), len(stored), 1, {}, text)
        row.added(progress(99), None)
        assert json.loads(row.facts_json) == [*stored, progress(99)]


@given(st.lists(st.integers(min_value=1, max_value=40), max_size=4))
def test_facts_added_one_by_one_read_as_one_text(numbers):
    """The texts are kept apart as facts come (see TaskRow.facts_json) and read as
    one JSON array, again and again, from an empty array too."""
    row = TaskRow("NV-00011", [], 0, 1, None, "[]")
    assert row.facts_json == "[]"
    row.added(ASSIGNED, facts_text(ASSIGNED))
    expected = [ASSIGNED]
    for n in numbers:
        row.added(progress(n), facts_text(progress(n)))
        expected.append(progress(n))
        assert json.loads(row.facts_json) == expected
        assert json.loads(row.facts_json) == expected  # read twice: the same text


def test_a_task_assigned_again_after_its_assignment_was_withdrawn_starts_afresh():
    row = TaskRow("NV-00011", [], 0, 1)
    row.added(ASSIGNED, facts_text(ASSIGNED))
    row.changed([])  # the assignment retracted
    assert row.facts_json is None and row.task is None
    again = {**ASSIGNED, "id": "e-2"}
    row.added(again, facts_text(again))
    assert json.loads(row.facts_json) == [again] == row.facts
