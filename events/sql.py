"""Hand-written statements on the DB-API cursor, for the paths every command takes.

SQLAlchemy Core builds, caches and executes a statement in some 100 µs; a command
runs half a dozen of them, which on SQLite is most of its cost. The few statements
on the hot paths (lock, append, projection rows, reads of the log) are therefore
written once per dialect and run on the DB-API cursor of the SQLAlchemy
connection, inside the transaction SQLAlchemy opened. Everything else (schema,
migrations, reports) stays SQLAlchemy Core.

Values are stored in the forms SQLAlchemy's own types read, so both paths read
each other's rows: on SQLite instants are naive UTC text
`YYYY-MM-DD HH:MM:SS.ffffff`, dates ISO text and JSON text (written here in the
canonical form of events.serialization, which SQLAlchemy's JSON type decodes like
its own `json.dumps` text); on PostgreSQL instants are `timestamptz`, and psycopg
parses `json` and `date`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from functools import cache
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import orjson

from .driver import dbapi_module

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

_NAMED = re.compile(r"(?<![:\w]):(\w+)")
# From this many rows on, an insert on PostgreSQL goes through COPY (see Raw.insert_values).
COPY_ROWS = 50


def loads(text: str | bytes) -> Any:
    """`json.loads` of a stored document, by orjson: a rebuild decodes every payload of
    the log, in 60 % of the time the standard library's C scanner takes. The two read
    alike every document the store accepts, whose integers fit in 64 bits
    (events.serialization.check_json_data): orjson would read a wider one as a float.
    What orjson refuses is left to `json`, which reads it (NaN, an escaped lone
    surrogate) or says why not in its own words."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


@cache
def _insert_statement(
    table: str, columns: tuple[str, ...], sqlite: bool, texts: tuple[str, ...] = ()
) -> str:
    """The INSERT of `insert_values`, positional, built once: every command inserts
    its events. On SQLite a column of `texts` is cast to text: bytes are stored as
    the text they encode in UTF-8 (the database's encoding), text as it is."""
    if sqlite:
        values = ", ".join("CAST(? AS TEXT)" if c in texts else "?" for c in columns)
    else:
        values = ", ".join(["%s"] * len(columns))
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({values})"


def values_of(columns: Sequence[str]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """A row's values in the order of `columns`, as a tuple."""
    getter = itemgetter(*columns)
    if len(columns) == 1:
        return lambda row: (getter(row),)
    return getter


class Dialect:
    """What the raw statements need to know about one backend."""

    def __init__(self, name: str) -> None:
        if name not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported database dialect: {name}")
        self.name = name
        self.sqlite = name == "sqlite"
        self._sql: dict[str, str] = {}

    def sql(self, text: str) -> tuple[str, tuple[str, ...] | None]:
        """The statement in the driver's style, and for PostgreSQL the names of its
        positional parameters (psycopg binds a tuple faster than a mapping)."""
        try:
            return self._sql[text]
        except KeyError:
            if self.sqlite:
                converted = (text, None)
            else:
                converted = (_NAMED.sub("%s", text), tuple(_NAMED.findall(text)))
            self._sql[text] = converted
            return converted

    # -- values going in --------------------------------------------------------

    def instant(self, value: datetime | None):
        if value is None:
            return None
        value = value.astimezone(UTC)
        if self.sqlite:
            return value.replace(tzinfo=None).isoformat(" ", "microseconds")
        return value

    @staticmethod
    def day(value: date | None) -> str | None:
        return None if value is None else value.isoformat()

    # -- values coming out ------------------------------------------------------

    def to_instant(self, value) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)

    @staticmethod
    def to_day(value) -> date | None:
        if value is None or isinstance(value, date):
            return value
        return date.fromisoformat(value)

    @staticmethod
    def to_json(value):
        return loads(value) if isinstance(value, str) else value


_DIALECTS: dict[str, Dialect] = {}


def dialect_named(name: str) -> Dialect:
    if name not in _DIALECTS:
        _DIALECTS[name] = Dialect(name)
    return _DIALECTS[name]


class Raw:
    """The DB-API cursor of one SQLAlchemy connection, in its current transaction
    (or of a bare driver connection, see `over_driver`)."""

    def __init__(self, connection: Connection) -> None:
        self.connection: Connection | None = connection
        dialect = connection.dialect
        self._use(connection.connection.dbapi_connection, dialect.name, dialect.dbapi)

    @classmethod
    def over_driver(cls, driver: Any, dialect_name: str) -> Raw:
        """Over a DB-API connection opened without SQLAlchemy (events.driver)."""
        raw = cls.__new__(cls)
        raw.connection = None
        raw._use(driver, dialect_name, dbapi_module(driver))
        return raw

    def _use(self, driver: Any, dialect_name: str, dbapi: Any) -> None:
        self.dialect = dialect_named(dialect_name)
        self.driver = driver
        self.cursor = driver.cursor()
        self.errors = dbapi.Error
        self.integrity_errors = dbapi.IntegrityError
        self.data_errors = dbapi.DataError

    def close(self) -> None:
        """Close the cursor (see StoreTransaction.close); this Raw is done with."""
        self.cursor.close()

    def execute(self, text: str, params: Mapping[str, Any] | None = None):
        sql, names = self.dialect.sql(text)
        if names is None:
            self.cursor.execute(sql, params or {})
        else:
            self.cursor.execute(sql, tuple([params[n] for n in names]) if names else None)
        return self.cursor

    def executemany(self, text: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run one statement for each row."""
        if not rows:
            return
        if len(rows) == 1:  # psycopg's executemany costs more than the round trip it saves
            self.execute(text, rows[0])
            return
        sql, names = self.dialect.sql(text)
        if names is None:
            self.cursor.executemany(sql, rows)
        else:
            self.cursor.executemany(sql, [tuple([row[n] for n in names]) for row in rows])

    def insert_rows(
        self,
        table: str,
        columns: Sequence[str],
        rows: Sequence[Mapping[str, Any]],
        texts: Sequence[str] = (),
    ):
        """INSERT many rows, given as mappings (see insert_values)."""
        if rows:
            self.insert_values(table, columns, list(map(values_of(columns), rows)), texts)

    def insert_values(
        self,
        table: str,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        texts: Sequence[str] = (),
    ):
        """INSERT many rows, given as their values in the order of `columns` — bound
        by position, which costs the driver less than by name. On PostgreSQL a large
        set goes through COPY (outside a pipeline, where COPY cannot run): psycopg's
        executemany sends one statement per row, which costs a rebuild or a batch
        more than the rows themselves. The columns named in `texts` hold text, which
        on SQLite may come as its UTF-8 bytes (see events.stream_ranges.feed_part)."""
        if not rows:
            return
        sqlite = self.dialect.sqlite
        if sqlite or len(rows) < COPY_ROWS or self.driver.pgconn.pipeline_status:
            sql = _insert_statement(table, tuple(columns), sqlite, tuple(texts))
            if len(rows) == 1:  # psycopg's executemany costs more than the round trip
                self.cursor.execute(sql, rows[0])
            else:
                self.cursor.executemany(sql, rows)
            return
        with self.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def stream(self, text: str, params: Mapping[str, Any], size: int) -> Iterator[list]:
        """The rows of one query, `size` at a time, without holding them all: on
        PostgreSQL a server-side cursor (psycopg would otherwise receive the whole
        result at once), on SQLite a cursor of its own (SQLite steps it as it goes).
        Other statements may run on this connection between the batches; another
        stream may not (the server-side cursor has one name)."""
        sql, names = self.dialect.sql(text)
        if names is None:
            cursor, args = self.driver.cursor(), params
        else:
            # A cursor is planned for its first tenth by default (a fast start, as
            # for a page of results), and a rebuild's range of streams then came
            # through the position index, filtering the whole log for every range:
            # on a tenth of a national year, 0.74 s a range against 0.21 s by the
            # stream index and a sort, and the rebuild 26.6–30.3 s against
            # 32.4–34.6 s. A stream is always read to its end.
            self.cursor.execute("SET LOCAL cursor_tuple_fraction = 1")
            cursor = self.driver.cursor(name="nhiemvu_stream")
            args = tuple(params[n] for n in names)
        try:
            cursor.execute(sql, args)
            while rows := cursor.fetchmany(size):
                yield rows
        finally:
            cursor.close()

    def one(self, text: str, params: Mapping[str, Any] | None = None):
        return self.execute(text, params).fetchone()

    def one_opening_transaction(self, text: str, params: Mapping[str, Any] | None = None):
        """`one`, as the statement that opens a transaction: on PostgreSQL with the
        driver in autocommit (events.store.EventStore.transaction), the BEGIN goes with
        it in one round trip instead of psycopg's own round trip before it."""
        driver = self.driver
        if self.dialect.sqlite or not driver.autocommit or driver.info.transaction_status:
            return self.one(text, params)  # already in a transaction (status not IDLE)
        with driver.pipeline():
            self.cursor.execute("BEGIN")
            cursor = self.execute(text, params)
        return cursor.fetchone()

    def all(self, text: str, params: Mapping[str, Any] | None = None) -> list:
        return self.execute(text, params).fetchall()

    def in_list(self, prefix: str, values: Iterable[Any]) -> tuple[str, dict[str, Any]]:
        """`(:p0, :p1, …)` and its parameters, for `… IN (…)`."""
        params = {f"{prefix}{i}": v for i, v in enumerate(values)}
        return "(" + ", ".join(f":{k}" for k in params) + ")", params
