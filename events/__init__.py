"""The append-only event store: types, storage, serialisation, upcasting.

The names are loaded on first use: `events.errors` alone must not pull in
SQLAlchemy, which the read commands that open the driver directly never need.
"""

from importlib import import_module

_EXPORTS = {
    "ConcurrencyError": "errors",
    "EventStoreError": "errors",
    "IdempotencyConflict": "errors",
    "InvalidEvent": "errors",
    "SchemaOutOfDate": "errors",
    "UnknownEventType": "errors",
    "EventRegistry": "registry",
    "EventType": "registry",
    "ANY_VERSION": "store",
    "NO_STREAM": "store",
    "AppendResult": "store",
    "EventStore": "store",
    "NewEvent": "store",
    "RecordedEvent": "store",
    "StoreTransaction": "store",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    try:
        module = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'events' has no attribute {name!r}") from None
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
