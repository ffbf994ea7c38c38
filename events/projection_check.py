"""Check a projection's tables against a rebuild from the log, changing nothing.

The log is guarded by its triggers and its hash chain (events.verify); a projection
is derived state, which anyone with access to the database can edit. Whatever reads
it — reports, ratings, a rating sealed into an event — would then count what the log
does not say. `verify_projection` holds the log's write lock, reads a digest of
every row, rebuilds the projection in the same transaction, compares, and rolls
back: nobody can write meanwhile, and the rows stay as they were, tampered or not.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import sqlalchemy as sa

from .database import file_unmapped
from .feeds import stored_checkpoint
from .memory import collector_paused
from .projections import REBUILD_BATCH, Projection, rebuild_in, vacuum_rewritten
from .rebuild_workers import worker_count
from .schema import metadata
from .sql import Raw
from .store import EventStore

# Rows named per table and kind of difference; the rest are counted.
LISTED = 5
# Rows read at a time: a task row carries its facts, a few KB.
READ_BATCH = 2_000


@dataclass
class TableCheck:
    """One table: its rows as rebuilt, and the keys of those that differ — `missing`
    from the table though a rebuild writes them, `extra` in it though a rebuild does
    not write them, `different` from what a rebuild writes (with the columns that
    are). Each list holds at most LISTED keys; the counts are of all of them."""

    table: str
    key_columns: list[str]
    rows: int = 0
    missing: list[tuple] = field(default_factory=list)
    extra: list[tuple] = field(default_factory=list)
    different: list[tuple[tuple, list[str]]] = field(default_factory=list)
    missing_count: int = 0
    extra_count: int = 0
    different_count: int = 0

    @property
    def ok(self) -> bool:
        return not (self.missing_count or self.extra_count or self.different_count)


@dataclass(frozen=True)
class ProjectionCheck:
    """`checkpoint`: the position the projection says it has applied, as stored (the
    head's when it follows the head; None: no checkpoint row), `head` the log's."""

    projection: str
    head: int
    checkpoint: int | None
    tables: list[TableCheck]

    @property
    def checkpoint_at_head(self) -> bool:
        return self.checkpoint == self.head or (self.checkpoint is None and self.head == 0)

    @property
    def ok(self) -> bool:
        return self.checkpoint_at_head and all(t.ok for t in self.tables)


class _Discard(Exception):
    """Raised to roll back the check's transaction, whose rebuild must not stay."""


def verify_projection(
    store: EventStore,
    projection: Projection,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> ProjectionCheck:
    """Compare every table of `projection` (its `table_names()`) with what a rebuild
    from the log writes, row by row by primary key, and say what differs.

    One write transaction, rolled back at the end: the stored rows are digested, the
    projection is rebuilt there (`workers` as for `rebuild`: they fold ranges of the
    log, committed and locked, and this process writes what they return) inside a
    savepoint, its rows are digested and compared, the rebuilt values of the rows
    that differ are kept, and, back at the savepoint, their stored values are read
    to name the columns that differ. It costs about one rebuild (its VACUUM on
    PostgreSQL included), plus reading the tables twice; memory holds every row's key
    and digest while the projection is rebuilt, not the rows.
    `progress` gets the rows read, a batch at a time (see `rows_to_read`)."""
    tables = [metadata.tables[name] for name in projection.table_names()]
    try:
        with store.transaction() as tx:
            raw = tx.raw
            head = tx.lock().position
            checkpoint = stored_checkpoint(raw, projection.name)
            stored = [_digests(raw, table, progress) for table in tables]
            savepoint = raw.connection.begin_nested()
            with collector_paused(), file_unmapped(raw):
                rebuild_in(tx, projection, REBUILD_BATCH, worker_count(workers))
            checks, rebuilt = [], []
            for table, digests in zip(tables, stored, strict=True):
                check, values = _compare(raw, table, digests, progress)
                checks.append(check)
                rebuilt.append(values)
            savepoint.rollback()
            for table, check, values in zip(tables, checks, rebuilt, strict=True):
                _name_columns(raw, table, check, values)
            raise _Discard(ProjectionCheck(projection.name, head, checkpoint, checks))
    except _Discard as done:
        result = done.args[0]
    # The rolled-back rows stay in PostgreSQL's tables as dead versions, as many as
    # a rebuild leaves, until a vacuum: each check would grow them by the projection.
    vacuum_rewritten(store, projection)
    return result


def rows_to_read(store: EventStore, projection: Projection) -> int:
    """The rows `verify_projection` reads, about: the tables' rows, twice (a rebuild
    of a projection that matches writes as many) — the length of a progress bar."""
    with store.engine.connect() as connection:
        return 2 * sum(
            connection.execute(
                sa.select(sa.func.count()).select_from(metadata.tables[name])
            ).scalar_one()
            for name in projection.table_names()
        )


def _select(raw: Raw, table: sa.Table, where: str = "") -> tuple[str, int]:
    """The table's rows, primary key first, in a form that tells stored values apart:
    as the driver returns them, except JSON on PostgreSQL, read as its text (psycopg
    would parse it, and the text is what the rows hold). On SQLite a value is read in
    its storage class — text and bytes, an integer and its text differ — as SQL
    compares it so. Returns the statement and the number of key columns."""
    keys = [c.name for c in table.primary_key]
    others = [c.name for c in table.c if c.name not in keys]
    sqlite = raw.dialect.sqlite

    def read(name: str) -> str:
        if not sqlite and isinstance(table.c[name].type, sa.JSON):
            return f"CAST({name} AS text)"
        return name

    columns = ", ".join(read(name) for name in [*keys, *others])
    return f"SELECT {columns} FROM {table.name}{where}", len(keys)


def _rows(raw: Raw, table: sa.Table, progress) -> Iterator[tuple[tuple, bytes, tuple]]:
    """(key, digest, values) of every row of the table."""
    sql, width = _select(raw, table)
    for batch in raw.stream(sql, {}, READ_BATCH):
        for row in batch:
            yield tuple(row[:width]), _digest(row), row
        if progress is not None:
            progress(len(batch))


def _digest(row) -> bytes:
    # repr tells apart every value the drivers return (str, bytes, int, float, date,
    # None), and the two sides of a comparison are read alike in one process.
    return hashlib.blake2b(repr(tuple(row)).encode(), digest_size=16).digest()


def _digests(raw: Raw, table: sa.Table, progress) -> dict[tuple, bytes]:
    return {key: digest for key, digest, _ in _rows(raw, table, progress)}


def _compare(raw: Raw, table: sa.Table, stored: dict[tuple, bytes], progress):
    """The table as rebuilt against the digests of its stored rows (emptied as they
    are matched); also the rebuilt values of the listed rows that differ."""
    check = TableCheck(table.name, [c.name for c in table.primary_key])
    values: dict[tuple, tuple] = {}
    for key, digest, row in _rows(raw, table, progress):
        check.rows += 1
        was = stored.pop(key, None)
        if was is None:
            check.missing_count += 1
            if len(check.missing) < LISTED:
                check.missing.append(key)
        elif was != digest:
            check.different_count += 1
            if len(values) < LISTED:
                values[key] = row
    check.extra_count = len(stored)
    check.extra = sorted(stored, key=repr)[:LISTED]
    check.missing.sort(key=repr)
    return check, values


def _name_columns(raw: Raw, table: sa.Table, check: TableCheck, rebuilt: dict) -> None:
    """Name the columns of each listed different row whose stored value differs from
    the rebuilt one (read back at the savepoint, the lock still held)."""
    if not rebuilt:
        return
    keys = check.key_columns
    names = [*keys, *(c.name for c in table.c if c.name not in keys)]
    for key, values in sorted(rebuilt.items(), key=lambda item: repr(item[0])):
        params = {f"k{i}": value for i, value in enumerate(key)}
        where = " WHERE " + " AND ".join(f"{name} = :k{i}" for i, name in enumerate(keys))
        stored = raw.one(_select(raw, table, where)[0], params)
        columns = [
            name
            for name, was, now in zip(names, stored or (), values, strict=False)
            if repr(was) != repr(now)
        ]
        check.different.append((key, columns))
