"""Wiring: one database, its store and the ledger service."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import migrations
from events.catalog import REGISTRY
from events.locations import resolve_url
from events.store import EventStore

from .files import protect_database
from .ledger import Ledger


def initialise(url: str | None) -> tuple[str, list[str]]:
    """`nhiemvu init`: create or upgrade the schema, and the scheduler's job table.
    Returns the URL it worked on and the log's guards it put back (events.migrate)."""
    from events.migrate import upgrade  # noqa: PLC0415

    from .scheduler import create_job_table  # noqa: PLC0415

    url = resolve_url(url)
    restored = upgrade(url)
    create_job_table(url)
    return url, restored


class App:
    def __init__(
        self,
        url: str | None,
        actor: str,
        now: Callable[[], datetime] | None = None,
        check_schema: bool = True,
        engine=None,
        catch_up: bool = True,
    ) -> None:
        """`engine`: one already open (App.quick); otherwise a SQLAlchemy engine for `url`.
        `catch_up`: False for what must work on a projection that cannot be caught up
        (rebuilding it, checking or exporting the log)."""
        self.url = resolve_url(url)
        protect_database(self.url)
        self.quick = engine is not None
        if engine is None:
            from events.database import make_engine, require_schema  # noqa: PLC0415

            engine = make_engine(self.url)
            if check_schema:
                require_schema(engine, migrations.HEAD)
        else:
            check_schema = False  # App.quick checked it
        self.engine = engine
        if now is None:
            self.store = EventStore(self.engine, REGISTRY)
            self.ledger = Ledger(self.store, actor)
        else:
            # A simulated "now" (tests, the demo) is also the recording clock, so
            # "as known at" questions agree with "today".
            self.store = EventStore(self.engine, REGISTRY, clock=lambda: now().astimezone(UTC))
            self.ledger = Ledger(self.store, actor, now)
        if check_schema and catch_up:
            self.bring_projections_up_to_date()

    @classmethod
    def quick(
        cls, url: str | None, actor: str, now: Callable[[], datetime] | None = None
    ) -> App | None:
        """An App over the bare DB-API driver (events.driver), for a process that runs one
        command and should not import SQLAlchemy — or None when the database is not
        ready for it (schema behind, projection behind, unusual URL): then use App().

        Its ledger runs the same code as App()'s; a command that reaches for SQLAlchemy
        raises events.driver.NeedsFullEngine, having written nothing, and is to be run
        again on App()."""
        from events.driver import DriverEngine  # noqa: PLC0415

        from .quick import ready_for_quick_path  # noqa: PLC0415

        engine = DriverEngine.open(url)
        if engine is None:
            return None
        if not ready_for_quick_path(engine.connect()):
            engine.dispose()
            return None
        return cls(url, actor, now, engine=engine)

    def today(self):
        return self.ledger.today()

    def bring_projections_up_to_date(self) -> int:
        """Catch the ledger projection up with the log, if it is behind; the events applied.

        It is behind only when something wrote to the log without it, or after a
        migration that emptied it (a new projection schema): then it is rebuilt.
        Commands would catch it up under their lock anyway; this is for the reads.
        """
        from events.projections import catch_up, get_checkpoint, rebuild  # noqa: PLC0415

        with self.engine.connect() as connection:
            checkpoint = get_checkpoint(connection, self.ledger.projection.name)
            head = self.store.head_position(connection)
        if checkpoint >= head:
            return 0
        if checkpoint == 0:
            return rebuild(self.store, self.ledger.projection)
        return catch_up(self.store, self.ledger.projection)

    def import_log(self, source, progress=None, expect_hash: str | None = None):
        """Load an exported log into this database's empty log, its projection built
        from it in the same transaction: all or nothing (events.transfer.import_log).
        Returns the transfer's result and the events projected."""
        from events.projections import rebuild_within, vacuum_rewritten  # noqa: PLC0415
        from events.transfer import import_log  # noqa: PLC0415

        projection = self.ledger.projection
        projected: list[int] = []
        result = import_log(
            self.engine,
            source,
            REGISTRY,
            progress=progress,
            expect_hash=expect_hash,
            project=lambda connection: projected.append(
                rebuild_within(self.store, connection, projection)
            ),
        )
        vacuum_rewritten(self.store, projection)
        return result, projected[0]

    def close(self) -> None:
        self.store.close()
        self.engine.dispose()
