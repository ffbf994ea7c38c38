"""What a command returns: the stream it wrote, its events, and warnings for the user."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Closure:
    """An agency's dissolution or merger as recorded: its event, and the tasks a merger
    moved to the successor (in the order of their ids)."""

    code: str
    stream_id: str
    events: list[Any]
    moved: tuple[str, ...] = ()


@dataclass(frozen=True)
class CommandResult:
    stream_id: str
    events: list[Any]
    warnings: tuple[str, ...] = ()
    key: str | None = None
    # An agency registered as formed by merging others (agency add --merging): their mergers.
    mergers: tuple[Closure, ...] = ()
