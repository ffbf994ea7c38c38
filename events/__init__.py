"""The append-only event store: types, storage, serialisation, upcasting."""

from .errors import (
    ConcurrencyError,
    EventStoreError,
    IdempotencyConflict,
    InvalidEvent,
    SchemaOutOfDate,
    UnknownEventType,
)
from .registry import EventRegistry, EventType
from .store import (
    ANY_VERSION,
    NO_STREAM,
    AppendResult,
    EventStore,
    NewEvent,
    RecordedEvent,
    StoreTransaction,
)

__all__ = [
    "ANY_VERSION",
    "NO_STREAM",
    "AppendResult",
    "ConcurrencyError",
    "EventRegistry",
    "EventStore",
    "EventStoreError",
    "EventType",
    "IdempotencyConflict",
    "InvalidEvent",
    "NewEvent",
    "RecordedEvent",
    "SchemaOutOfDate",
    "StoreTransaction",
    "UnknownEventType",
]
