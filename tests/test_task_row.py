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


# A fact's text as the session knows it: none (it encodes the facts when it writes),
# the text, or the text's UTF-8 bytes (a rebuild fed the payloads as bytes; an
# upcast payload still comes as text).
texts = st.sampled_from([None, "text", "bytes"])
# What may happen to a held task between its facts: nothing, the session lightens
# it (facts kept as text only), or it is written out (its text read).
steps = st.lists(
    st.tuples(texts, st.sampled_from(["none", "lighten", "write", "task"])), max_size=12
)


def as_given(fact: dict, kind: str | None):
    text = facts_text(fact)
    return {None: None, "text": text, "bytes": text.encode()}[kind]


@given(steps, texts)
def test_the_text_of_a_task_row_always_is_that_of_its_facts(steps, first):
    """Byte for byte, whatever mix of texts and bytes it was given."""
    row = TaskRow("NV-00011", [], 0, 1)
    row.added(ASSIGNED, as_given(ASSIGNED, first))
    expected = [ASSIGNED]
    for number, (kind, then) in enumerate(steps, start=1):
        fact = progress(number)
        row.added(fact, as_given(fact, kind))
        expected.append(fact)
        if then == "lighten":
            row.lighten()
        elif then == "write" and row.facts_json is None:
            row.facts_json = facts_text(row.facts)  # as the session does when it writes
        elif then == "task":
            assert row.task.id == "NV-00011"
        text = row.facts_json
        if text is not None:
            assert (text.decode() if isinstance(text, bytes) else text) == facts_text(expected)
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
