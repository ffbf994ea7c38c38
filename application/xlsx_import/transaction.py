"""The import's one transaction: the store its commands run on, a savepoint a row.

The Ledger's commands open their own transactions; here those run inside the
import's single transaction, each row's commands in a savepoint, so a refused row
undoes only itself and the import decides at the end whether anything is kept.

The log's head is kept in memory from command to command and written once, at the
end. Written by every command, it was one row updated some 30,000 times in one
transaction: PostgreSQL keeps every version of it until the commit and walks them
all each time it reads or updates the row, so each command cost more than the one
before (a city year's workbook of 20,000 rows: stopped after 8 minutes; about a
minute now, benchmarks/import_bench.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Connection

from events.feeds import Feeds
from events.sql import Raw
from events.store import EventStore, StoreTransaction, write_head


class ImportStore(EventStore):
    """The store seen through the import's open transaction (`connection`), the log's
    write lock taken already."""

    def __init__(self, store: EventStore, connection: Connection) -> None:
        super().__init__(store.engine, store.registry, store.clock)
        self._connection = connection
        self.raw = Raw(connection)
        # The head as the import's commands left it, not written yet (None: as stored).
        self.head = None

    @contextmanager
    def transaction(self, projections=()) -> Iterator[StoreTransaction]:
        # No savepoint of its own: the importer runs each row's commands in one, and
        # a command that fails fails its row. A session that saw the command through
        # goes on with the next (it holds the directives and agencies it read); one at
        # another head is not resumed, so a row rolled back leaves none behind.
        tx = _ImportTransaction(self, self._connection, projections)
        try:
            yield tx
            tx.flush_in_one_round_trip()
            tx.committed()  # to the row's savepoint: the session may go on
        finally:
            tx.close()

    @contextmanager
    def _reading(self, connection: Connection | None) -> Iterator[Raw]:
        yield Raw(connection if connection is not None else self._connection)

    @contextmanager
    def row(self) -> Iterator[None]:
        """A row's commands, in a savepoint: all of them, or none and the head back (and
        the count of events written, which the import reports once it commits)."""
        head, written = self.head, self.committed_events
        self.raw.execute("SAVEPOINT import_row")
        try:
            yield
        except BaseException:
            self.raw.execute("ROLLBACK TO SAVEPOINT import_row")
            self.raw.execute("RELEASE SAVEPOINT import_row")
            self.head, self.committed_events = head, written
            raise
        self.raw.execute("RELEASE SAVEPOINT import_row")

    def write_head(self) -> None:
        """Store the head the commands left (before the commit)."""
        if self.head is not None:
            write_head(self.raw, self.head)


class _ImportFeeds(Feeds):
    def _locked_row(self, raw) -> tuple:
        """The first command reads the head, locked; the others take it from memory and
        read only the checkpoints (not the head row, which the import does not write)."""
        head = self.tx.store.head
        if head is None:
            return super()._locked_row(raw)
        columns, names = self._checkpoint_columns()
        checkpoints = raw.one(f"SELECT {', '.join(columns)}", names)
        return (head.position, head.hash, head.recorded_at, head.hash, *checkpoints)


class _ImportTransaction(StoreTransaction):
    feeds_of = _ImportFeeds

    def _write_head(self, head) -> None:
        self.store.head = head  # written once, at the end (ImportStore.write_head)
