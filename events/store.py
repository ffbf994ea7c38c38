"""The append-only event store.

Every append happens inside a write transaction that first locks the single
`event_log_head` row. Holding that lock until commit serialises position
allocation, so global positions are gapless and follow commit order on SQLite
and PostgreSQL alike, and a rolled-back append gives its numbers back. Under the
same lock the store checks idempotency and the expected stream version, so both
checks are free of races.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from .database import WRITE
from .errors import ConcurrencyError, IdempotencyConflict, InvalidEvent
from .registry import EventRegistry
from .schema import events as events_table
from .schema import log_head
from .serialization import (
    check_json_data,
    event_digest,
    hashed_fields,
    require_aware,
    to_utc,
)

NO_STREAM = 0
ANY_VERSION: Literal["any"] = "any"
ExpectedVersion = int | Literal["any"]

DEFAULT_BATCH = 1000


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_event_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class NewEvent:
    type: str
    data: dict[str, Any]
    occurred_at: datetime
    event_id: str = field(default_factory=new_event_id)
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


class EventStore:
    def __init__(
        self,
        engine: Engine,
        registry: EventRegistry,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.engine = engine
        self.registry = registry
        self.clock = clock

    # -- writing ---------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[StoreTransaction]:
        """A write transaction: appends and projection updates commit together."""
        with self.engine.connect() as connection:
            connection = connection.execution_options(**{WRITE: True})
            with connection.begin():
                yield StoreTransaction(self, connection)

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
        query = (
            sa.select(events_table)
            .where(events_table.c.stream_id == stream_id)
            .order_by(events_table.c.stream_version)
        )
        query = _time_filters(query, as_of, known_at)
        with self._reading(connection) as conn:
            return [self._decode(row) for row in conn.execute(query).mappings()]

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
        after = from_position - 1
        while True:
            query = (
                sa.select(events_table)
                .where(events_table.c.position > after)
                .order_by(events_table.c.position)
                .limit(batch_size)
            )
            if to_position is not None:
                query = query.where(events_table.c.position <= to_position)
            query = _time_filters(query, as_of, known_at)
            with self._reading(connection) as conn:
                rows = conn.execute(query).mappings().all()
            if not rows:
                return
            yield [self._decode(row) for row in rows]
            after = rows[-1]["position"]
            if len(rows) < batch_size:
                return

    def head_position(self, connection: Connection | None = None) -> int:
        with self._reading(connection) as conn:
            return conn.execute(sa.select(log_head.c.last_position)).scalar_one()

    def count(self, connection: Connection | None = None) -> int:
        with self._reading(connection) as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(events_table)).scalar_one()

    def get_event(self, event_id: str, connection: Connection | None = None) -> RecordedEvent | None:
        query = sa.select(events_table).where(events_table.c.event_id == event_id)
        with self._reading(connection) as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else self._decode(row)

    @contextmanager
    def _reading(self, connection: Connection | None) -> Iterator[Connection]:
        if connection is not None:
            yield connection
        else:
            with self.engine.connect() as conn:
                yield conn

    def _decode(self, row) -> RecordedEvent:
        event_type = self.registry.get(row["event_type"])
        return RecordedEvent(
            position=row["position"],
            event_id=row["event_id"],
            stream_id=row["stream_id"],
            stream_version=row["stream_version"],
            type=row["event_type"],
            schema_version=event_type.version,
            data=event_type.upcast(row["payload"], row["schema_version"]),
            occurred_at=row["occurred_at"],
            recorded_at=row["recorded_at"],
            actor=row["actor"],
            causation_id=row["causation_id"],
            correlation_id=row["correlation_id"],
            metadata=row["metadata"],
            hash=row["hash"],
        )


def _time_filters(query, as_of: datetime | None, known_at: datetime | None):
    if as_of is not None:
        query = query.where(events_table.c.occurred_at <= require_aware(as_of, "as_of"))
    if known_at is not None:
        query = query.where(events_table.c.recorded_at <= require_aware(known_at, "known_at"))
    return query


@dataclass
class _Head:
    position: int
    hash: str
    recorded_at: datetime | None


class StoreTransaction:
    """One write transaction. `connection` is shared with projection updates."""

    def __init__(self, store: EventStore, connection: Connection) -> None:
        self.store = store
        self.connection = connection
        self._head: _Head | None = None
        self.appended: list[RecordedEvent] = []

    def append(
        self,
        stream_id: str,
        new_events: Sequence[NewEvent],
        expected_version: ExpectedVersion = ANY_VERSION,
        actor: str = "system",
    ) -> AppendResult:
        self._validate(stream_id, new_events, expected_version, actor)
        head = self.lock()
        existing = self._already_stored([e.event_id for e in new_events])
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

        rows = []
        prev_hash = head.hash
        for offset, new in enumerate(new_events, start=1):
            row = {
                "position": head.position + offset,
                "event_id": new.event_id,
                "stream_id": stream_id,
                "stream_version": current + offset,
                "event_type": new.type,
                "schema_version": self.store.registry.get(new.type).version,
                "occurred_at": to_utc(new.occurred_at),
                "recorded_at": recorded_at,
                "actor": actor,
                "causation_id": new.causation_id,
                "correlation_id": new.correlation_id,
                "payload": new.data,
                "metadata": new.metadata,
            }
            row["hash"] = prev_hash = event_digest(prev_hash, hashed_fields(row))
            rows.append(row)
        self.connection.execute(events_table.insert(), rows)
        self._advance_head(rows[-1]["position"], prev_hash, recorded_at)
        recorded = [self.store._decode(row) for row in rows]
        self.appended.extend(recorded)
        return AppendResult(stream_id, recorded)

    def stream_version(self, stream_id: str) -> int:
        query = sa.select(sa.func.max(events_table.c.stream_version)).where(
            events_table.c.stream_id == stream_id
        )
        return self.connection.execute(query).scalar() or 0

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
        ids = [e.event_id for e in new_events]
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
        change before they append.
        """
        if self._head is None:
            row = self.connection.execute(
                sa.select(log_head).where(log_head.c.id == 1).with_for_update()
            ).mappings().one()
            self._head = _Head(row["last_position"], row["last_hash"], row["last_recorded_at"])
        return self._head

    def _advance_head(self, position: int, last_hash: str, recorded_at: datetime) -> None:
        self.connection.execute(
            log_head.update()
            .where(log_head.c.id == 1)
            .values(last_position=position, last_hash=last_hash, last_recorded_at=recorded_at)
        )
        self._head = _Head(position, last_hash, recorded_at)

    def _already_stored(self, event_ids: Iterable[str]) -> list[RecordedEvent]:
        query = (
            sa.select(events_table)
            .where(events_table.c.event_id.in_(list(event_ids)))
            .order_by(events_table.c.position)
        )
        return [self.store._decode(row) for row in self.connection.execute(query).mappings()]
