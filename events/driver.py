"""Opening the database with its DB-API driver alone, for commands that must start fast.

Importing SQLAlchemy costs a one-command process (`task show`, `task progress`)
more than all its work; such a command can open sqlite3 or psycopg itself and
work through `events.sql.Raw`. Anything unusual (another driver, URL options, a
file that does not exist yet) is left to the SQLAlchemy path, which also says
what is wrong.

`DriverEngine` carries the event store's write transactions over such a
connection: the store, the ledger and its projection run the very code they run
on a SQLAlchemy engine, since their statements go to the DB-API cursor anyway.
What only SQLAlchemy can run (a Core statement, mostly on error paths that look
up what the user might have meant) raises `NeedsFullEngine` instead; the
transaction rolls back and the caller runs the command again on a real engine.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import import_module
from types import SimpleNamespace
from typing import Any

from .locations import POSTGRES_PREFIX, resolve_url, sqlite_file

SQLITE_BUSY_TIMEOUT_S = 30
# How long a PostgreSQL statement waits for a lock (the log's head, a table a
# migration alters) before it is refused (lock_not_available): as long as SQLite
# waits for its write lock. Without it, a psql session left holding the head, or a
# long rebuild, kept every writer waiting with no end and no word.
POSTGRES_LOCK_TIMEOUT_S = SQLITE_BUSY_TIMEOUT_S


def postgres_options(given: str | None = None) -> str:
    """The libpq `options` of every PostgreSQL connection, whichever path opens it:
    those `given` in the URL (a search_path, say) kept, ours after them."""
    return f"{given or ''} -c lock_timeout={POSTGRES_LOCK_TIMEOUT_S * 1000}".strip()


# SQLite's own ceiling for a map (SQLITE_MAX_MMAP_SIZE); beyond it, pages are read.
SQLITE_MMAP_BYTES = 0x7FFF0000
# Execution option asking for a write transaction (BEGIN IMMEDIATE on SQLite).
WRITE = "nhiemvu_write"


def configure_sqlite(dbapi_connection) -> None:
    """The settings of every SQLite connection, whichever path opened it."""
    # Take transaction control from the driver, so a write transaction can
    # start with BEGIN IMMEDIATE: a deferred transaction that reads and then
    # writes fails at once (no busy wait) when another writer got in first.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Freed pages are not overwritten with zeros (some builds, Debian's among them,
    # default to ON): what a projection deletes is in the log, which nothing deletes,
    # and a rebuild's emptying of the projection would write every page it frees.
    cursor.execute("PRAGMA secure_delete=FAST")
    # Reads through a memory map instead of a read() per page: a report or rating
    # scans the task rows of every year, and the copies were a third of it.
    cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
    cursor.close()


def dbapi_module(dbapi_connection) -> Any:
    """The DB-API module a connection comes from (sqlite3, psycopg): its error classes."""
    return import_module(type(dbapi_connection).__module__.partition(".")[0])


def begin_statement(write: bool) -> str:
    return "BEGIN IMMEDIATE" if write else "BEGIN"


def connect(url: str | None) -> tuple[Any, str] | None:
    """A DB-API connection in autocommit mode and its dialect name, or None."""
    url = resolve_url(url)
    path = sqlite_file(url)
    if path is not None:
        if not os.path.isfile(path):
            return None
        import sqlite3  # noqa: PLC0415 - only the engine in use is imported

        # A name starting "file:" is a URI to an SQLite built to read them (Debian's
        # is): "./" keeps it the file name SQLAlchemy's path opens.
        name = f"./{path}" if path.startswith("file:") else path
        connection = sqlite3.connect(name, timeout=SQLITE_BUSY_TIMEOUT_S, isolation_level=None)
        return connection, "sqlite"
    if url.startswith(POSTGRES_PREFIX):
        import psycopg  # noqa: PLC0415
        from psycopg.conninfo import conninfo_to_dict  # noqa: PLC0415

        try:
            # The URL's own options (a search_path, say) kept, ours added after them:
            # a keyword would replace them, and this path would write elsewhere.
            params = conninfo_to_dict("postgresql://" + url[len(POSTGRES_PREFIX) :])
            params["options"] = postgres_options(params.get("options"))
            connection = psycopg.connect(**params, autocommit=True)
        except psycopg.Error:
            return None  # the SQLAlchemy path reports it the usual way
        return connection, "postgresql"
    return None


class NeedsFullEngine(Exception):
    """The command asked for what only SQLAlchemy runs: run it again on a real engine."""


class DriverEngine:
    """One DB-API connection behind the few Engine and Connection methods that the
    event store and `events.sql.Raw` use (`connect`, `begin`, `execution_options`,
    the DB-API connection): for a process that runs one command."""

    def __init__(self, dbapi_connection: Any, dialect_name: str) -> None:
        self.dbapi_connection = dbapi_connection
        self.in_transaction = False  # one DB-API connection: its state, whichever use asks
        # What Raw reads of a SQLAlchemy dialect.
        self.dialect = SimpleNamespace(name=dialect_name, dbapi=dbapi_module(dbapi_connection))
        if dialect_name == "sqlite":
            configure_sqlite(dbapi_connection)
        else:
            dbapi_connection.autocommit = False  # transactions as SQLAlchemy runs them

    @classmethod
    def open(cls, url: str | None) -> DriverEngine | None:
        opened = connect(url)
        if opened is None:
            return None
        connection, dialect_name = opened
        try:
            return cls(connection, dialect_name)
        except dbapi_module(connection).DatabaseError:  # not a database: SQLite's first PRAGMA
            connection.close()
            return None  # the SQLAlchemy path says what is wrong

    def connect(self) -> DriverConnection:
        return DriverConnection(self)

    def dispose(self) -> None:
        self.dbapi_connection.close()


class DriverConnection:
    """A use of the engine's connection; `execute` and the rest of SQLAlchemy's
    Connection raise NeedsFullEngine."""

    closed = False
    invalidated = False

    def __init__(self, engine: DriverEngine, write: bool = False) -> None:
        self.engine = engine
        self.dialect = engine.dialect
        self.connection = self  # SQLAlchemy's pooled connection: Raw reads dbapi_connection
        self.dbapi_connection = engine.dbapi_connection
        self._write = write

    def execution_options(self, **options) -> DriverConnection:
        return DriverConnection(self.engine, write=bool(options.get(WRITE)))

    @contextmanager
    def begin(self) -> Iterator[None]:
        driver = self.dbapi_connection
        if self.dialect.name == "sqlite":  # psycopg begins by itself (autocommit off)
            driver.execute(begin_statement(self._write))
        self.engine.in_transaction = True
        try:
            yield
        except BaseException:
            driver.rollback()
            raise
        finally:
            self.engine.in_transaction = False
        driver.commit()  # nothing to do when the pipeline committed already

    def close(self) -> None:
        # Like SQLAlchemy giving a connection back to its pool: end what a read began
        # (never a write transaction that another use of the connection is inside).
        if not self.engine.in_transaction and self.dialect.name != "sqlite":
            self.dbapi_connection.rollback()

    def __enter__(self) -> DriverConnection:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __getattr__(self, name: str):
        raise NeedsFullEngine(name)
