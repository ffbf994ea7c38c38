"""The store's fast paths keep its contract: deferred writes, the lean projection
reader, projections fed inside the transaction and the checkpoints that follow the
head, the database's own check of stream versions, the hash built around the
stored payload text. On SQLite and PostgreSQL alike."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from events import EventRegistry, EventStore, NewEvent
from events.database import make_engine
from events.errors import ConcurrencyError
from events.projections import catch_up, get_checkpoint, rebuild
from events.schema import events as events_table
from events.serialization import (
    GENESIS_HASH,
    canonical_json,
    event_body,
    event_digest,
    format_instant,
    hashed_fields,
    to_utc,
)
from events.sql import COPY_ROWS
from events.store import ProjectedEvent, new_event_id
from events.verify import verify_chain

ICT = timezone(timedelta(hours=7), "ICT")
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=ICT)


def registry() -> EventRegistry:
    types = EventRegistry()
    types.register("t.noted")
    types.register("t.moved", 2)
    types.upcaster("t.moved", 1)(lambda data: {"to": data["where"]})
    return types


@pytest.fixture
def store(engine) -> EventStore:
    return EventStore(engine, registry())


def note(n: int, **kwargs) -> NewEvent:
    return NewEvent("t.noted", {"n": n, "text": "Sở Xây dựng"}, T0, **kwargs)


class Counts:
    """A projection with a session: counts events per stream, writes on flush."""

    name = "counts"

    def __init__(self) -> None:
        self.sessions = 0

    def reset(self, connection) -> None:
        connection.exec_driver_sql("DELETE FROM stream_counts")

    def apply(self, connection, events) -> None:
        session = self.open_session(None)
        session.connection = connection
        for event in events:
            session.apply(event)
        session.flush()

    def open_session(self, raw, bulk: bool = False):
        self.sessions += 1
        return _CountsSession(raw.connection if raw is not None else None)


class _CountsSession:
    def __init__(self, connection) -> None:
        self.connection = connection
        self.pending: dict[str, int] = {}

    def apply(self, event) -> None:
        self.pending[event.stream_id] = self.pending.get(event.stream_id, 0) + 1

    def end_batch(self) -> None:
        self.flush()

    def flush(self) -> None:
        for stream_id, n in self.pending.items():
            updated = self.connection.execute(
                sa.text("UPDATE stream_counts SET n = n + :n WHERE stream_id = :s"),
                {"n": n, "s": stream_id},
            ).rowcount
            if not updated:
                self.connection.execute(
                    sa.text("INSERT INTO stream_counts (stream_id, n) VALUES (:s, :n)"),
                    {"n": n, "s": stream_id},
                )
        self.pending = {}


@pytest.fixture
def counts_table(engine):
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE stream_counts (stream_id VARCHAR(200) PRIMARY KEY, n INTEGER NOT NULL)"
        )


def counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(conn.execute(sa.text("SELECT stream_id, n FROM stream_counts")).all())


def stored_checkpoint(engine, name: str):
    with engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT position FROM projection_checkpoints WHERE name = :n"), {"n": name}
        ).scalar()


# -- writes kept until commit ---------------------------------------------------------


def test_appends_reach_the_database_at_commit_and_vanish_on_rollback(store):
    with store.transaction() as tx:
        tx.append("a", [note(1), note(2)])
        tx.append("b", [note(3)])
        # Not written yet: another connection sees an empty log.
        assert store.count() == 0
        # Reading through the transaction writes first, so it sees its own appends.
        assert [e.data["n"] for e in tx.read_stream("a")] == [1, 2]
    assert store.count() == 3
    assert verify_chain(store.engine).ok

    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.append("a", [note(4)])
        raise RuntimeError("changed my mind")
    assert store.count() == 3 and store.head_position() == 3


def test_a_long_transaction_writes_as_it_goes_and_keeps_the_chain(store, monkeypatch):
    monkeypatch.setattr("events.store.FLUSH_ROWS", 7)
    with store.transaction() as tx:
        for n in range(30):
            tx.append(f"s{n % 4}", [note(n)])
    assert store.count() == 30
    assert verify_chain(store.engine).ok
    assert [e.stream_version for e in store.read_stream("s1")] == list(range(1, 9))


def test_the_database_refuses_a_version_out_of_sequence(store, engine):
    store.append("a", [note(1)])
    row = {
        c.name: None for c in events_table.columns
    } | {
        "event_id": str(uuid.uuid4()), "stream_id": "a", "event_type": "t.noted",
        "schema_version": 1, "occurred_at": T0, "recorded_at": T0, "actor": "hand",
        "payload": {}, "metadata": {}, "hash": "0" * 64,
    }  # fmt: skip
    for position, version in ((2, 3), (2, 1), (2, 0)):  # a gap, a repeat, nothing before 1
        with pytest.raises(sa.exc.DBAPIError), engine.begin() as conn:
            conn.execute(
                events_table.insert(), [{**row, "position": position, "stream_version": version}]
            )
    with pytest.raises(sa.exc.DBAPIError), engine.begin() as conn:
        conn.execute(
            events_table.insert(),
            [{**row, "stream_id": "fresh", "position": 2, "stream_version": 2}],
        )
    assert store.count() == 1


@pytest.mark.parametrize("count", [1, COPY_ROWS + 5], ids=["one row", "through COPY"])
def test_a_version_believed_wrong_is_refused_at_commit_and_writes_nothing(store, count):
    store.append("a", [note(1)])
    with pytest.raises(ConcurrencyError) as caught, store.transaction() as tx:
        tx._versions["a"] = 5  # what a buggy projection could have told it
        tx.append("a", [note(n) for n in range(2, 2 + count)])
    assert caught.value.stream_id == "a"
    assert store.count() == 1 and store.head_position() == 1
    assert verify_chain(store.engine).ok


def test_a_large_transaction_stores_exactly_what_a_small_one_would(store):
    """Past COPY_ROWS rows PostgreSQL takes them through COPY: texts that COPY must
    escape, absent values and instants come back as they went in, chain intact."""
    tricky = 'Sở Xây dựng\t"trích"\nđoạn \\ N \\N'
    events = [
        NewEvent(
            "t.noted",
            {"n": n, "text": tricky, "none": None},
            T0 + timedelta(minutes=n),
            metadata={"k": [n, tricky]} if n % 2 else {},
            causation_id=None if n % 3 else str(uuid.uuid4()),
        )
        for n in range(COPY_ROWS + 5)
    ]
    with store.transaction() as tx:
        tx.append("big", events, expected_version=0)
    stored = store.read_stream("big")
    assert [e.data for e in stored] == [e.data for e in events]
    assert [e.metadata for e in stored] == [e.metadata for e in events]
    assert [e.causation_id for e in stored] == [e.causation_id for e in events]
    assert [e.occurred_at for e in stored] == [e.occurred_at.astimezone(UTC) for e in events]
    assert [e.stream_version for e in stored] == list(range(1, COPY_ROWS + 6))
    assert verify_chain(store.engine).ok


# -- hashes and ids ---------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)  # fmt: skip


@settings(max_examples=200)
@given(
    payload=st.dictionaries(st.text(), json_values, max_size=5),
    metadata=st.dictionaries(st.text(), json_values, max_size=2),
    actor=st.text(min_size=1),
    causation=st.none() | st.text(),
)
def test_the_hash_body_built_around_stored_texts_is_the_canonical_one(
    payload, metadata, actor, causation
):
    row = {
        "position": 12, "event_id": new_event_id(), "stream_id": "task:NV-00001",
        "stream_version": 3, "event_type": "task.noted", "schema_version": 2,
        "occurred_at": datetime(2023, 3, 31, 17, tzinfo=UTC),
        "recorded_at": datetime(2023, 4, 2, 1, 2, 3, 456789, tzinfo=UTC),
        "actor": actor, "causation_id": causation, "correlation_id": None,
        "payload": payload, "metadata": metadata,
    }  # fmt: skip
    body = event_body(row, canonical_json(payload), canonical_json(metadata))
    assert body == canonical_json(hashed_fields(row))


def test_the_hash_of_an_event_never_changes():
    """Logs written by earlier versions, exported files and hashes noted outside the
    database (`events verify --expect-hash`) are checked with this very formula."""
    row = {
        "position": 1, "event_id": "6f1c2a4e-0b7d-4c8e-9a3f-2d5e8b1c4f70",
        "stream_id": "task:NV-00001", "stream_version": 1, "event_type": "task.assigned",
        "schema_version": 1, "occurred_at": datetime(2023, 3, 20, 17, tzinfo=UTC),
        "recorded_at": datetime(2023, 3, 21, 1, 2, 3, 456789, tzinfo=UTC),
        "actor": "văn thư", "causation_id": None, "correlation_id": None,
        "payload": {"task_id": "NV-00001", "title": "Rà soát quy hoạch"}, "metadata": {},
    }  # fmt: skip
    first = event_digest(GENESIS_HASH, hashed_fields(row))
    assert first == "43287fec9bbe5975c6a2d4575ad6b1d4c3ebc7cb74801353253bcf89f8dee7e2"
    second = dict(
        row, position=2, stream_version=2, event_id="0a9b8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d"
    )
    assert event_digest(first, hashed_fields(second)) == (
        "b4dfb06768845b26c115232df64aa6824b57d09bd6d02be285cde8c3133ca788"
    )


@pytest.fixture
def server_in_vietnam(monkeypatch):
    """The process's own time zone set to Asia/Ho_Chi_Minh, as on a server in the city."""
    monkeypatch.setenv("TZ", "Asia/Ho_Chi_Minh")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_a_naive_instant_from_sqlite_is_utc_whatever_the_server_s_zone(server_in_vietnam):
    stored = datetime(2023, 3, 31, 17, 0)  # SQLite hands back naive UTC
    assert to_utc(stored) == datetime(2023, 3, 31, 17, 0, tzinfo=UTC)
    assert format_instant(stored) == "2023-03-31T17:00:00.000000Z"


def test_event_ids_are_version_4_uuids():
    ids = {new_event_id() for _ in range(2000)}
    assert len(ids) == 2000
    for text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text and parsed.version == 4 and parsed.variant == uuid.RFC_4122


# -- the projections' reader ---------------------------------------------------------------


def test_feed_batches_gives_what_read_batches_gives_upcasts_included(store, engine):
    store.append("a", [note(1), note(2)])
    store.append("m", [NewEvent("t.moved", {"to": "Hải Phòng"}, T0)])
    # An old row (schema version 1) as an earlier release wrote it.
    with engine.begin() as conn:
        head = store.head_position(conn)
        conn.execute(
            events_table.insert(),
            [{
                "position": head + 1, "event_id": str(uuid.uuid4()), "stream_id": "m",
                "stream_version": 2, "event_type": "t.moved", "schema_version": 1,
                "occurred_at": T0, "recorded_at": T0, "actor": "old", "causation_id": None,
                "correlation_id": None, "payload": {"where": "Hà Nội"}, "metadata": {},
                "hash": "0" * 64,
            }],
        )  # fmt: skip
    full = [e for batch in store.read_batches(batch_size=2) for e in batch]
    lean = [e for batch in store.feed_batches(batch_size=2) for e in batch]
    assert [
        (e.position, e.event_id, e.stream_id, e.stream_version, e.type, e.data) for e in full
    ] == [(e.position, e.event_id, e.stream_id, e.stream_version, e.type, e.data) for e in lean]
    assert all(isinstance(e, ProjectedEvent) for e in lean)
    assert lean[-1].data == {"to": "Hà Nội"} and lean[-1].data_json is None  # upcast
    assert canonical_json(lean[0].data) == lean[0].data_json  # stored as hashed
    assert [e.position for e in store.feed_batches(2, 10, to_position=3).__next__()] == [2, 3]


# -- projections fed inside the transaction --------------------------------------------------


@pytest.mark.usefixtures("counts_table")
def test_a_projection_fed_by_every_append_follows_the_head(store, engine):
    projection = Counts()
    for n in range(3):
        with store.transaction(projections=[projection]) as tx:
            tx.append("a", [note(n)])
    assert counts(engine) == {"a": 3}
    assert stored_checkpoint(engine, "counts") is None  # NULL: follows the head
    with engine.connect() as conn:
        assert get_checkpoint(conn, "counts") == 3

    # An append that does not feed it writes its checkpoint down first…
    store.append("b", [note(9)])
    assert stored_checkpoint(engine, "counts") == 3
    assert counts(engine) == {"a": 3}
    # …so the next transaction that names it catches it up under the lock.
    with store.transaction(projections=[projection]) as tx:
        tx.lock()
        assert counts(engine) == {"a": 3}  # caught up in memory, written at commit
    assert counts(engine) == {"a": 3, "b": 1}
    assert stored_checkpoint(engine, "counts") is None


@pytest.mark.usefixtures("counts_table")
def test_catch_up_and_rebuild_respect_a_following_checkpoint(store, engine):
    projection = Counts()
    with store.transaction(projections=[projection]) as tx:
        tx.append("a", [note(1), note(2)])
    assert catch_up(store, projection) == 0  # nothing missed
    store.append("c", [note(3)])
    assert catch_up(store, projection) == 1
    assert counts(engine) == {"a": 2, "c": 1}
    assert rebuild(store, projection, batch_size=2) == 3
    assert counts(engine) == {"a": 2, "c": 1}
    with engine.connect() as conn:
        assert get_checkpoint(conn, "counts") == 3


@pytest.mark.usefixtures("counts_table")
def test_a_failed_transaction_leaves_projection_and_checkpoint_as_they_were(store, engine):
    projection = Counts()
    with store.transaction(projections=[projection]) as tx:
        tx.append("a", [note(1)])
    with pytest.raises(RuntimeError), store.transaction(projections=[projection]) as tx:
        tx.append("a", [note(2)])
        raise RuntimeError
    assert counts(engine) == {"a": 1}
    assert stored_checkpoint(engine, "counts") is None
    assert store.head_position() == 1


# -- the kept write connection ----------------------------------------------------------


def test_a_write_connection_cut_by_the_server_costs_the_next_append_nothing(
    postgres_server, monkeypatch
):
    engine = make_engine(postgres_server.new_database())
    store = EventStore(engine, registry())
    try:
        store.append("a", [note(1)])
        with store._writer().begin():
            pid = store._writer().exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with engine.connect() as admin:
            assert admin.exec_driver_sql(f"SELECT pg_terminate_backend({pid})").scalar()
        monkeypatch.setattr("events.store.WRITER_IDLE_S", 0.0)  # as if idle for long
        store.append("a", [note(2)])
        assert [e.data["n"] for e in store.read_stream("a")] == [1, 2]
    finally:
        store.close()
        engine.dispose()


def test_ids_looked_up_ahead_still_catch_every_duplicate(store, monkeypatch):
    stored, fresh = str(uuid.uuid4()), str(uuid.uuid4())
    store.append("a", [note(1, event_id=stored)])
    monkeypatch.setattr("events.store.FLUSH_ROWS", 1)  # rows written as they come
    with store.transaction() as tx:
        tx.prefetch_event_ids([stored, fresh])
        assert tx.append("a", [note(1, event_id=stored)]).duplicate  # found ahead
        assert not tx.append("b", [note(2, event_id=fresh)]).duplicate
        tx.append("c", [note(3)])  # flushes: `fresh` is now in the table, not in memory
        again = tx.append("b", [note(2, event_id=fresh)])
        assert again.duplicate and again.events[0].stream_id == "b"
    assert [e.data["n"] for e in store.read_all()] == [1, 2, 3]
