"""What a command returns: the stream it wrote, its events, and warnings for the user."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CommandResult:
    stream_id: str
    events: list[Any]
    warnings: tuple[str, ...] = ()
    key: str | None = None
