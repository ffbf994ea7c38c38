"""Event types by stable name and schema version, with upcasters for old payloads.

An upcaster turns the payload of version n into version n + 1. Stored rows are
never rewritten: old payloads are upgraded each time they are read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import InvalidEvent, UnknownEventType

Payload = dict[str, Any]
Upcaster = Callable[[Payload], Payload]


@dataclass
class EventType:
    name: str
    version: int = 1
    upcasters: dict[int, Upcaster] = field(default_factory=dict)

    def upcast(self, payload: Payload, from_version: int) -> Payload:
        if from_version > self.version:
            raise InvalidEvent(
                f"Sự kiện '{self.name}' có phiên bản {from_version} mới hơn phần mềm "
                f"({self.version}); hãy cập nhật nhiemvu."
            )
        for version in range(from_version, self.version):
            payload = self.upcasters[version](payload)
        return payload


class EventRegistry:
    def __init__(self) -> None:
        self._types: dict[str, EventType] = {}

    def register(self, name: str, version: int = 1) -> EventType:
        if name in self._types:
            raise ValueError(f"event type {name!r} registered twice")
        event_type = EventType(name, version)
        self._types[name] = event_type
        return event_type

    def upcaster(self, name: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Decorator registering the step from_version -> from_version + 1."""

        def decorate(func: Upcaster) -> Upcaster:
            event_type = self.get(name)
            if not 1 <= from_version < event_type.version:
                raise ValueError(f"{name}: no schema version {from_version} to upcast from")
            event_type.upcasters[from_version] = func
            return func

        return decorate

    def get(self, name: str) -> EventType:
        try:
            return self._types[name]
        except KeyError:
            raise UnknownEventType(name) from None

    def __contains__(self, name: str) -> bool:
        return name in self._types

    def names(self) -> list[str]:
        return sorted(self._types)

    def check_complete(self) -> None:
        """Every version step of every type must have its upcaster."""
        for event_type in self._types.values():
            missing = [v for v in range(1, event_type.version) if v not in event_type.upcasters]
            if missing:
                raise ValueError(f"{event_type.name}: missing upcasters from versions {missing}")
