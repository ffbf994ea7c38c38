"""Database settings and engines: SQLite (embedded default) or PostgreSQL."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .driver import (
    SQLITE_BUSY_TIMEOUT_S,
    SQLITE_MMAP_BYTES,
    WRITE,
    begin_statement,
    configure_sqlite,
    postgres_options,
)
from .errors import DatabaseUnavailable, SchemaOutOfDate
from .locations import DB_ENV_VAR, DEFAULT_SQLITE_FILE, resolve_url

__all__ = [
    "DB_ENV_VAR",
    "DEFAULT_SQLITE_FILE",
    "SQLITE_BUSY_TIMEOUT_S",
    "SQLITE_MMAP_BYTES",
    "WRITE",
    "connect_or_explain",
    "current_revision",
    "make_engine",
    "require_schema",
    "resolve_url",
]


def make_engine(url: str | None = None, **kwargs) -> Engine:
    url = resolve_url(url)
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S}, **kwargs)
        _configure_sqlite(engine)
        return engine
    # A server restart must cost the next command nothing but a reconnect.
    kwargs.setdefault("pool_pre_ping", True)
    engine = sa.create_engine(url, **kwargs)

    @event.listens_for(engine, "do_connect")
    def with_lock_timeout(_dialect, _record, _args, params):
        # At each connect, not at the engine's creation: what a test or a caller
        # sets as the timeout applies to connections opened after.
        params["options"] = postgres_options(params.get("options"))

    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        configure_sqlite(dbapi_connection)

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        write = connection.get_execution_options().get(WRITE, False)
        # On the DB-API connection: SQLAlchemy's execution machinery would cost
        # more than the BEGIN itself, and every command begins a transaction.
        connection.connection.dbapi_connection.execute(begin_statement(write))


@contextmanager
def read_snapshot(engine: Engine, idle_limit_s: int | None = None) -> Iterator[sa.Connection]:
    """A connection whose statements all see one committed state, for a read spread
    over several statements: on PostgreSQL a REPEATABLE READ transaction, on SQLite a
    deferred one (its first read fixes what the others see).

    `idle_limit_s`: on PostgreSQL, the server ends the transaction (ReadAbandoned) when
    it waits longer than this for the next statement — a read whose output is consumed
    as it comes (`task list | less`, left paused) would otherwise hold back vacuum, and
    a migration's lock, for as long as it is left."""
    sqlite = engine.dialect.name == "sqlite"
    options = {} if sqlite else {"isolation_level": "REPEATABLE READ"}
    with connect_or_explain(engine) as connection:
        connection = connection.execution_options(**options)
        with connection.begin():
            if idle_limit_s is not None and not sqlite:
                connection.exec_driver_sql(
                    f"SET LOCAL idle_in_transaction_session_timeout = {int(idle_limit_s * 1000)}"
                )
            yield connection


@contextmanager
def file_unmapped(raw) -> Iterator[None]:
    """SQLite reads without its memory map for a while (`raw`: an events.sql.Raw).

    A rebuild reads the whole file once: through the map, every page it touched would
    stay in the process's resident set, which would then grow with the log."""
    if not raw.dialect.sqlite:
        yield
        return
    raw.execute("PRAGMA mmap_size=0")
    try:
        yield
    finally:
        raw.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")


def connect_or_explain(engine: Engine) -> sa.Connection:
    """A connection, or DatabaseUnavailable saying in Vietnamese why there is none
    (no such directory or server, a database not created, a refused login)."""
    try:
        return engine.connect()
    except sa.exc.DatabaseError as exc:  # refused at connect, or SQLite's first PRAGMA
        said = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        url = engine.url
        if url.get_backend_name() != "sqlite":
            where = url.render_as_string(hide_password=True)
            meaning = why_postgres_refused(said)
            raise DatabaseUnavailable(where, False, meaning or said, known=bool(meaning)) from exc
        path = url.database or ""
        raise DatabaseUnavailable(path, True, _why_sqlite_cannot_open(path, said)) from exc


# libpq's words (any server language setting leaves these in English: they are the
# client's, or the server's before it knows the session's locale) and what they mean.
_POSTGRES_REFUSALS = [
    (
        r'database "(?P<name>[^"]+)" does not exist',
        "máy chủ chưa có cơ sở dữ liệu '{name}': tạo bằng `createdb {name}`, rồi chạy "
        "`nhiemvu init`",
    ),
    (
        r'role "(?P<name>[^"]+)" does not exist',
        "máy chủ không có người dùng '{name}': sửa tên người dùng trong --db (hoặc "
        "NHIEMVU_DB), hoặc nhờ người quản trị tạo (`createuser {name}`)",
    ),
    (
        r'password authentication failed for user "(?P<name>[^"]+)"',
        "sai mật khẩu của người dùng '{name}': sửa mật khẩu trong --db (hoặc NHIEMVU_DB) "
        "hoặc tệp .pgpass",
    ),
    (
        r"no password supplied",
        "máy chủ đòi mật khẩu: ghi vào URL (người_dùng:mật_khẩu@máy_chủ) hoặc tệp .pgpass",
    ),
    (
        r'no pg_hba\.conf entry for host "(?P<name>[^"]+)"',
        "máy chủ không cho máy này ({name}) kết nối: người quản trị cần thêm vào pg_hba.conf",
    ),
    (
        r'(?:failed to resolve host|could not translate host name) "?\'?(?P<name>[^"\':]+)',
        "không tìm thấy máy chủ '{name}': sửa tên máy trong --db (hoặc NHIEMVU_DB), hoặc "
        "kiểm tra mạng",
    ),
    (
        r'at "(?P<name>[^"]+)", port (?P<port>\d+) failed: Connection refused',
        "không có máy chủ PostgreSQL nào nhận kết nối ở {name}, cổng {port} (máy chủ chưa "
        "chạy, hoặc sai máy, sai cổng)",
    ),
    (r"timeout expired|timed out", "máy chủ không trả lời (hết thời gian chờ)"),
    (r"too many (?:connections|clients)", "máy chủ đã đủ số kết nối tối đa: thử lại sau"),
    (
        r"the database system is (?:starting up|shutting down|in recovery mode)",
        "máy chủ đang khởi động hoặc đang tắt: thử lại sau ít phút",
    ),
]


def why_postgres_refused(said: str) -> str | None:
    """What libpq's refusal means, in Vietnamese; None when it is not one known here."""
    for pattern, meaning in _POSTGRES_REFUSALS:
        found = re.search(pattern, said)
        if found is not None:
            return meaning.format(**found.groupdict())
    return None


def _why_sqlite_cannot_open(path: str, said: str) -> str:
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        return "đây là một thư mục, không phải tệp"
    if not os.path.isdir(folder):
        return f"thư mục '{folder}' không tồn tại"
    if "not a database" in said:
        return "tệp này không phải cơ sở dữ liệu SQLite, hoặc đã hỏng"
    if "disk is full" in said:
        return f"{said}; ổ đĩa đã đầy, hãy giải phóng chỗ trống"
    if "disk I/O error" in said:  # what SQLite says of a disk too full for its -shm file
        return f"{said}; ổ đĩa có thể đã đầy, hoặc thư mục chứa tệp không cho phép ghi"
    return f"{said}; thư mục chứa tệp phải cho phép ghi"


def current_revision(engine: Engine) -> str | None:
    # One query, no reflection: every command starts with this check.
    with connect_or_explain(engine) as connection:
        try:
            return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        except sa.exc.DBAPIError:
            return None  # no alembic_version table: never migrated


def require_schema(engine: Engine, expected: str) -> None:
    """Refuse to work on a database whose schema is missing or behind — or, for SQLite,
    whose file is not there: connecting would create it empty."""
    path = engine.url.database if engine.url.get_backend_name() == "sqlite" else None
    # With no such folder either, connecting says so (DatabaseUnavailable).
    folder_there = path and os.path.isdir(os.path.dirname(os.path.abspath(path)))
    if folder_there and path != ":memory:" and not os.path.exists(path):
        raise SchemaOutOfDate(None, expected, missing_file=path)
    current = current_revision(engine)
    if current != expected:
        raise SchemaOutOfDate(current, expected)
