"""Every SQLite connection has the same settings, whether SQLAlchemy opened it or a
one-command process opened the bare driver (events.driver)."""

from __future__ import annotations

import warnings

import pytest
from nhiemvu_cli import Nhiemvu
from sqlalchemy.engine import make_url

from events.database import make_engine
from events.driver import SQLITE_BUSY_TIMEOUT_S, DriverEngine
from events.locations import resolve_url
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


# What a URL would read as an escape or as the start of its options.
NAMES_LIKE_URLS = ["c%20d.db", "b?mode=ro.db", "thư mục %41?x=1%.db"]


@pytest.mark.parametrize("name", NAMES_LIKE_URLS)
def test_a_bare_path_is_one_file_name_on_both_paths(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    url = resolve_url(name)
    assert make_url(url).database == name
    nv = Nhiemvu(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # SQLAlchemy's English warning on `?mode=ro.db`
        assert nv.ok("init").stdout == f"Đã khởi tạo/nâng cấp cơ sở dữ liệu: {name}\n"
        quick = DriverEngine.open(name)
        assert quick is not None  # so `agency add` writes through the bare driver
        quick.dispose()
        nv.ok("agency", "add", "SXD", "--name", "Sở Xây dựng", "--kind", "so")
        assert [row["code"] for row in nv.json("agency", "list")] == ["SXD"]
    assert {path.name for path in tmp_path.iterdir()} <= {name, f"{name}-wal", f"{name}-shm"}
