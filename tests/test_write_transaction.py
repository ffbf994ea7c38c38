"""A write transaction holds the log's lock from its lock statement to its commit.

On PostgreSQL the transaction is opened by the lock statement itself (BEGIN and
the lock in one round trip, the driver in autocommit meanwhile): were the BEGIN
lost, the lock would end with its statement and another writer could slip in.
Another connection probes the lock without waiting.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from events import EventRegistry, EventStore, NewEvent
from events.database import make_engine
from events.driver import DriverEngine, connect, dbapi_module

T0 = datetime(2026, 5, 4, 1, 0, tzinfo=UTC)


def registry() -> EventRegistry:
    registry = EventRegistry()
    registry.register("load.noted")
    return registry


def lock_is_free(db_url: str) -> bool:
    """Whether another connection could take the log's write lock right now."""
    opened = connect(db_url)  # the bare driver, in autocommit
    assert opened is not None
    driver, dialect_name = opened
    try:
        if dialect_name == "sqlite":
            driver.execute("PRAGMA busy_timeout = 0")
            statement = "BEGIN IMMEDIATE"
        else:
            statement = "SELECT 1 FROM event_log_head WHERE id = 1 FOR UPDATE NOWAIT"
        try:
            driver.execute(statement)
        except dbapi_module(driver).OperationalError:
            return False
        if dialect_name == "sqlite":
            driver.execute("ROLLBACK")
        return True
    finally:
        driver.close()


@pytest.mark.parametrize("engine_kind", ["sqlalchemy", "driver"])
def test_the_lock_is_held_until_the_commit(db_url, engine_kind):
    engine = make_engine(db_url) if engine_kind == "sqlalchemy" else DriverEngine.open(db_url)
    store = EventStore(engine, registry())
    try:
        assert lock_is_free(db_url)
        with store.transaction() as tx:
            tx.lock()
            assert not lock_is_free(db_url)
            tx.append("s-1", [NewEvent("load.noted", {"n": 1}, T0)])
            assert not lock_is_free(db_url)
        assert lock_is_free(db_url)
        assert [e.data for e in store.read_stream("s-1")] == [{"n": 1}]

        with pytest.raises(RuntimeError), store.transaction() as tx:
            tx.append("s-1", [NewEvent("load.noted", {"n": 2}, T0)])
            raise RuntimeError("the command failed after its append")
        assert lock_is_free(db_url)
        assert [e.data for e in store.read_stream("s-1")] == [{"n": 1}]  # rolled back
    finally:
        store.close()
        engine.dispose()


def test_the_driver_leaves_a_write_transaction_as_it_found_it(postgres_server):
    """Out of autocommit again, idle: reads on the kept connection begin as before.
    (PostgreSQL only: SQLite's driver is always in autocommit, isolation_level None.)"""
    engine = make_engine(postgres_server.new_database())
    store = EventStore(engine, registry())
    try:
        with store.transaction() as tx:
            tx.append("s-1", [NewEvent("load.noted", {"n": 1}, T0)])
            driver = tx.raw.driver
            assert driver.autocommit and driver.info.transaction_status  # in the transaction
        assert not driver.autocommit and not driver.info.transaction_status
    finally:
        store.close()
        engine.dispose()
