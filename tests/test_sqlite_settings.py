"""Every SQLite connection has the same settings, whether SQLAlchemy opened it or a
one-command process opened the bare driver (events.driver)."""

from __future__ import annotations

import pytest

from events.database import make_engine
from events.driver import SQLITE_BUSY_TIMEOUT_S, DriverEngine
from events.migrate import upgrade

EXPECTED = {
    "journal_mode": "wal",
    "synchronous": 1,  # NORMAL
    "foreign_keys": 1,
    "busy_timeout": SQLITE_BUSY_TIMEOUT_S * 1000,
    # FAST: freed pages are not overwritten with zeros, whatever the build's default
    # (Debian's is ON). What a projection deletes is in the log, which nothing
    # deletes; a rebuild emptying the projection wrote every page it freed.
    "secure_delete": 2,
}


def _settings(execute) -> dict:
    return {name: execute(f"PRAGMA {name}") for name in EXPECTED}


@pytest.fixture
def url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'nhiemvu.db'}"
    upgrade(url)
    return url


def test_a_sqlalchemy_connection(url):
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            assert _settings(lambda sql: connection.exec_driver_sql(sql).scalar()) == EXPECTED
    finally:
        engine.dispose()


def test_a_bare_driver_connection(url):
    engine = DriverEngine.open(url)
    try:
        driver = engine.dbapi_connection
        assert _settings(lambda sql: driver.execute(sql).fetchone()[0]) == EXPECTED
    finally:
        engine.dispose()
