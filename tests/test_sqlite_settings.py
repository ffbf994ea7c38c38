"""Every SQLite connection has the same settings, whether SQLAlchemy opened it or a
one-command process opened the bare driver (events.driver)."""

from __future__ import annotations

import os
import sqlite3
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


# What a URL would read as an escape or as the start of its options, and what SQLite
# reads as a URI.
NAMES_LIKE_URLS = ["c%20d.db", "b?mode=ro.db", "thư mục %41?x=1%.db", "file:z.db"]


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


# -- what SQLite says when it cannot write, said in Vietnamese ---------------------------


@pytest.fixture
def opened_as(monkeypatch):
    """`opened_as(path, how)`: from then on every connection to the file `path`, the
    bare driver's and SQLAlchemy's (sqlite3.dbapi2), is passed to `how` first."""

    def patch(path, how) -> None:
        connect = sqlite3.connect

        def opening(database, *args, **kwargs):
            if os.path.realpath(database) != os.path.realpath(path):
                return connect(database, *args, **kwargs)
            return how(connect, database, *args, **kwargs)

        monkeypatch.setattr(sqlite3, "connect", opening)
        monkeypatch.setattr(sqlite3.dbapi2, "connect", opening)

    return patch


def read_only(connect, database, *args, **kwargs):
    # What a file of mode 444 gives a user who is not root (the tests run as root).
    return connect(f"file:{database}?mode=ro", *args, uri=True, **kwargs)


def without_room(connect, database, *args, **kwargs):
    # A disk with no room left: the file may not grow by a page.
    connection = connect(database, *args, **kwargs)
    pages = connection.execute("PRAGMA page_count").fetchone()[0]
    connection.execute(f"PRAGMA max_page_count = {max(pages, 1)}")
    return connection


def refused(nv: Nhiemvu, *args: str) -> str:
    result = nv.run(*args)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), (
        args,
        result.exception,
        result.stderr,
    )
    assert result.stderr.startswith("Lỗi: ") and "Traceback" not in result.stderr
    return result.stderr


AGENCY = ["agency", "add", "SXD", "--name", "Sở Xây dựng", "--kind", "so"]


def test_a_read_only_file_is_explained(url, opened_as):
    nv = Nhiemvu(url)
    nv.ok(*AGENCY)
    path = url.removeprefix("sqlite:///")
    opened_as(path, read_only)
    # the bare driver's write, then SQLAlchemy's
    for args in (["agency", "add", "STC", "--name", "Sở Tài chính", "--kind", "so"],
                 ["projections", "rebuild"]):  # fmt: skip
        said = refused(nv, *args)
        assert "tệp chỉ cho phép đọc (attempt to write a readonly database)" in said
        assert "Hãy kiểm tra quyền của tệp" in said
    assert [row["code"] for row in nv.json("agency", "list")] == ["SXD"]


def test_a_full_disk_is_explained_and_nothing_is_written(url, tmp_path, opened_as, monkeypatch):
    full = "Ổ đĩa chứa cơ sở dữ liệu đã đầy (database or disk is full). Lệnh không ghi gì."
    empty = tmp_path / "moi.db"
    opened_as(empty, without_room)
    assert full in refused(Nhiemvu(str(empty)), "init")  # Alembic's CREATE TABLE

    nv = Nhiemvu(url)
    opened_as(url.removeprefix("sqlite:///"), without_room)
    recorded = []
    for n in range(200):  # until the table's first page is full
        result = nv.run("agency", "add", f"CQ{n}", "--name", f"Cơ quan số {n}", "--kind", "so")
        if result.exit_code:
            break
        recorded.append(f"CQ{n}")
    assert full in refused(nv, "agency", "add", f"CQ{n}", "--name", "Cơ quan", "--kind", "so")
    assert [row["code"] for row in nv.json("agency", "list")] == sorted(recorded)

    import events.projections

    rebuild_in = events.projections.rebuild_in

    def then_the_disk_fills(*args, **kwargs):  # as at the rebuild's COMMIT
        rebuild_in(*args, **kwargs)
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(events.projections, "rebuild_in", then_the_disk_fills)
    assert full in refused(nv, "projections", "rebuild")


def test_a_disk_i_o_error_at_opening_names_a_full_disk(url, opened_as):
    def failing(connect, database, *args, **kwargs):
        raise sqlite3.OperationalError("disk I/O error")

    opened_as(url.removeprefix("sqlite:///"), failing)
    said = refused(Nhiemvu(url), "task", "list")
    assert "disk I/O error; ổ đĩa có thể đã đầy, hoặc thư mục chứa tệp không cho phép ghi" in said
