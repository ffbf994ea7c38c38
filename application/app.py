"""Wiring: one database, its store and the ledger service."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import migrations
from events.catalog import REGISTRY
from events.database import make_engine, require_schema, resolve_url
from events.store import EventStore

from .ledger import Ledger


class App:
    def __init__(
        self,
        url: str | None,
        actor: str,
        now: Callable[[], datetime] | None = None,
        check_schema: bool = True,
    ) -> None:
        self.url = resolve_url(url)
        self.engine = make_engine(self.url)
        if check_schema:
            require_schema(self.engine, migrations.HEAD)
        if now is None:
            self.store = EventStore(self.engine, REGISTRY)
            self.ledger = Ledger(self.store, actor)
        else:
            # A simulated "now" (tests, the demo) is also the recording clock, so
            # "as known at" questions agree with "today".
            self.store = EventStore(self.engine, REGISTRY, clock=lambda: now().astimezone(UTC))
            self.ledger = Ledger(self.store, actor, now)

    def today(self):
        return self.ledger.today()

    def close(self) -> None:
        self.engine.dispose()
