"""Checkpointed projections.

A projection's checkpoint is written in the same transaction as its output,
so a crash leaves it either fully applied up to the checkpoint or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .schema import projection_checkpoints
from .store import DEFAULT_BATCH, EventStore, RecordedEvent, StoreTransaction


class Projection(Protocol):
    name: str

    def apply(self, connection: Connection, events: Sequence[RecordedEvent]) -> None:
        """Apply events, in position order, to the projection's tables."""

    def reset(self, connection: Connection) -> None:
        """Empty the projection's tables."""


def get_checkpoint(connection: Connection, name: str) -> int:
    value = connection.execute(
        sa.select(projection_checkpoints.c.position).where(projection_checkpoints.c.name == name)
    ).scalar()
    return value or 0


def set_checkpoint(connection: Connection, name: str, position: int) -> None:
    updated = connection.execute(
        projection_checkpoints.update()
        .where(projection_checkpoints.c.name == name)
        .values(position=position)
    ).rowcount
    if not updated:
        connection.execute(projection_checkpoints.insert().values(name=name, position=position))


def apply_in_transaction(tx: StoreTransaction, projection: Projection) -> None:
    """Bring a projection up to the end of this transaction's appends.

    Called after the appends of a command, inside its transaction: the
    projection first catches up with anything it missed, then applies the new
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
        for batch in tx.store.read_batches(
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
            connection = tx.connection
            checkpoint = get_checkpoint(connection, projection.name)
            batch = next(
                store.read_batches(checkpoint + 1, batch_size, connection=connection), []
            )
            if not batch:
                return applied
            projection.apply(connection, batch)
            set_checkpoint(connection, projection.name, batch[-1].position)
            applied += len(batch)


def rebuild(store: EventStore, projection: Projection, batch_size: int = DEFAULT_BATCH) -> int:
    with store.transaction() as tx:
        tx.lock()
        projection.reset(tx.connection)
        set_checkpoint(tx.connection, projection.name, 0)
    return catch_up(store, projection, batch_size)
