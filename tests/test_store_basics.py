"""The event store's contract, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from events import (
    ANY_VERSION,
    NO_STREAM,
    ConcurrencyError,
    EventRegistry,
    EventStore,
    IdempotencyConflict,
    InvalidEvent,
    NewEvent,
    UnknownEventType,
)
from events.projections import (
    apply_in_transaction,
    catch_up,
    get_checkpoint,
    rebuild,
)
from events.schema import events as events_table
from events.verify import verify_chain

ICT = timezone(timedelta(hours=7), "ICT")
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=ICT)


class Boom(Exception):
    """Raised on purpose inside a transaction to make it roll back."""


class FakeClock:
    def __init__(self, start: datetime = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def make_registry(*extra: tuple[str, int]) -> EventRegistry:
    registry = EventRegistry()
    registry.register("task.noted")
    registry.register("task.closed")
    for name, version in extra:
        registry.register(name, version)
    return registry


def ev(n: int = 0, type_: str = "task.noted", occurred_at: datetime = T0, **kwargs) -> NewEvent:
    return NewEvent(type=type_, data={"n": n}, occurred_at=occurred_at, **kwargs)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(engine, clock) -> EventStore:
    return EventStore(engine, make_registry(), clock)


def snapshot(store: EventStore) -> tuple[int, int, list[tuple]]:
    """Everything an append could change: row count, head and the raw rows."""
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(events_table).order_by(events_table.c.position)).all()
    return store.count(), store.head_position(), [tuple(r) for r in rows]


# -- appending and reading ---------------------------------------------------


def test_append_then_read_stream_in_version_order(store, clock):
    first = store.append(
        "task-1",
        [
            ev(1, causation_id="c" * 36, correlation_id="r" * 36, metadata={"via": "cli"}),
            ev(2),
        ],
        NO_STREAM,
        actor="vanthu",
    )
    store.append("task-2", [ev(100)], NO_STREAM)
    clock.now += timedelta(minutes=5)
    store.append("task-1", [ev(3, "task.closed")], 2, actor="lanhdao")

    assert first.stream_version == 2 and first.last_position == 2 and not first.duplicate
    events = store.read_stream("task-1")
    assert [e.stream_version for e in events] == [1, 2, 3]
    assert [e.position for e in events] == [1, 2, 4]
    assert [e.data for e in events] == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert [e.type for e in events] == ["task.noted", "task.noted", "task.closed"]
    assert [e.actor for e in events] == ["vanthu", "vanthu", "lanhdao"]
    assert events[0].causation_id == "c" * 36 and events[0].correlation_id == "r" * 36
    assert events[0].metadata == {"via": "cli"} and events[1].metadata == {}
    # Instants come back aware and in UTC whatever zone they were given in.
    assert events[0].occurred_at == T0 and events[0].occurred_at.utcoffset() == timedelta(0)
    assert events[2].recorded_at == datetime(2026, 3, 2, 1, 5, tzinfo=UTC)
    # What append returned is exactly what a later read returns.
    assert first.events == events[:2]
    assert store.read_stream("nobody") == []
    assert store.get_event(events[2].event_id) == events[2]
    assert store.get_event("missing") is None


@pytest.mark.parametrize("batch_size", [1, 2, 1000])
def test_read_all_from_a_position_in_batches(store, batch_size):
    for n in range(1, 8):
        store.append(f"s-{n % 3}", [ev(n)])
    assert store.head_position() == 7 and store.count() == 7

    tail = list(store.read_all(from_position=3, batch_size=batch_size))
    assert [e.position for e in tail] == [3, 4, 5, 6, 7]
    assert [e.data["n"] for e in tail] == [3, 4, 5, 6, 7]

    batches = list(store.read_batches(from_position=3, batch_size=batch_size))
    assert all(0 < len(b) <= batch_size for b in batches)
    assert [e.position for b in batches for e in b] == [3, 4, 5, 6, 7]
    assert len(batches) == math.ceil(5 / batch_size)

    assert [e.position for e in store.read_all(batch_size=batch_size)] == list(range(1, 8))
    assert list(store.read_all(from_position=8, batch_size=batch_size)) == []
    bounded = store.read_all(from_position=2, to_position=4, batch_size=batch_size)
    assert [e.position for e in bounded] == [2, 3, 4]


def test_as_of_and_known_at_filter_both_read_methods(store, clock):
    # Occurrence order differs from position order on purpose: a late report
    # of something that happened earlier.
    occurred = [T0, T0 + timedelta(days=2), T0 + timedelta(days=1)]
    recorded = [clock.now + timedelta(hours=h) for h in (0, 1, 2)]
    for n, (occ, rec) in enumerate(zip(occurred, recorded, strict=True), start=1):
        clock.now = rec
        store.append("task-1", [ev(n, occurred_at=occ)])

    def stream(**kw):
        return [e.data["n"] for e in store.read_stream("task-1", **kw)]

    def log(**kw):
        return [e.data["n"] for e in store.read_all(batch_size=1, **kw)]

    for read in (stream, log):
        assert read() == [1, 2, 3]
        # Bounds are inclusive, and the zone of the bound does not matter.
        assert read(as_of=T0 + timedelta(days=1)) == [1, 3]
        assert read(as_of=(T0 + timedelta(days=1)).astimezone(UTC)) == [1, 3]
        assert read(as_of=T0 - timedelta(microseconds=1)) == []
        assert read(known_at=recorded[1]) == [1, 2]
        assert read(known_at=recorded[1].astimezone(ICT)) == [1, 2]
        assert read(known_at=recorded[1] - timedelta(microseconds=1)) == [1]
        assert read(as_of=T0 + timedelta(days=1), known_at=recorded[1]) == [1]
        with pytest.raises(InvalidEvent):
            read(as_of=datetime(2026, 3, 5))
        with pytest.raises(InvalidEvent):
            read(known_at=datetime(2026, 3, 5))


# -- expected versions -------------------------------------------------------


def test_expected_version_semantics(store):
    store.append("task-1", [ev(1)], NO_STREAM)
    before = snapshot(store)

    with pytest.raises(ConcurrencyError) as caught:
        store.append("task-1", [ev(2)], NO_STREAM)
    assert (caught.value.stream_id, caught.value.expected, caught.value.actual) == (
        "task-1",
        NO_STREAM,
        1,
    )
    with pytest.raises(ConcurrencyError):
        store.append("task-1", [ev(2), ev(3)], 2)
    with pytest.raises(ConcurrencyError):
        store.append("task-new", [ev(2)], 1)
    with pytest.raises(InvalidEvent):
        store.append("task-1", [ev(2)], -1)
    assert snapshot(store) == before

    assert store.append("task-1", [ev(2), ev(3)], 1).stream_version == 3
    assert store.append("task-1", [ev(4)], ANY_VERSION).stream_version == 4
    assert store.append("task-2", [ev(5)], ANY_VERSION).stream_version == 1
    assert [e.data["n"] for e in store.read_stream("task-1")] == [1, 2, 3, 4]


def test_concurrency_error_inside_a_transaction_rolls_back_earlier_appends(store):
    store.append("task-1", [ev(1)])
    before = snapshot(store)
    with pytest.raises(ConcurrencyError), store.transaction() as tx:
        tx.append("task-2", [ev(2)], NO_STREAM)
        tx.append("task-1", [ev(3)], NO_STREAM)
    assert snapshot(store) == before


# -- idempotency -------------------------------------------------------------


def test_idempotent_append_returns_original_and_writes_nothing(store, clock):
    a, b = ev(1), ev(2)
    original = store.append("task-1", [a, b], NO_STREAM, actor="vanthu")
    store.append("task-2", [ev(3)])
    before = snapshot(store)

    clock.now += timedelta(hours=1)
    # A retry after a lost reply carries the same ids and the same, now stale,
    # expected version: it must still be recognised as done, not as a conflict.
    again = store.append("task-1", [a, b], NO_STREAM, actor="vanthu")
    assert again.duplicate
    assert again.events == original.events
    assert again.stream_version == 2 and again.last_position == 2
    assert snapshot(store) == before


def test_partial_duplicates_conflict_and_write_nothing(store):
    a, b = ev(1), ev(2)
    store.append("task-1", [a])
    before = snapshot(store)
    with pytest.raises(IdempotencyConflict):
        store.append("task-1", [a, b])
    with pytest.raises(IdempotencyConflict):
        store.append("task-1", [b, a])
    assert snapshot(store) == before
    assert store.get_event(b.event_id) is None


def test_reusing_event_ids_on_another_stream_conflicts(store):
    a = ev(1)
    store.append("task-1", [a])
    before = snapshot(store)
    # Answering "done" here would tell the caller its event is in task-2.
    with pytest.raises(IdempotencyConflict):
        store.append("task-2", [a])
    assert snapshot(store) == before
    assert store.read_stream("task-2") == []


# -- invalid input -----------------------------------------------------------


class Opaque:
    pass


BAD_PAYLOADS = {
    "set": {"x": {1, 2}},
    "object": {"x": Opaque()},
    "nan": {"x": float("nan")},
    "infinity": {"x": [1, float("inf")]},
    "tuple": {"x": (1, 2)},
    "int key": {1: "one"},
    "nested non-str key": {"x": {"y": {(1, 2): "z"}}},
    "datetime": {"when": T0},
}


@pytest.mark.parametrize("payload", BAD_PAYLOADS.values(), ids=BAD_PAYLOADS.keys())
def test_non_json_payload_writes_nothing(store, payload):
    store.append("task-1", [ev(0)])
    before = snapshot(store)
    good = ev(1)
    bad = NewEvent("task.noted", payload, T0)
    with pytest.raises(InvalidEvent):
        store.append("task-1", [good, bad])
    with pytest.raises(InvalidEvent):
        store.append("task-1", [NewEvent("task.noted", {"ok": 1}, T0, metadata=payload)])
    assert snapshot(store) == before
    assert store.get_event(good.event_id) is None


@pytest.mark.parametrize(
    "bad_batch, error",
    [
        ([ev(1), NewEvent("task.unknown", {}, T0)], UnknownEventType),
        ([ev(1), NewEvent("task.noted", {}, datetime(2026, 3, 2, 8, 0))], InvalidEvent),
        ([ev(1), NewEvent("task.noted", ["not", "an", "object"], T0)], InvalidEvent),
        ([ev(1), NewEvent("task.noted", {}, "2026-03-02T08:00:00+07:00")], InvalidEvent),
        ([], InvalidEvent),
    ],
    ids=["unknown type", "naive occurred_at", "list payload", "string occurred_at", "empty"],
)
def test_invalid_batch_writes_nothing(store, bad_batch, error):
    store.append("task-1", [ev(0)])
    before = snapshot(store)
    with pytest.raises(error):
        store.append("task-1", bad_batch)
    assert snapshot(store) == before


def test_other_invalid_arguments(store):
    store.append("task-1", [ev(0)])
    before = snapshot(store)
    twin = ev(1)
    with pytest.raises(InvalidEvent):
        store.append("task-1", [twin, twin])
    with pytest.raises(InvalidEvent):
        store.append("", [ev(1)])
    with pytest.raises(InvalidEvent):
        store.append("task-1", [ev(1)], actor="")
    with pytest.raises(InvalidEvent):
        store.append("task-1", [ev(1)], expected_version="2")
    assert snapshot(store) == before


def test_naive_clock_is_refused(engine):
    store = EventStore(engine, make_registry(), clock=lambda: datetime(2026, 3, 2, 8, 0))
    with pytest.raises(InvalidEvent):
        store.append("task-1", [ev(1)])
    assert store.count() == 0 and store.head_position() == 0


# -- recording time ----------------------------------------------------------


def test_recorded_at_never_decreases_even_if_the_clock_goes_back(store, clock):
    base = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    readings = [
        base,
        base - timedelta(hours=1),
        base + timedelta(hours=1),
        base - timedelta(days=1),
        base + timedelta(hours=2),
    ]
    for n, reading in enumerate(readings):
        clock.now = reading.astimezone(ICT) if n % 2 else reading
        store.append("task-1", [ev(n), ev(n)] if n == 3 else [ev(n)])
    # A transaction with two appends while the clock jumps back in between.
    with store.transaction() as tx:
        clock.now = base + timedelta(hours=3)
        tx.append("task-2", [ev(10)])
        clock.now = base
        tx.append("task-3", [ev(11)])

    recorded = [e.recorded_at for e in store.read_all()]
    hour = timedelta(hours=1)
    assert recorded == [
        base,
        base,
        base + hour,
        base + hour,
        base + hour,
        base + 2 * hour,
        base + 3 * hour,
        base + 3 * hour,
    ]
    assert all(r.utcoffset() == timedelta(0) for r in recorded)
    assert verify_chain(store.engine).ok


# -- upcasting ---------------------------------------------------------------


def _doc_registry(version: int) -> EventRegistry:
    registry = make_registry(("doc.filed", version))
    if version >= 2:

        @registry.upcaster("doc.filed", 1)
        def title_to_subject(payload):
            return {"subject": payload["title"]}

    if version >= 3:

        @registry.upcaster("doc.filed", 2)
        def add_pages(payload):
            return {**payload, "pages": payload.get("pages", 1)}

    registry.check_complete()
    return registry


def test_upcasting_old_rows_on_read_leaves_them_unchanged(engine, clock):
    old = EventStore(engine, _doc_registry(1), clock)
    middle = EventStore(engine, _doc_registry(2), clock)
    new = EventStore(engine, _doc_registry(3), clock)
    old.append("doc-1", [NewEvent("doc.filed", {"title": "Công văn 12"}, T0)])
    middle.append("doc-1", [NewEvent("doc.filed", {"subject": "Tờ trình 7"}, T0)])
    new.append("doc-1", [NewEvent("doc.filed", {"subject": "Báo cáo", "pages": 9}, T0)])

    with engine.connect() as conn:
        raw_before = conn.execute(
            sa.select(events_table.c.schema_version, events_table.c.payload).order_by(
                events_table.c.position
            )
        ).all()
    assert [tuple(r) for r in raw_before] == [
        (1, {"title": "Công văn 12"}),
        (2, {"subject": "Tờ trình 7"}),
        (3, {"subject": "Báo cáo", "pages": 9}),
    ]

    expected = [
        {"subject": "Công văn 12", "pages": 1},
        {"subject": "Tờ trình 7", "pages": 1},
        {"subject": "Báo cáo", "pages": 9},
    ]
    stream = new.read_stream("doc-1")
    assert [e.data for e in stream] == expected
    assert [e.schema_version for e in stream] == [3, 3, 3]
    assert [e.data for e in new.read_all()] == expected
    assert new.get_event(stream[0].event_id).data == expected[0]
    assert [e.data for e in middle.read_all(to_position=2)] == [
        {"subject": "Công văn 12"},
        {"subject": "Tờ trình 7"},
    ]

    with engine.connect() as conn:
        raw_after = conn.execute(
            sa.select(events_table.c.schema_version, events_table.c.payload).order_by(
                events_table.c.position
            )
        ).all()
    assert raw_after == raw_before
    assert verify_chain(engine).ok
    # Software older than the log must refuse to guess.
    with pytest.raises(InvalidEvent):
        old.read_stream("doc-1")


# -- the database itself refuses rewrites ------------------------------------


_UPDATE_AND_DELETE = [
    "UPDATE events SET actor = 'mallory' WHERE position = 1",
    "UPDATE events SET stream_version = stream_version",
    "DELETE FROM events WHERE position = 2",
    "DELETE FROM events",
]
# On a conflict, SQLite's REPLACE deletes the row in the way without running a
# DELETE trigger; PostgreSQL's upsert is an UPDATE.
_FIRST_AS_ANOTHER = (
    "event_id, 'agency:SYT', 1, event_type, schema_version, occurred_at, recorded_at, actor, "
    "causation_id, correlation_id, payload, metadata, hash FROM events WHERE position = 1"
)


@pytest.mark.parametrize(
    ("backend", "statement"),
    [(backend, s) for s in _UPDATE_AND_DELETE for backend in ("sqlite", "postgresql")]
    + [
        ("sqlite", f"INSERT OR REPLACE INTO events SELECT position, {_FIRST_AS_ANOTHER}"),
        ("sqlite", f"REPLACE INTO events SELECT 3, {_FIRST_AS_ANOTHER}"),  # its id again
        (
            "postgresql",
            "INSERT INTO events SELECT * FROM events WHERE position = 1 "
            "ON CONFLICT (position) DO UPDATE SET actor = 'mallory'",
        ),
    ],
)
def test_raw_update_delete_and_replace_fail(store, statement):
    store.append("task-1", [ev(1), ev(2)])
    before = snapshot(store)
    with pytest.raises(sa.exc.DBAPIError), store.engine.begin() as conn:
        conn.exec_driver_sql(statement)
    assert snapshot(store) == before
    assert verify_chain(store.engine).ok


@pytest.mark.parametrize("backend", ["postgresql"])  # SQLite has no TRUNCATE
def test_truncate_fails_on_postgresql(store):
    store.append("task-1", [ev(1)])
    with pytest.raises(sa.exc.DBAPIError), store.engine.begin() as conn:
        conn.exec_driver_sql("TRUNCATE events")
    assert store.count() == 1


# -- transactions ------------------------------------------------------------


def test_rolled_back_transaction_gives_its_positions_back(store):
    store.append("task-1", [ev(1), ev(2)])
    before = snapshot(store)
    with pytest.raises(Boom), store.transaction() as tx:
        result = tx.append("task-2", [ev(3), ev(4), ev(5)])
        assert [e.position for e in result.events] == [3, 4, 5]
        assert tx.read_stream("task-2") == result.events
        raise Boom
    assert snapshot(store) == before

    after = store.append("task-3", [ev(6)])
    assert after.last_position == 3
    assert [e.position for e in store.read_all()] == [1, 2, 3]
    assert verify_chain(store.engine).ok


def test_appends_in_one_transaction_are_consecutive(store):
    store.append("task-1", [ev(1)])
    with store.transaction() as tx:
        tx.append("task-1", [ev(2)], 1)
        tx.append("task-2", [ev(3), ev(4)], NO_STREAM)
        # The version check sees the transaction's own earlier append.
        tx.append("task-1", [ev(5)], 2)
        appended = list(tx.appended)
    assert [e.position for e in appended] == [2, 3, 4, 5]
    assert [(e.stream_id, e.stream_version) for e in appended] == [
        ("task-1", 2),
        ("task-2", 1),
        ("task-2", 2),
        ("task-1", 3),
    ]
    assert list(store.read_all(from_position=2)) == appended


# -- a checkpointed projection -----------------------------------------------


class StreamCounts:
    """Counts events per stream in a table the test creates."""

    name = "test.stream_counts"

    def __init__(self, fail_on: int | None = None) -> None:
        self.fail_on = fail_on

    def apply(self, connection, events) -> None:
        for event in events:
            if event.data.get("n") == self.fail_on:
                raise Boom(f"projection fails on {event.position}")
            updated = connection.execute(
                sa.text("UPDATE stream_counts SET n = n + 1 WHERE stream_id = :s"),
                {"s": event.stream_id},
            ).rowcount
            if not updated:
                connection.execute(
                    sa.text("INSERT INTO stream_counts (stream_id, n) VALUES (:s, 1)"),
                    {"s": event.stream_id},
                )

    def reset(self, connection) -> None:
        connection.execute(sa.text("DELETE FROM stream_counts"))


@pytest.fixture
def counts_table(engine):
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE stream_counts (stream_id VARCHAR(200) PRIMARY KEY, n INTEGER NOT NULL)"
        )


def counts(store: EventStore) -> dict[str, int]:
    with store.engine.connect() as conn:
        return dict(conn.execute(sa.text("SELECT stream_id, n FROM stream_counts")).all())


def checkpoint(store: EventStore, name: str = StreamCounts.name) -> int:
    with store.engine.connect() as conn:
        return get_checkpoint(conn, name)


@pytest.mark.usefixtures("counts_table")
def test_apply_in_transaction_catches_up_then_applies(store):
    projection = StreamCounts()
    store.append("a", [ev(1)])  # written without the projection: it must be caught up
    with store.transaction() as tx:
        tx.append("b", [ev(2), ev(3)])
        apply_in_transaction(tx, projection)
        # Applying twice in the same transaction must not count twice.
        apply_in_transaction(tx, projection)
    assert counts(store) == {"a": 1, "b": 2}
    assert checkpoint(store) == 3

    with store.transaction() as tx:
        apply_in_transaction(tx, projection)  # nothing appended: nothing to do
        tx.append("a", [ev(4)])
        tx.append("c", [ev(5)])
        apply_in_transaction(tx, projection)
    assert counts(store) == {"a": 2, "b": 2, "c": 1}
    assert checkpoint(store) == 5


@pytest.mark.usefixtures("counts_table")
def test_catch_up_and_rebuild(store):
    projection = StreamCounts()
    for n in range(1, 6):
        store.append("ab"[n % 2], [ev(n)])
    assert catch_up(store, projection, batch_size=2) == 5
    assert counts(store) == {"a": 2, "b": 3}
    assert checkpoint(store) == 5
    assert catch_up(store, projection, batch_size=2) == 0
    assert counts(store) == {"a": 2, "b": 3}

    store.append("c", [ev(6), ev(7)])
    assert catch_up(store, projection) == 2
    assert counts(store) == {"a": 2, "b": 3, "c": 2}

    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE stream_counts SET n = 99 WHERE stream_id = 'a'"))
        conn.execute(sa.text("INSERT INTO stream_counts VALUES ('ghost', 1)"))
    assert rebuild(store, projection, batch_size=3) == 7
    assert counts(store) == {"a": 2, "b": 3, "c": 2}
    assert checkpoint(store) == 7


@pytest.mark.usefixtures("counts_table")
def test_failing_catch_up_keeps_output_and_checkpoint_together(store):
    for n in range(1, 8):
        store.append("a", [ev(n)])
    with pytest.raises(Boom):
        catch_up(store, StreamCounts(fail_on=6), batch_size=2)
    # Batches [1, 2] and [3, 4] committed; [5, 6] failed and left no trace.
    assert checkpoint(store) == 4
    assert counts(store) == {"a": 4}
    assert catch_up(store, StreamCounts()) == 3
    assert counts(store) == {"a": 7}


@pytest.mark.usefixtures("counts_table")
def test_failure_after_append_leaves_events_projection_and_checkpoint_unchanged(store):
    projection = StreamCounts()
    with store.transaction() as tx:
        tx.append("a", [ev(1)])
        apply_in_transaction(tx, projection)
    before = snapshot(store)

    with pytest.raises(Boom), store.transaction() as tx:
        tx.append("a", [ev(2)])
        tx.append("b", [ev(3)])
        apply_in_transaction(tx, projection)
        assert get_checkpoint(tx.connection, projection.name) == 3  # visible inside only
        raise Boom
    assert snapshot(store) == before
    assert counts(store) == {"a": 1}
    assert checkpoint(store) == 1

    with pytest.raises(Boom), store.transaction() as tx:
        tx.append("a", [ev(2)])
        apply_in_transaction(tx, StreamCounts(fail_on=2))
    assert snapshot(store) == before
    assert counts(store) == {"a": 1}
    assert checkpoint(store) == 1
