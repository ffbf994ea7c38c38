"""What a rebuild's worker process sends back: its session's writes, recorded, cut
into messages of bounded size, and run again in the rebuild's transaction in the
order the session made them. (The rebuild with workers, end to end, is tested in
test_bulk_writes.py on both engines.)"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.rebuild_workers import DetachedRead, RecordedWrites, in_messages, replay
from events.sql import dialect_named

STATEMENTS = st.lists(
    st.one_of(
        st.tuples(st.just("execute"), st.integers(0, 9)),
        st.tuples(st.just("executemany"), st.lists(st.integers(), max_size=12)),
        st.tuples(st.just("insert_rows"), st.lists(st.integers(), max_size=12)),
    ),
    max_size=8,
)


def _recorded(statements) -> RecordedWrites:
    recorder = RecordedWrites(dialect_named("sqlite"))
    for n, (method, payload) in enumerate(statements):
        if method == "execute":
            recorder.execute(f"UPDATE t{n} SET v = :v", {"v": payload})
        elif method == "executemany":
            recorder.executemany(f"INSERT INTO t{n} (v) VALUES (:v)", [{"v": v} for v in payload])
        else:
            recorder.insert_rows(f"t{n}", ("v",), [{"v": v} for v in payload])
    return recorder


class _Replayed:
    """A Raw that lists the single statements it is asked to run."""

    def __init__(self) -> None:
        self.run: list[tuple] = []

    def execute(self, text, params=None):
        self.run.append((text, params))

    def executemany(self, text, rows):
        self.run.extend((text, row) for row in rows)

    def insert_values(self, table, columns, rows):
        self.run.extend((table, columns, row) for row in rows)


@given(statements=STATEMENTS, rows=st.integers(1, 5))
def test_messages_carry_every_write_in_order_and_at_most_so_many_rows(statements, rows):
    writes = _recorded(statements).writes
    messages = list(in_messages(writes, rows))

    for message in messages:
        assert message
        many = [write[-1] for write in message if write[0] != "execute"]
        assert sum(len(m) for m in many) <= rows
    whole, in_parts = _Replayed(), _Replayed()
    replay(whole, writes)
    for message in messages:
        replay(in_parts, message)
    assert in_parts.run == whole.run
    assert len(whole.run) == sum(1 if m == "execute" else len(p) for m, p in statements)


def test_a_detached_session_may_not_read():
    """It would see the projection as last committed, not as the rebuild leaves it."""
    recorder = RecordedWrites(dialect_named("sqlite"))
    for read in (recorder.one, recorder.all):
        with pytest.raises(DetachedRead):
            read("SELECT value FROM proj_counters")
    with pytest.raises(DetachedRead):
        recorder.in_list("t", ["NV-00001"])


def test_inserts_are_recorded_as_values_in_the_order_of_their_columns():
    """Tuples, not mappings, cross to the rebuild's process (see Raw.insert_values) —
    a single column's values as tuples too."""
    recorder = RecordedWrites(dialect_named("sqlite"))
    recorder.insert_rows("t", ("b", "a"), [{"a": 1, "b": 2}, {"a": 3, "b": 4}])
    recorder.insert_rows("u", ("a",), [{"a": 5}])
    recorder.insert_rows("u", ("a",), [])
    assert recorder.writes == [
        ("insert_values", "t", ("b", "a"), [(2, 1), (4, 3)]),
        ("insert_values", "u", ("a",), [(5,)]),
    ]
