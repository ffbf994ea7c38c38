"""The projections a write transaction keeps current.

A projection either keeps a session — in-memory state fed one event at a time
and written out on flush (`open_session(raw, bulk=False)` returning an object
with `apply(event)`, `flush()` and `end_batch()`, called between the batches of
a long feed such as a rebuild; optionally `stream_version(stream_id)` for the
streams whose version it knows, and `writes_blindly = True` when its flush reads
nothing back, which lets PostgreSQL pipeline the last flush with the COMMIT) — or
only has `apply(connection, events)`, in which case the events are handed to it
in one call when the transaction flushes. A projection with sessions may also keep the
session of a committed transaction (`keep_session(session, position)`) and hand
it to the next transaction that finds the log's head still at that position
(`resume_session(raw, position)`, None otherwise): its memory is then the
database's, and nothing needs reading back.

When the transaction takes the log's lock, one statement reads the head and
every projection's checkpoint; a projection behind the head is caught up from
the log there and then, so a command validates against a current projection.
Each checkpoint is written with the projection's output, in the same transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .errors import HeadMissing, HeadOutOfStep

CHECKPOINT_UPDATE = "UPDATE projection_checkpoints SET position = :position WHERE name = :name"
CHECKPOINT_INSERT = "INSERT INTO projection_checkpoints (name, position) VALUES (:name, :position)"


def open_session(projection, raw, bulk: bool = False, current_at: int | None = None):
    """The projection's own session, or events buffered for its `apply`.

    `current_at`: the head position, under the lock, when the projection is known to
    be current there. A projection that kept the session of a transaction which
    committed at that very position (`resume_session`) goes on with it: nothing has
    been written since, so its memory still matches the database.
    """
    if current_at is not None and not bulk and hasattr(projection, "resume_session"):
        session = projection.resume_session(raw, current_at)
        if session is not None:
            return session
    if hasattr(projection, "open_session"):
        return projection.open_session(raw, bulk=bulk)
    return _Buffered(projection, raw.connection)


class _Buffered:
    def __init__(self, projection, connection) -> None:
        self.projection = projection
        self.connection = connection
        self.events: list = []

    def apply(self, event) -> None:
        self.events.append(event)

    def flush(self) -> None:
        if self.events:
            events, self.events = self.events, []
            self.projection.apply(self.connection, events)

    end_batch = flush  # a long feed hands the events over batch by batch


def head_row(raw, columns: str) -> tuple:
    """The log's head row (those columns), or HeadMissing."""
    row = raw.one(f"SELECT {columns} FROM event_log_head WHERE id = 1")
    if row is None:
        raise HeadMissing()
    return row


def stored_checkpoint(raw, name: str) -> int | None:
    """The last position applied (the head's, if the projection follows it); None: no row."""
    row = raw.one(
        "SELECT COALESCE(c.position, h.last_position) FROM projection_checkpoints c, "
        "event_log_head h WHERE c.name = :name AND h.id = 1",
        {"name": name},
    )
    return None if row is None else row[0]


def write_checkpoint(raw, name: str, position: int | None, exists: bool) -> None:
    """Store a checkpoint; None means the projection follows the head (see Feeds)."""
    raw.execute(
        CHECKPOINT_UPDATE if exists else CHECKPOINT_INSERT, {"name": name, "position": position}
    )


_MISSING = object()  # no checkpoint row yet
# The lock statement of each combination of projections (every command builds one).
_LOCK_STATEMENTS: dict[tuple[str, ...], tuple[str, dict[str, str]]] = {}
FOLLOWING = None  # the row's position is NULL: every event of the log is applied


class Feeds:
    """The projections of one transaction, and every projection's checkpoint.

    A projection fed by every transaction that appends is always at the head, so
    its checkpoint says so once (position NULL: it *follows* the head) instead of
    being rewritten by each command — one row, one page fewer per commit. A
    transaction that appends without feeding a following projection writes that
    projection's checkpoint down to the head it found, so the projection knows
    what it missed; one that feeds a projection behind sets it following again.
    """

    def __init__(self, tx, projections) -> None:
        self.tx = tx
        self.projections = list(projections)
        self._sessions: dict[str, Any] = {}
        self._stored: dict[str, Any] = {}  # checkpoint as stored: int, FOLLOWING or _MISSING
        self._seen: dict[str, int] = {}  # the last position each session has been fed
        self._locked_at = 0  # the head position when the lock was taken
        self._others_following = 0  # following projections this transaction does not feed

    def lock(self) -> tuple[int, str, datetime | None]:
        """Lock the head; return (position, hash, recorded_at); catch the projections up."""
        raw = self.tx.raw
        row = self._locked_row(raw)
        position = row[0]
        self._locked_at = position
        self._others_following = row[4]
        for projection, checkpoint in zip(self.projections, row[5:], strict=True):
            name = projection.name
            if checkpoint is None:
                self._stored[name], self._seen[name] = _MISSING, 0
            elif checkpoint < 0:
                self._stored[name], self._seen[name] = FOLLOWING, position
            else:
                self._stored[name], self._seen[name] = checkpoint, checkpoint
            current = self._seen[name] >= position
            session = open_session(projection, raw, current_at=position if current else None)
            self._sessions[name] = session
            if not current:
                self._catch_up(name, session, position)
        return position, row[1], row[2]

    def _locked_row(self, raw) -> tuple:
        """The lock statement's row, the head checked: (position, hash, recorded_at,
        the last event's hash, following projections not fed, *checkpoints)."""
        statement = self._lock_statement(raw)
        row = raw.one_opening_transaction(*statement)
        self.tx.lock_taken()
        if row is None:
            raise HeadMissing()
        if not raw.dialect.sqlite:
            row = self._as_locked(raw, row, statement)
        position = row[0]
        if position and row[3] != row[1]:
            # The last event gone, or the head's hash not its own: the next event would
            # chain on a link the log does not hold.
            raise HeadOutOfStep(position, row[3] is None)
        return (row[0], row[1], raw.dialect.to_instant(row[2]), *row[3:])

    @staticmethod
    def _as_locked(raw, row: tuple, statement: tuple[str, dict[str, str]]) -> tuple:
        """The lock statement's row as of the lock, on PostgreSQL. A statement that
        waited for the head's lock reads the head row as the transaction before it left
        it, but its sub-selects — the checkpoints — as they were when it began (READ
        COMMITTED): after a rebuild, the second of two waiting writers found the head
        moved and the checkpoint not, and applied the first one's event again (a fact
        twice in a task's row, or a unique violation on a document). The last two
        columns are the head row's version (xmin) as locked and as the statement began:
        when they differ, the checkpoints are read again, the lock now held (one round
        trip, only then). Whatever writes a checkpoint without appending updates the
        head row for this (events.projections.mark_checkpoints_moved)."""
        *row, version_locked, version_when_asked = row
        if version_locked != version_when_asked:
            row = list(raw.one(*statement))[:-2]
        return tuple(row)

    def _lock_statement(self, raw) -> tuple[str, dict[str, str]]:
        key = (raw.dialect.name, *(p.name for p in self.projections))
        if key not in _LOCK_STATEMENTS:
            _LOCK_STATEMENTS[key] = self._build_lock_statement(raw)
        return _LOCK_STATEMENTS[key]

    def _checkpoint_columns(self) -> tuple[list[str], dict[str, str]]:
        """The lock statement's columns after the head's: following projections this
        transaction does not feed, then each of its projections' checkpoint."""
        names = {f"p{i}": p.name for i, p in enumerate(self.projections)}
        others = f" AND name NOT IN ({', '.join(':' + k for k in names)})" if names else ""
        columns = [
            f"(SELECT COUNT(*) FROM projection_checkpoints WHERE position IS NULL{others})",
            # Per projection: NULL when it has no row, -1 when it follows the head.
            *(
                f"(SELECT COALESCE(position, -1) FROM projection_checkpoints WHERE name = :{key})"
                for key in names
            ),
        ]
        return columns, names

    def _build_lock_statement(self, raw) -> tuple[str, dict[str, str]]:
        checkpoints, names = self._checkpoint_columns()
        columns = [
            "last_position",
            "last_hash",
            "last_recorded_at",
            # The hash of the event at the head: it must be the head's (one index lookup).
            "(SELECT hash FROM events WHERE position = event_log_head.last_position)",
            *checkpoints,
        ]
        lock = ""  # SQLite: BEGIN IMMEDIATE already holds the write lock
        if not raw.dialect.sqlite:
            # The head row's version as locked, and as the statement began (_as_locked).
            columns += ["xmin::text", "(SELECT xmin::text FROM event_log_head WHERE id = 1)"]
            lock = " FOR UPDATE"
        sql = f"SELECT {', '.join(columns)} FROM event_log_head WHERE id = 1{lock}"
        return sql, names

    def _catch_up(self, name: str, session, position: int) -> None:
        store = self.tx.store
        for batch in store.feed_batches(
            self._seen[name] + 1, to_position=position, connection=self.tx.raw.connection
        ):
            for event in batch:
                session.apply(event)
        self._seen[name] = position

    def session(self, projection):
        self.tx.lock()
        try:
            return self._sessions[projection.name]
        except KeyError:
            raise LookupError(
                f"projection {projection.name!r} is not one of this transaction's"
            ) from None

    def known_version(self, stream_id: str) -> int | None:
        """A stream's version, if a session knows it (it has seen every event)."""
        for session in self._sessions.values():
            known = getattr(session, "stream_version", None)
            version = known(stream_id) if known is not None else None
            if version is not None:
                return version
        return None

    def committed(self, position: int) -> None:
        """The transaction committed with the log's head at `position`: a projection
        that keeps sessions (`keep_session`) may keep this one for the next."""
        for projection in self.projections:
            keep = getattr(projection, "keep_session", None)
            session = self._sessions.get(projection.name)
            if keep is not None and session is not None:
                keep(session, position)

    def writes_blindly(self) -> bool:
        """Whether every session flushes without reading what its statements return
        (`writes_blindly = True`), so the flush can be pipelined."""
        return all(getattr(s, "writes_blindly", False) for s in self._sessions.values())

    def apply(self, events) -> None:
        for name, session in self._sessions.items():
            for event in events:
                session.apply(event)
            self._seen[name] = events[-1].position

    def flush(self) -> None:
        """Write the sessions' state and the checkpoints (after the events are written)."""
        raw = self.tx.raw
        if self._others_following and self.tx.appended:
            names = {f"p{i}": name for i, name in enumerate(self._sessions)}
            others = f" AND name NOT IN ({', '.join(':' + k for k in names)})" if names else ""
            raw.execute(
                "UPDATE projection_checkpoints SET position = :head "
                f"WHERE position IS NULL{others}",
                {"head": self._locked_at, **names},
            )
            self._others_following = 0
        for name, session in self._sessions.items():
            session.flush()
            stored = self._stored[name]
            if stored is FOLLOWING or (stored is _MISSING and not self._seen[name]):
                continue
            write_checkpoint(raw, name, FOLLOWING, exists=stored is not _MISSING)
            self._stored[name] = FOLLOWING
