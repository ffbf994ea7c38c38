"""The append-only event store.

Every append happens inside a write transaction that first locks the single
`event_log_head` row. Holding that lock until commit serialises position
allocation, so global positions are gapless and follow commit order on SQLite
and PostgreSQL alike, and a rolled-back append gives its numbers back. Under the
same lock the store checks idempotency and the expected stream version, so both
checks are free of races.

A transaction keeps its new rows in memory and writes them when it commits (or
earlier, when someone needs the database to show them): a command then costs one
INSERT, one UPDATE of the head and the projections' own writes, however many
events it appends, and a batch of commands costs one INSERT per thousand events.
A stream's version comes from the transaction's own appends, from a projection
it feeds (which knows the versions of the aggregates it holds), or from the log.
The INSERT checks it once more: each row is written only if its stream stands,
at that moment, at the version just before it, so the database itself refuses a
gap or a duplicate version whatever the writer believed.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from .driver import SQLITE_BUSY_TIMEOUT_S, WRITE
from .errors import (
    CONTIGUOUS_VERSIONS_MESSAGE,
    POSITION_TAKEN_MESSAGES,
    ConcurrencyError,
    IdempotencyConflict,
    InvalidEvent,
    LogBeyondItsHead,
)
from .feeds import Feeds, head_row
from .registry import EventRegistry
from .serialization import (
    ACTOR_LENGTH,
    STREAM_ID_LENGTH,
    canonical_json,
    chain_digest,
    check_json_data,
    event_body,
    require_aware,
    to_utc,
)
from .sql import COPY_ROWS, Raw, dialect_named, loads

if TYPE_CHECKING:  # a one-command process runs the store without SQLAlchemy (events.driver)
    from sqlalchemy.engine import Connection, Engine

NO_STREAM = 0
ANY_VERSION: Literal["any"] = "any"
ExpectedVersion = int | Literal["any"]

DEFAULT_BATCH = 1000
# Rows kept in memory before a long transaction (a batch of commands) writes them.
FLUSH_ROWS = 2000
# Seconds a kept write connection may sit idle before it is checked out afresh.
WRITER_IDLE_S = 5.0


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_event_id() -> str:
    """A random (version 4) UUID, as `str(uuid.uuid4())` gives, at a third of its cost."""
    h = os.urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


@dataclass(frozen=True)
class NewEvent:
    """An event to append. Its id makes appends idempotent: appending the same
    NewEvent again (a retry) stores nothing and returns the original. `event_id=None`
    lets the store name it with a fresh id — for an event that no one can retry,
    which spares the store the lookup."""

    type: str
    data: dict[str, Any]
    occurred_at: datetime
    event_id: str | None = field(default_factory=new_event_id)
    causation_id: str | None = None
    correlation_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    position: int
    event_id: str
    stream_id: str
    stream_version: int
    type: str
    schema_version: int
    data: dict[str, Any]
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    causation_id: str | None
    correlation_id: str | None
    metadata: dict[str, Any]
    hash: str


class ProjectedEvent(NamedTuple):
    """An event as projections are fed it from the log: what it says, without how it
    was recorded. `data_json` is the stored payload text when no upcaster changed
    it, for a projection that keeps the payload as text — as its UTF-8 bytes when
    the feed was asked for them (events.stream_ranges.feed_part).

    A named tuple, not a frozen dataclass: as immutable, and made in a third of the
    time (0.18 against 0.56 µs; a rebuild makes one per event)."""

    position: int
    event_id: str
    stream_id: str
    stream_version: int
    type: str
    data: dict[str, Any]
    data_json: str | bytes | None = None


@dataclass(frozen=True)
class AppendResult:
    stream_id: str
    events: list[RecordedEvent]
    duplicate: bool = False

    @property
    def stream_version(self) -> int:
        return self.events[-1].stream_version

    @property
    def last_position(self) -> int:
        return self.events[-1].position


_COLUMNS = (
    "position, event_id, stream_id, stream_version, event_type, schema_version, payload, "
    "occurred_at, recorded_at, actor, causation_id, correlation_id, metadata, hash"
)
_SELECT = f"SELECT {_COLUMNS} FROM events"

EVENT_COLUMNS = tuple(_COLUMNS.split(", "))  # as the store writes a row
_STREAM_VERSION = "SELECT MAX(stream_version) FROM events WHERE stream_id = :stream_id"
_ADVANCE_HEAD = (
    "UPDATE event_log_head SET last_position = :position, last_hash = :hash, "
    "last_recorded_at = :recorded_at WHERE id = 1"
)


# SQLite: one lock per database file for the write transactions of this process.
_FILE_TURNS: dict[str, threading.RLock] = {}
_FILE_TURNS_GUARD = threading.Lock()


def _turns_of(engine) -> threading.RLock | None:
    """The lock this process's writers of a SQLite file take in turn, or None.

    SQLite makes a writer that finds the file locked sleep and retry (1 ms, then
    longer, up to 100 ms at a time), so threads of one process writing to one file
    take the lock in no order, through sleeps. Beside four appending threads, a
    projection rebuild's next transaction waited out its 30 s busy timeout in about
    one run in eight of tests/test_store_concurrency.py: no transaction committed
    during those 30 s while one appender sat inside its own. The cause, found since,
    was a cursor freed by the cycle collector (see StoreTransaction.close), and a
    waiting thread holding its connection's mutex in the busy handler is what made
    it a stall. Queued on a lock, the threads of one process never wait in SQLite's
    busy handler for each other — nor hold a connection's mutex while they wait —;
    another process still meets SQLite's own wait.
    Reentrant, so that a thread nesting two stores' transactions fails as SQLite
    would make it fail, not by waiting on itself.
    """
    url = getattr(engine, "url", None)
    database = getattr(url, "database", None)
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    path = os.path.realpath(database)
    with _FILE_TURNS_GUARD:
        return _FILE_TURNS.setdefault(path, threading.RLock())


@contextmanager
def _in_turn(turns: threading.RLock | None) -> Iterator[None]:
    """Wait for this process's turn to write (see _turns_of) — but no longer than SQLite
    itself would wait: past that, go on and let SQLite's lock decide. The turn only
    orders the waiting; it is never what keeps two writers apart."""
    acquired = turns is not None and turns.acquire(timeout=SQLITE_BUSY_TIMEOUT_S)
    try:
        yield
    finally:
        if acquired:
            turns.release()


@contextmanager
def _begun_by_the_lock(connection) -> Iterator[None]:
    """PostgreSQL: the write transaction is begun by its lock statement, BEGIN and
    lock in one round trip (Raw.one_opening_transaction): the driver runs in
    autocommit meanwhile, so that it sends no BEGIN of its own; its commit() and
    rollback() act on the server's transaction all the same. Statements before the
    lock, if any, are reads, which under READ COMMITTED see what they would see
    inside the transaction."""
    driver = connection.connection.dbapi_connection
    if connection.dialect.name == "sqlite" or driver.info.transaction_status:
        yield  # SQLite begins by itself; a transaction already open stays as it is
        return
    driver.autocommit = True
    try:
        yield
    finally:
        if not driver.closed and not driver.info.transaction_status:
            driver.autocommit = False


# How long a write transaction waits for the log's lock before `on_wait` is called.
WAIT_NOTICE_S = 2.0


class WaitNotice:
    """Calls `say` (on a timer thread) if the lock is not had within WAIT_NOTICE_S: a
    writer queued behind an Excel import or a rebuild waited up to half a minute in
    silence, as if the program had hung."""

    def __init__(self, say: Callable[[], None] | None) -> None:
        self._timer: threading.Timer | None = None
        if say is not None:
            self._timer = threading.Timer(WAIT_NOTICE_S, say)
            self._timer.daemon = True
            self._timer.start()

    def over(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class EventStore:
    # Called once when a write transaction has waited WAIT_NOTICE_S for the log's lock
    # (held by another process, or by another thread of this one): the CLI says so.
    on_wait: Callable[[], None] | None = None

    def __init__(
        self,
        engine: Engine,
        registry: EventRegistry,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.engine = engine
        self.registry = registry
        self.clock = clock
        self.dialect = dialect_named(engine.dialect.name)
        self._writers = threading.local()
        self._open_writers: list[Connection] = []
        self._writers_lock = threading.Lock()
        self._turns = _turns_of(engine)
        # Events this store has committed: a command that fails after its commit (its
        # output could not be printed) must not say that nothing was written.
        self.committed_events = 0

    # -- writing ---------------------------------------------------------

    @contextmanager
    def transaction(self, projections: Sequence[Any] = ()) -> Iterator[StoreTransaction]:
        """A write transaction: appends and projection updates commit together.

        `projections` are kept up to date inside it: caught up when the lock is
        taken, then fed every event appended (see events.projections).
        """
        connection = self._writer()
        notice = WaitNotice(self.on_wait)
        try:
            with _in_turn(self._turns):
                try:
                    with _begun_by_the_lock(connection), connection.begin():
                        tx = StoreTransaction(self, connection, projections)
                        tx.lock_taken = notice.over
                        try:
                            yield tx
                            tx.finish()
                        except BaseException:
                            tx.close()
                            raise
                except BaseException:
                    self._drop_writer(connection)  # rolled back; the next one starts afresh
                    raise
        finally:
            notice.over()
        try:
            tx.committed()
        finally:
            tx.close()

    def _writer(self) -> Connection:
        """This thread's connection for write transactions, kept between them:
        checking one out of the pool would cost as much as a small command."""
        connection = getattr(self._writers, "connection", None)
        now = time.monotonic()
        if connection is not None and now - self._writers.used_at > WRITER_IDLE_S:
            # A connection idle this long may have been cut by the server (restart,
            # idle timeout): hand it back and let the pool check a fresh one.
            self._drop_writer(connection)
            connection = None
        if connection is None or connection.closed or connection.invalidated:
            connection = self.engine.connect().execution_options(**{WRITE: True})
            self._writers.connection = connection
            with self._writers_lock:
                self._open_writers.append(connection)
        self._writers.used_at = now
        return connection

    def _drop_writer(self, connection: Connection) -> None:
        self._writers.connection = None
        with self._writers_lock:
            if connection in self._open_writers:
                self._open_writers.remove(connection)
        connection.close()

    def close(self) -> None:
        """Give back the kept write connections (of every thread) to the engine's pool."""
        with self._writers_lock:
            writers, self._open_writers = self._open_writers, []
        for connection in writers:
            connection.close()
        self._writers = threading.local()

    def append(
        self,
        stream_id: str,
        new_events: Sequence[NewEvent],
        expected_version: ExpectedVersion = ANY_VERSION,
        actor: str = "system",
    ) -> AppendResult:
        with self.transaction() as tx:
            return tx.append(stream_id, new_events, expected_version, actor)

    # -- reading ---------------------------------------------------------

    def read_stream(
        self,
        stream_id: str,
        as_of: datetime | None = None,
        known_at: datetime | None = None,
        connection: Connection | None = None,
    ) -> list[RecordedEvent]:
        where, params = _time_filters(["stream_id = :stream_id"], as_of, known_at, self.dialect)
        params["stream_id"] = stream_id
        sql = f"{_SELECT} WHERE {' AND '.join(where)} ORDER BY stream_version"
        with self._reading(connection) as raw:
            return [self._decode(row, raw) for row in raw.all(sql, params)]

    def read_streams_of_kind(
        self,
        kind: str,
        known_at: datetime | None = None,
        connection: Connection | None = None,
    ) -> list[RecordedEvent]:
        """The events of every stream `kind:…` (`document`), in log order, in one
        query. On SQLite, whose text order is the bytes', also bounded as a range of
        the stream index; a PostgreSQL database's collation may order ':' otherwise."""
        prefix = f"{kind}:"
        where = [f"substr(stream_id, 1, {len(prefix)}) = :prefix"]
        bounds = {"prefix": prefix}
        if self.dialect.sqlite:
            where += ["stream_id >= :prefix", "stream_id < :after_prefix"]
            bounds["after_prefix"] = f"{kind};"
        where, params = _time_filters(where, None, known_at, self.dialect)
        params |= bounds
        sql = f"{_SELECT} WHERE {' AND '.join(where)} ORDER BY position"
        with self._reading(connection) as raw:
            return [self._decode(row, raw) for row in raw.all(sql, params)]

    def read_all(
        self,
        from_position: int = 1,
        batch_size: int = DEFAULT_BATCH,
        as_of: datetime | None = None,
        known_at: datetime | None = None,
        to_position: int | None = None,
        connection: Connection | None = None,
    ) -> Iterator[RecordedEvent]:
        """The log from a position onward, fetched in batches by keyset."""
        for batch in self.read_batches(
            from_position, batch_size, as_of, known_at, to_position, connection
        ):
            yield from batch

    def read_batches(
        self,
        from_position: int = 1,
        batch_size: int = DEFAULT_BATCH,
        as_of: datetime | None = None,
        known_at: datetime | None = None,
        to_position: int | None = None,
        connection: Connection | None = None,
    ) -> Iterator[list[RecordedEvent]]:
        where, params = _time_filters(["position > :after"], as_of, known_at, self.dialect)
        if to_position is not None:
            where.append("position <= :to_position")
            params["to_position"] = to_position
        sql = f"{_SELECT} WHERE {' AND '.join(where)} ORDER BY position LIMIT {int(batch_size)}"
        params["after"] = from_position - 1
        while True:
            with self._reading(connection) as raw:
                rows = raw.all(sql, params)
                batch = [self._decode(row, raw) for row in rows]
            if not batch:
                return
            yield batch
            params["after"] = batch[-1].position
            if len(batch) < batch_size:
                return

    def feed_batches(
        self,
        from_position: int = 1,
        batch_size: int = DEFAULT_BATCH,
        to_position: int | None = None,
        connection: Connection | None = None,
    ) -> Iterator[list[ProjectedEvent]]:
        """The log from a position onward for projections, in batches by keyset:
        seven columns of each row instead of fourteen, and no instants to parse."""
        where = "position > :after" + (" AND position <= :to" if to_position is not None else "")
        sql = f"{self.feed_select()} WHERE {where} ORDER BY position LIMIT {int(batch_size)}"
        params = {"after": from_position - 1, "to": to_position}
        while True:
            with self._reading(connection) as raw:
                rows = raw.all(sql, params)
            if not rows:
                return
            batch = self.projected(rows)
            yield batch
            params["after"] = batch[-1].position
            if len(rows) < batch_size:
                return

    def feed_select(self, source: str = "events", payload_bytes: bool = False) -> str:
        """The SELECT of the rows `projected` decodes (no condition yet); on SQLite,
        with `payload_bytes`, the payloads as their UTF-8 bytes (see
        events.stream_ranges.feed_part)."""
        if self.dialect.sqlite:
            payload = "CAST(payload AS BLOB)" if payload_bytes else "payload"
        else:
            payload = "CAST(payload AS text)"
        return (
            "SELECT position, event_id, stream_id, stream_version, event_type, schema_version, "
            f"{payload} FROM {source}"
        )

    def projected(self, rows) -> list[ProjectedEvent]:
        """Rows of `feed_select`, as projections are fed them (upcast if need be)."""
        types = self.registry
        batch = []
        for position, event_id, stream_id, version, type_, schema_version, text in rows:
            event_type = types.get(type_)
            data = loads(text)
            if schema_version != event_type.version:
                data, text = event_type.upcast(data, schema_version), None
            batch.append(ProjectedEvent(position, event_id, stream_id, version, type_, data, text))
        return batch

    def head_position(self, connection: Connection | None = None) -> int:
        with self._reading(connection) as raw:
            return head_row(raw, "last_position")[0]

    def count(self, connection: Connection | None = None) -> int:
        with self._reading(connection) as raw:
            return raw.one("SELECT COUNT(*) FROM events")[0]

    def stored_ids(
        self, event_ids: Iterable[str], connection: Connection | None = None
    ) -> set[str]:
        """Which of these event ids the log holds (retracted events included)."""
        with self._reading(connection) as raw:
            return _stored_ids(raw, list(dict.fromkeys(event_ids)))

    def get_event(
        self, event_id: str, connection: Connection | None = None
    ) -> RecordedEvent | None:
        with self._reading(connection) as raw:
            row = raw.one(f"{_SELECT} WHERE event_id = :event_id", {"event_id": event_id})
            return None if row is None else self._decode(row, raw)

    @contextmanager
    def _reading(self, connection: Connection | None) -> Iterator[Raw]:
        if connection is not None:
            yield Raw(connection)
        else:
            with self.engine.connect() as conn:
                yield Raw(conn)

    def _decode(self, row, raw: Raw) -> RecordedEvent:
        (position, event_id, stream_id, version, type_, schema_version, payload, occurred,
         recorded, actor, causation, correlation, metadata, hash_) = row  # fmt: skip
        dialect = raw.dialect
        event_type = self.registry.get(type_)
        data = dialect.to_json(payload)
        if schema_version != event_type.version:
            data = event_type.upcast(data, schema_version)
        return RecordedEvent(
            position=position,
            event_id=event_id,
            stream_id=stream_id,
            stream_version=version,
            type=type_,
            schema_version=event_type.version,
            data=data,
            occurred_at=dialect.to_instant(occurred),
            recorded_at=dialect.to_instant(recorded),
            actor=actor,
            causation_id=causation,
            correlation_id=correlation,
            metadata=dialect.to_json(metadata),
            hash=hash_,
        )


def _stored_ids(raw: Raw, event_ids: list[str]) -> set[str]:
    present: set[str] = set()
    for start in range(0, len(event_ids), 500):  # one statement per 500
        placeholders, params = raw.in_list("id", event_ids[start : start + 500])
        sql = f"SELECT event_id FROM events WHERE event_id IN {placeholders}"
        present.update(row[0] for row in raw.all(sql, params))
    return present


def _time_filters(where: list[str], as_of, known_at, dialect) -> tuple[list[str], dict]:
    params: dict[str, Any] = {}
    if as_of is not None:
        where.append("occurred_at <= :as_of")
        params["as_of"] = dialect.instant(require_aware(as_of, "as_of"))
    if known_at is not None:
        where.append("recorded_at <= :known_at")
        params["known_at"] = dialect.instant(require_aware(known_at, "known_at"))
    return where, params


@dataclass
class _Head:
    position: int
    hash: str
    recorded_at: datetime | None


def _nothing() -> None:
    pass


def write_head(raw: Raw, head: _Head) -> None:
    """Store the log's head: its last position, hash and recording time."""
    raw.execute(
        _ADVANCE_HEAD,
        {
            "position": head.position,
            "hash": head.hash,
            "recorded_at": raw.dialect.instant(head.recorded_at),
        },
    )


class StoreTransaction:
    """One write transaction.

    `connection` is the SQLAlchemy connection of the transaction, for statements
    of one's own; reading it first writes out everything kept in memory (events
    and projection state), so what such a statement sees is complete.
    """

    feeds_of = Feeds  # the projections' feeding (a subclass may feed them its way)

    def __init__(
        self, store: EventStore, connection: Connection, projections: Sequence[Any] = ()
    ) -> None:
        self.store = store
        self._connection = connection
        self.raw = Raw(connection)
        self._head: _Head | None = None
        self._written_head: int | None = None  # head position as stored in the database
        self.appended: list[RecordedEvent] = []
        self._rows: list[dict[str, Any]] = []  # appended, not yet written
        self._unwritten_ids: dict[str, RecordedEvent] = {}
        self._absent_ids: set[str] = set()  # looked up under the lock: not in the log
        self._versions: dict[str, int] = {}  # stream versions as this transaction left them
        self._written_rows: list[dict[str, Any]] = []
        self.feeds = self.feeds_of(self, projections)
        # Called once the log's lock is had (see EventStore.on_wait).
        self.lock_taken: Callable[[], None] = _nothing

    @property
    def connection(self) -> Connection:
        self.flush()
        return self._connection

    def session(self, projection):
        """The in-memory state of a projection kept up to date by this transaction."""
        return self.feeds.session(projection)

    def append(
        self,
        stream_id: str,
        new_events: Sequence[NewEvent],
        expected_version: ExpectedVersion = ANY_VERSION,
        actor: str = "system",
    ) -> AppendResult:
        self._validate(stream_id, new_events, expected_version, actor)
        head = self.lock()
        named = [e.event_id for e in new_events if e.event_id is not None]
        existing = self._already_stored(named) if named else []
        if existing:
            if len(existing) != len(new_events):
                raise IdempotencyConflict(
                    "Một phần các sự kiện của lần ghi này đã có trong sổ "
                    f"({len(existing)}/{len(new_events)}); không ghi gì cả."
                )
            if any(e.stream_id != stream_id for e in existing):
                raise IdempotencyConflict(
                    "Các sự kiện của lần ghi này đã có trong sổ nhưng thuộc luồng "
                    f"'{existing[0].stream_id}', không phải '{stream_id}'; không ghi gì cả."
                )
            return AppendResult(stream_id, existing, duplicate=True)

        current = self.stream_version(stream_id)
        if expected_version != ANY_VERSION and expected_version != current:
            raise ConcurrencyError(stream_id, expected_version, current)

        recorded_at = self.store.clock()
        require_aware(recorded_at, "recorded_at")
        recorded_at = to_utc(recorded_at)
        if head.recorded_at is not None and recorded_at < head.recorded_at:
            recorded_at = head.recorded_at  # never decreasing along the position

        registry = self.store.registry
        instant = self.raw.dialect.instant
        stored_recorded_at = instant(recorded_at)
        recorded = []
        prev_hash = head.hash
        for offset, new in enumerate(new_events, start=1):
            row = {
                "position": head.position + offset,
                "event_id": new.event_id or new_event_id(),
                "stream_id": stream_id,
                "stream_version": current + offset,
                "event_type": new.type,
                "schema_version": registry.get(new.type).version,
                "occurred_at": to_utc(new.occurred_at),
                "recorded_at": recorded_at,
                "actor": actor,
                "causation_id": new.causation_id,
                "correlation_id": new.correlation_id,
            }
            # Stored in canonical form: the text hashed is the text kept.
            payload = canonical_json(new.data)
            metadata = canonical_json(new.metadata) if new.metadata else "{}"
            prev_hash = chain_digest(prev_hash, event_body(row, payload, metadata))
            event = RecordedEvent(
                position=row["position"],
                event_id=row["event_id"],
                stream_id=stream_id,
                stream_version=row["stream_version"],
                type=new.type,
                schema_version=row["schema_version"],
                data=new.data,
                occurred_at=row["occurred_at"],
                recorded_at=recorded_at,
                actor=actor,
                causation_id=new.causation_id,
                correlation_id=new.correlation_id,
                metadata=new.metadata,
                hash=prev_hash,
            )
            row.update(
                payload=payload,
                metadata=metadata,
                hash=prev_hash,
                occurred_at=instant(row["occurred_at"]),
                recorded_at=stored_recorded_at,
            )
            self._rows.append(row)
            self._unwritten_ids[event.event_id] = event
            self._absent_ids.discard(event.event_id)
            recorded.append(event)
        self._versions[stream_id] = current + len(new_events)
        self._head = _Head(recorded[-1].position, prev_hash, recorded_at)
        self.appended.extend(recorded)
        self.feeds.apply(recorded)
        if len(self._rows) >= FLUSH_ROWS:
            self.flush_events()
        return AppendResult(stream_id, recorded)

    def stream_version(self, stream_id: str) -> int:
        """The stream's version now: from this transaction's appends, else from a
        projection it feeds (current under the lock), else from the log."""
        version = self._versions.get(stream_id)
        if version is None:
            version = self.feeds.known_version(stream_id)
            if version is None:
                version = self._stored_version(stream_id)
            self._versions[stream_id] = version
        return version

    def _stored_version(self, stream_id: str) -> int:
        version = self.raw.one(_STREAM_VERSION, {"stream_id": stream_id})[0] or 0
        self._versions[stream_id] = version
        return version

    def read_stream(self, stream_id: str, **filters) -> list[RecordedEvent]:
        return self.store.read_stream(stream_id, connection=self.connection, **filters)

    def _validate(self, stream_id, new_events, expected_version, actor) -> None:
        if not stream_id or not isinstance(stream_id, str):
            raise InvalidEvent("Thiếu mã luồng sự kiện (stream id).")
        if not new_events:
            raise InvalidEvent("Không có sự kiện nào để ghi.")
        if expected_version != ANY_VERSION and (
            not isinstance(expected_version, int) or expected_version < 0
        ):
            raise InvalidEvent(f"Phiên bản mong đợi không hợp lệ: {expected_version!r}.")
        if not actor:
            raise InvalidEvent("Thiếu người ghi (actor).")
        if len(actor) > ACTOR_LENGTH:
            raise InvalidEvent(
                f"Tên người ghi (--actor) dài {len(actor)} ký tự, quá {ACTOR_LENGTH} ký tự cho "
                "phép. Hãy viết gọn lại."
            )
        if len(stream_id) > STREAM_ID_LENGTH:
            raise InvalidEvent(
                f"Mã luồng '{stream_id[:40]}…' dài {len(stream_id)} ký tự, quá "
                f"{STREAM_ID_LENGTH} ký tự cho phép."
            )
        ids = [e.event_id for e in new_events if e.event_id is not None]
        if len(set(ids)) != len(ids):
            raise InvalidEvent("Hai sự kiện trong cùng một lần ghi có cùng mã.")
        for new in new_events:
            self.store.registry.get(new.type)
            if not isinstance(new.data, dict):
                raise InvalidEvent(f"Dữ liệu của sự kiện '{new.type}' phải là một đối tượng JSON.")
            check_json_data(new.data, f"{new.type}.data")
            check_json_data(new.metadata, f"{new.type}.metadata")
            require_aware(new.occurred_at, f"Thời điểm xảy ra của '{new.type}'")

    def lock(self) -> _Head:
        """Take the log's write lock now (idempotent); held until commit or rollback.

        Commands call it before validating, so that what they validate cannot
        change before they append. The projections of the transaction catch up
        with the log here, so they are current from the first read on.
        """
        if self._head is None:
            self._head = _Head(*self.feeds.lock())
            self._written_head = self._head.position
        return self._head

    def prefetch_event_ids(self, event_ids: Iterable[str]) -> None:
        """Look these ids up now, in one statement per 500, for appends to come that
        name them (an escalation pass does, one lookup per task otherwise). Under the
        lock, so an id found absent stays absent until this transaction appends it."""
        self.lock()
        wanted = [i for i in dict.fromkeys(event_ids) if i not in self._unwritten_ids]
        present = _stored_ids(self.raw, wanted)
        self._absent_ids.update(i for i in wanted if i not in present)

    def flush_events(self) -> None:
        """Write the appended rows and the new head (the projections' state stays)."""
        if not self._rows:
            return
        rows, self._rows = self._rows, []
        self._unwritten_ids.clear()
        self._written_rows = rows
        with self._refusals_explained():
            self.raw.insert_rows("events", EVENT_COLUMNS, rows)
        self._write_head(self._head)
        self._written_head = self._head.position

    def _write_head(self, head: _Head) -> None:
        write_head(self.raw, head)

    def committed(self) -> None:
        """Called once the transaction has committed."""
        self.store.committed_events += len(self.appended)
        if self._head is not None:
            self.feeds.committed(self._head.position)

    def close(self) -> None:
        """Let go of the transaction's cursor here, in the thread that used it.

        Left to the cycle collector (the transaction and its feeds refer to each
        other), a SQLite cursor is freed by whichever thread happens to collect, and
        resetting its last statement waits for the mutex of the cursor's connection —
        holding the GIL. If that connection's own thread is in SQLite's busy wait for
        the write lock the collecting thread holds, the whole process stands still
        until the busy timeout (py-spy: gc_collect → cursor_dealloc → sqlite3_reset →
        pthread_mutex_lock, beside sqlite3BtreeBeginTrans → busy handler; 04/12/2026)."""
        self.raw.close()
        self.feeds.tx = None

    def flush(self) -> None:
        """Write everything kept in memory: events, head, projections and checkpoints."""
        self.flush_events()
        self.feeds.flush()

    def finish(self) -> None:
        """The last flush, and the commit. On PostgreSQL the statements and the COMMIT
        go in one round trip (psycopg's pipeline mode) when no projection needs the
        result of its writes (no results come back until the end); SQLAlchemy's commit
        then finds the driver idle and does nothing. A failure surfaces before the
        COMMIT takes effect: the server skips everything after an error in a pipeline.
        The COMMIT is a statement of the pipeline, not the driver's `commit()`, which
        would wait for it before the pipeline's own end waits again."""
        self.flush_in_one_round_trip(then="COMMIT")

    def flush_in_one_round_trip(self, then: str | None = None) -> None:
        """`flush`, its statements (and `then`, if given) sent together on PostgreSQL
        when nothing needs their results (see `finish`); one at a time otherwise."""
        if (
            self.raw.dialect.sqlite
            or not self.appended
            or len(self._rows) >= COPY_ROWS  # a batch: its rows go faster through COPY
            or not self.feeds.writes_blindly()
        ):
            self.flush()
            return
        with self._refusals_explained(), self.raw.driver.pipeline():
            self.flush()
            if then is not None:
                self.raw.execute(then)

    @contextmanager
    def _refusals_explained(self) -> Iterator[None]:
        """The database's refusal of a version out of sequence, as a ConcurrencyError
        (in a pipeline it surfaces only when the pipeline is synchronised)."""
        try:
            yield
        except self.raw.integrity_errors as exc:
            if any(message in str(exc) for message in POSITION_TAKEN_MESSAGES):
                raise LogBeyondItsHead() from None
            if CONTIGUOUS_VERSIONS_MESSAGE not in str(exc):
                raise
            raise self._out_of_sequence(self._written_rows) from None

    def _out_of_sequence(self, rows: list[dict[str, Any]]) -> ConcurrencyError:
        """The database refused a row that was not its stream's next version (the
        transaction is lost): name the first stream whose versions were not as believed."""
        for stream_id in dict.fromkeys(r["stream_id"] for r in rows):
            first = next(r for r in rows if r["stream_id"] == stream_id)
            try:
                stored = self.raw.one(_STREAM_VERSION, {"stream_id": stream_id})[0] or 0
            except self.raw.errors:
                stored = "?"  # PostgreSQL: the failed transaction answers nothing more
            if stored != first["stream_version"] - 1:
                return ConcurrencyError(stream_id, first["stream_version"] - 1, stored)
        return ConcurrencyError(rows[0]["stream_id"], rows[0]["stream_version"] - 1, "?")

    def _already_stored(self, event_ids: Iterable[str]) -> list[RecordedEvent]:
        event_ids = list(event_ids)
        found = {i: self._unwritten_ids[i] for i in event_ids if i in self._unwritten_ids}
        missing = [i for i in event_ids if i not in found and i not in self._absent_ids]
        if missing:
            placeholders, params = self.raw.in_list("id", missing)
            sql = f"{_SELECT} WHERE event_id IN {placeholders}"
            for row in self.raw.all(sql, params):
                event = self.store._decode(row, self.raw)
                found[event.event_id] = event
        return sorted(found.values(), key=lambda e: e.position)
