"""Checkpointed projections.

A projection's checkpoint is written in the same transaction as its output,
so a crash leaves it either fully applied up to the checkpoint or not at all.

Commands keep their projections current by naming them when they open the
transaction (`store.transaction(projections=[…])`, see events.feeds). The
functions here serve the rest: `apply_in_transaction` for a transaction that
did not name the projection, `catch_up` for one that fell behind, and `rebuild`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Protocol

from sqlalchemy.engine import Connection

from .database import file_unmapped
from .driver import connect
from .feeds import open_session, stored_checkpoint, write_checkpoint
from .memory import collector_paused
from .rebuild_workers import folded_elsewhere, replay, worker_count
from .sql import Raw
from .store import DEFAULT_BATCH, EventStore, RecordedEvent, StoreTransaction
from .stream_ranges import feed_part

# A rebuild reads the log in large batches: it holds the lock anyway.
REBUILD_BATCH = 10_000


class Projection(Protocol):
    name: str

    def apply(self, connection: Connection, events: Sequence[RecordedEvent]) -> None:
        """Apply events, in position order, to the projection's tables."""

    def reset(self, connection: Connection) -> None:
        """Empty the projection's tables."""

    # Optional: `table_names() -> list[str]`, the tables `reset` empties, which a
    # rebuild on PostgreSQL vacuums once it has committed (see `rebuild`); and
    # `rebuild_parts(raw, workers) -> Iterable[RebuildPart]`, for a projection rebuilt
    # a range of streams at a time (see events.stream_ranges), its detachable parts
    # cut in a multiple of `workers` (see events.rebuild_workers).


def get_checkpoint(connection: Connection, name: str) -> int:
    return stored_checkpoint(Raw(connection), name) or 0


def set_checkpoint(connection: Connection, name: str, position: int) -> None:
    raw = Raw(connection)
    write_checkpoint(raw, name, position, exists=stored_checkpoint(raw, name) is not None)


def apply_in_transaction(tx: StoreTransaction, projection: Projection) -> None:
    """Bring a projection up to the end of this transaction's appends.

    For a projection the transaction was not opened with: called after the
    appends, it first catches up with anything it missed, then applies the new
    events, and its checkpoint moves with them.
    """
    if not tx.appended:
        return
    connection = tx.connection
    checkpoint = get_checkpoint(connection, projection.name)
    last = tx.appended[-1].position
    if checkpoint >= last:
        return
    pending = [e for e in tx.appended if e.position > checkpoint]
    first_new = pending[0].position
    if checkpoint < first_new - 1:
        for batch in tx.store.feed_batches(
            checkpoint + 1, to_position=first_new - 1, connection=connection
        ):
            projection.apply(connection, batch)
    projection.apply(connection, pending)
    set_checkpoint(connection, projection.name, last)


def catch_up(store: EventStore, projection: Projection, batch_size: int = DEFAULT_BATCH) -> int:
    """Apply whatever the projection has not seen, one committed batch at a time."""
    applied = 0
    while True:
        with store.transaction() as tx:
            # Hold the log's write lock, as appenders applying the projection
            # in their own transactions do, so that no event is applied twice.
            tx.lock()
            count = _feed(tx, projection, get_checkpoint(tx.raw.connection, projection.name),
                          batch_size, batches=1)  # fmt: skip
            if not count:
                return applied
            applied += count


def rebuild(
    store: EventStore,
    projection: Projection,
    batch_size: int = REBUILD_BATCH,
    workers: int | None = None,
) -> int:
    """Empty the projection and apply the whole log, in one transaction.

    Readers see the old state until the new one commits. The log is streamed in
    batches, and either the projection's session writes as it goes or the projection
    is fed one range of streams at a time (`rebuild_parts`), so memory does not grow
    with the log; its detachable parts are folded by `workers` processes side by
    side (default: one per core, at most DEFAULT_WORKERS_AT_MOST; 1: all in this one).
    """
    with collector_paused(), store.transaction() as tx, file_unmapped(tx.raw):
        applied = rebuild_in(tx, projection, batch_size, worker_count(workers))
    vacuum_rewritten(store, projection)
    return applied


def rebuild_within(
    store: EventStore,
    connection: Connection,
    projection: Projection,
    batch_size: int = REBUILD_BATCH,
) -> int:
    """`rebuild`, in the write transaction the caller holds on `connection` and in this
    process alone (a worker would see only what is committed): an import builds the
    projection from what it loaded before it commits, so that a log the projection
    cannot read is refused whole. The caller vacuums after its commit."""
    tx = StoreTransaction(store, connection)
    with collector_paused():
        return rebuild_in(tx, projection, batch_size, workers=1)


def rebuild_in(tx, projection, batch_size: int, workers: int) -> int:
    """Empty the projection and feed it the whole log, in the write transaction `tx`,
    which the caller commits — or rolls back (events.projection_check)."""
    tx.lock()
    if hasattr(projection, "rebuild_parts"):
        return _feed_parts(tx, projection, batch_size, workers)
    projection.reset(tx.raw.connection)
    return _feed(tx, projection, 0, batch_size, bulk=True, reset=True)


def _feed_parts(tx, projection, batch_size: int, workers: int) -> int:
    """Empty the projection and feed it the whole log, part after part. A part's
    session is flushed before the next one opens (it may read what the parts before
    it wrote); the detachable parts are folded by worker processes meanwhile — from
    before the projection is emptied: they read only the log —, and their writes run
    here as they come. Returns the head: the log's positions are gapless, and every
    event reached a part."""
    raw = tx.raw
    head = tx.lock().position
    parts = list(projection.rebuild_parts(raw, workers))
    detached = [p for p in parts if p.detachable] if workers > 1 else []
    # One part alone: a worker's start-up would cost more than it saves.
    url = _detachable_url(tx.store) if len(detached) > 1 else None
    if url is None:
        detached = []
    registry = tx.store.registry
    with folded_elsewhere(url, registry, detached, batch_size, head, workers) as done:
        projection.reset(raw.connection)
        for part in parts:
            if part not in detached:
                feed_part(tx.store, raw, part.open(raw), part, batch_size, head)
        for writes in done:
            replay(raw, writes)
    exists = stored_checkpoint(raw, projection.name) is not None
    write_checkpoint(raw, projection.name, head, exists)
    mark_checkpoints_moved(raw)
    return head


def mark_checkpoints_moved(raw) -> None:
    """Make a new version of the head row, unchanged, after writing checkpoints without
    appending, on PostgreSQL: a writer queued on the head's lock reads the checkpoints
    again only when the head row has changed (events.feeds.Feeds._as_locked)."""
    if not raw.dialect.sqlite:
        raw.execute("UPDATE event_log_head SET last_position = last_position WHERE id = 1")


def _detachable_url(store: EventStore) -> str | None:
    """The URL another process opens the store's database by, if it can: not an
    in-memory SQLite database, nor one the bare driver cannot open."""
    url = getattr(store.engine, "url", None)
    if url is None:
        return None
    text = url.render_as_string(hide_password=False) if hasattr(url, "render_as_string") else url
    opened = connect(text)
    if opened is None:
        return None
    opened[0].close()
    return text


# The tables PostgreSQL would not vacuum for this role, while someone listens
# (`vacuum_refusals`).
_REFUSED: ContextVar[list[str] | None] = ContextVar("vacuum_refused", default=None)


@contextmanager
def vacuum_refusals() -> Iterator[list[str]]:
    """The tables the vacuums inside refused to touch, as PostgreSQL named them: a
    role that does not own them may write their rows but not vacuum them, and the
    server says so only in a warning, carrying on as if it had."""
    refused: list[str] = []
    token = _REFUSED.set(refused)
    try:
        yield refused
    finally:
        _REFUSED.reset(token)


def vacuum_rewritten(store: EventStore, projection: Projection) -> None:
    """On PostgreSQL, VACUUM (ANALYZE) the tables a rebuild has just rewritten.

    Under MVCC the rows a rebuild deleted stay in the table until a vacuum: every
    rebuild would add the projection's whole size again for each scan to read (a
    decade's task rows: 230 MB more a rebuild), until autovacuum came by — if it is
    on at all —, and the planner's statistics would describe the old rows. A plain
    VACUUM blocks neither readers nor writers; SQLite reuses the freed pages itself.
    Only the tables' owner (from PostgreSQL 17, a role granted MAINTAIN) may vacuum
    them: another role's is skipped with a warning, which `vacuum_refusals` hears.
    """
    table_names = getattr(projection, "table_names", None)
    if table_names is None or store.engine.dialect.name != "postgresql":
        return
    names = table_names()
    warnings: list[str] = []

    def heard(diagnostic) -> None:
        if diagnostic.severity_nonlocalized == "WARNING":
            warnings.append(diagnostic.message_primary or "")

    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        driver = connection.connection.driver_connection
        driver.add_notice_handler(heard)
        try:
            connection.exec_driver_sql(f"VACUUM (ANALYZE) {', '.join(names)}")
        finally:
            driver.remove_notice_handler(heard)
    refused = _REFUSED.get()
    if refused is not None:
        # The warnings are in the server's language; the tables' names are not.
        refused.extend(n for n in names if any(re.search(rf"\b{n}\b", w) for w in warnings))


def _feed(tx, projection, checkpoint: int, batch_size: int, batches: int | None = None,
          bulk: bool = False, reset: bool = False) -> int:  # fmt: skip
    """Apply the log after `checkpoint` (at most `batches` batches) and move the checkpoint."""
    raw = tx.raw
    exists = stored_checkpoint(raw, projection.name) is not None
    if reset:
        write_checkpoint(raw, projection.name, 0, exists)
        exists = True
    session = open_session(projection, raw, bulk=bulk)
    applied, last = 0, checkpoint
    read = tx.store.feed_batches(checkpoint + 1, batch_size, connection=raw.connection)
    for done, batch in enumerate(read, start=1):
        for event in batch:
            session.apply(event)
        session.end_batch()
        applied += len(batch)
        last = batch[-1].position
        if batches is not None and done >= batches:
            break
    session.flush()
    if applied or reset:
        write_checkpoint(raw, projection.name, last, exists)
        mark_checkpoints_moved(raw)
    return applied
