"""The hash chain detects rows edited or removed behind the store's back.

To tamper at all, the tests first drop the triggers that make `events`
append-only: that is what someone with direct database access would do.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from events import EventRegistry, EventStore, NewEvent
from events.errors import HeadOutOfStep
from events.schema import events as events_table
from events.schema import log_head
from events.serialization import event_digest, hashed_fields
from events.verify import VerifyResult, verify_chain

T0 = datetime(2026, 4, 1, 2, 0, tzinfo=UTC)
N_EVENTS = 6


@pytest.fixture
def store(engine) -> EventStore:
    registry = EventRegistry()
    registry.register("task.noted")
    store = EventStore(engine, registry, clock=lambda: T0)
    # One multi-event append, so that a batch boundary lies inside the chain.
    for batch in ([1], [2], [3, 4], [5], [6]):
        store.append(
            f"task-{batch[0] % 2}",
            [NewEvent("task.noted", {"n": n}, T0 + timedelta(minutes=n)) for n in batch],
            actor="vanthu",
        )
    assert store.head_position() == N_EVENTS
    return store


def drop_triggers(engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("DROP TRIGGER events_no_update ON events")
            conn.exec_driver_sql("DROP TRIGGER events_no_truncate ON events")
        else:
            conn.exec_driver_sql("DROP TRIGGER events_no_update")
            conn.exec_driver_sql("DROP TRIGGER events_no_delete")


def raw_row(engine, position: int) -> dict:
    with engine.connect() as conn:
        return dict(
            conn.execute(sa.select(events_table).where(events_table.c.position == position))
            .mappings()
            .one()
        )


def test_intact_log_verifies(store):
    result = verify_chain(store.engine)
    assert result.ok and result.checked == N_EVENTS
    assert result.broken_position is None and result.reason is None
    # Batch size must not matter, including one that splits the log unevenly.
    for batch_size in (1, 4, 5000):
        assert verify_chain(store.engine, batch_size=batch_size).ok


def test_empty_log_verifies(engine):
    assert verify_chain(engine) == VerifyResult(True, 0)


EDITS = {
    "payload": {"n": 999},
    "actor": "mallory",
    "occurred_at": T0 - timedelta(days=30),
    "recorded_at": T0 + timedelta(seconds=1),
    "stream_id": "task-9",
    "event_type": "task.closed",
    "metadata": {"forged": True},
    "event_id": "00000000-0000-4000-8000-000000000000",
    "stream_version": 99,
    "schema_version": 2,
    "causation_id": "00000000-0000-4000-8000-000000000001",
    "correlation_id": "00000000-0000-4000-8000-000000000002",
}


@pytest.mark.parametrize("column", EDITS.keys())
@pytest.mark.parametrize("position", [1, 4, N_EVENTS])
def test_edited_row_is_named(store, column, position):
    drop_triggers(store.engine)
    with store.engine.begin() as conn:
        updated = conn.execute(
            events_table.update()
            .where(events_table.c.position == position)
            .values({column: EDITS[column]})
        ).rowcount
    assert updated == 1

    result = verify_chain(store.engine)
    assert not result.ok
    assert result.broken_position == position
    assert result.checked == position - 1
    assert result.reason


def test_rehashed_edit_is_caught_at_the_next_link(store):
    """A forger who also recomputes the edited row's hash breaks the next link."""
    drop_triggers(store.engine)
    row = raw_row(store.engine, 2)
    row["payload"] = {"n": 999}
    with store.engine.connect() as conn:
        prev_hash = conn.execute(
            sa.select(events_table.c.hash).where(events_table.c.position == 1)
        ).scalar_one()
    forged_hash = event_digest(prev_hash, hashed_fields(row))
    with store.engine.begin() as conn:
        conn.execute(
            events_table.update()
            .where(events_table.c.position == 2)
            .values(payload=row["payload"], hash=forged_hash)
        )
    result = verify_chain(store.engine)
    assert not result.ok and result.broken_position == 3


def test_a_log_rewritten_with_every_hash_after_is_caught_by_a_hash_noted_outside(store):
    """The chain has no key: edit an event, compute every hash after it and the head
    again, and the chain holds. A hash noted earlier (verify and export print the last
    one) is then no longer in it."""
    noted = verify_chain(store.engine)
    assert noted.ok and noted.last_hash is not None
    assert verify_chain(store.engine, expect_hash=noted.last_hash.upper()).anchor_position == (
        N_EVENTS
    )
    drop_triggers(store.engine)
    with store.engine.connect() as conn:
        prev_hash = conn.execute(
            sa.select(events_table.c.hash).where(events_table.c.position == 2)
        ).scalar_one()
    for position in range(3, N_EVENTS + 1):
        row = raw_row(store.engine, position)
        if position == 3:
            row["payload"] = {"n": 999}
        prev_hash = event_digest(prev_hash, hashed_fields(row))
        with store.engine.begin() as conn:
            conn.execute(
                events_table.update()
                .where(events_table.c.position == position)
                .values(payload=row["payload"], hash=prev_hash)
            )
    with store.engine.begin() as conn:
        conn.execute(log_head.update().values(last_hash=prev_hash))
    assert verify_chain(store.engine).ok  # what the chain alone cannot see
    caught = verify_chain(store.engine, expect_hash=noted.last_hash)
    assert not caught.ok and caught.checked == N_EVENTS
    assert f"không có sự kiện nào mang mã băm đối chiếu {noted.last_hash}" in caught.reason
    # A hash noted before the rewritten event still is in it.
    with store.engine.connect() as conn:
        second = conn.execute(
            sa.select(events_table.c.hash).where(events_table.c.position == 2)
        ).scalar_one()
    assert verify_chain(store.engine, expect_hash=second).anchor_position == 2


def test_deleted_last_row_is_detected_by_the_head(store):
    drop_triggers(store.engine)
    with store.engine.begin() as conn:
        conn.execute(events_table.delete().where(events_table.c.position == N_EVENTS))
    result = verify_chain(store.engine)
    assert not result.ok
    assert result.checked == N_EVENTS - 1
    assert result.broken_position == N_EVENTS


@pytest.mark.parametrize("tampering", ["last row deleted", "head hash edited"])
def test_no_event_is_chained_on_a_link_the_log_does_not_hold(store, tampering):
    """Verify says where; a writer must not go on regardless: its event would follow a
    gap, or chain on a forged hash, and verify would then blame it instead."""
    drop_triggers(store.engine)
    with store.engine.begin() as conn:
        if tampering == "last row deleted":
            conn.execute(events_table.delete().where(events_table.c.position == N_EVENTS))
        else:
            conn.execute(log_head.update().values(last_hash="0" * 64))
    with pytest.raises(HeadOutOfStep, match=f"Sự kiện cuối cùng của sổ \\(vị trí {N_EVENTS}\\)"):
        store.append("task-9", [NewEvent("task.noted", {"n": 9}, T0)], actor="vanthu")
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.max(events_table.c.position))).scalar() == (
            N_EVENTS - (tampering == "last row deleted")
        )


def test_deleted_middle_row_is_a_gap(store):
    drop_triggers(store.engine)
    with store.engine.begin() as conn:
        conn.execute(events_table.delete().where(events_table.c.position == 3))
    result = verify_chain(store.engine)
    assert not result.ok and result.broken_position == 3 and result.checked == 2


def test_truncated_log_is_detected(store):
    drop_triggers(store.engine)
    with store.engine.begin() as conn:
        conn.execute(events_table.delete())
    result = verify_chain(store.engine)
    assert not result.ok and result.checked == 0 and result.broken_position == 1


def test_edited_head_is_detected(store):
    with store.engine.begin() as conn:
        conn.execute(log_head.update().values(last_hash="f" * 64))
    result = verify_chain(store.engine)
    assert not result.ok and result.checked == N_EVENTS


def test_same_content_in_another_json_form_still_verifies(store):
    """The chain protects the content, not its spelling: a payload rewritten as
    `json.dumps` writes it (spaces, escaped accents) verifies through the slower path."""
    drop_triggers(store.engine)
    payload_sql = "payload" if store.engine.dialect.name == "sqlite" else "CAST(payload AS text)"
    with store.engine.begin() as conn:
        before = conn.exec_driver_sql(
            f"SELECT {payload_sql} FROM events WHERE position = 2"
        ).scalar()
        conn.exec_driver_sql("UPDATE events SET payload = '{\"n\":  2}' WHERE position = 2")
        after = conn.exec_driver_sql(
            f"SELECT {payload_sql} FROM events WHERE position = 2"
        ).scalar()
    assert (before, after) == ('{"n":2}', '{"n":  2}')
    result = verify_chain(store.engine)
    assert (result.ok, result.checked) == (True, N_EVENTS)


def test_an_append_during_the_walk_is_not_taken_for_a_broken_head(store, monkeypatch):
    """The head and the rows are read in one snapshot: an event appended after the
    head was read is not seen, instead of being counted past the head."""
    import events.verify as verify

    walk = verify.walk_chain

    def append_then_walk(raw, **kwargs):
        store.append("task-9", [NewEvent("task.noted", {"n": 7}, T0)], actor="vanthu")
        return walk(raw, **kwargs)

    monkeypatch.setattr(verify, "walk_chain", append_then_walk)
    seen = verify_chain(store.engine)
    assert (seen.ok, seen.checked) == (True, N_EVENTS)
    monkeypatch.undo()
    after = verify_chain(store.engine)
    assert (after.ok, after.checked) == (True, N_EVENTS + 1)
    assert after.last_hash != seen.last_hash


def test_progress_counts_every_event_checked(store):
    seen: list[int] = []
    assert verify_chain(store.engine, batch_size=4, progress=seen.append).ok
    assert seen == [4, 2]


def test_a_payload_that_is_not_json_is_a_broken_link(store):
    """SQLite keeps any text in the column: verify names the row instead of crashing.
    PostgreSQL's json type refuses such text in the first place."""
    drop_triggers(store.engine)
    garbled = "UPDATE events SET payload = '{\"n\": 3' WHERE position = 3"
    if store.engine.dialect.name == "postgresql":
        with pytest.raises(sa.exc.DataError), store.engine.begin() as conn:
            conn.exec_driver_sql(garbled)
        return
    with store.engine.begin() as conn:
        conn.exec_driver_sql(garbled)
    result = verify_chain(store.engine)
    assert (result.ok, result.broken_position, result.checked) == (False, 3, 2)
