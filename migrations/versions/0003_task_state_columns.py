"""task state columns, counters, escalation passes

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 08:00:00

The log loses its two indexes on time and, on SQLite, its position becomes the
table's rowid, and a trigger refuses a row that is not its stream's next
version (see events.schema). `proj_tasks` gains
the task's state as columns (deadlines, completion,
cancellation, current leads, stream version…), so that ratings, reports and the
escalation pass select their tasks in SQL instead of deriving every task from its
facts. Projections are derived data: the ledger projection is emptied and its
checkpoint removed, and `nhiemvu init` (or the first use of the ledger) rebuilds
it from the log, which this migration does not touch. A checkpoint may now be
NULL: the projection follows the head (see events.feeds).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from events.schema import (
    CONTIGUOUS_VERSIONS,
    DROP_CONTIGUOUS_VERSIONS,
    IMMUTABLE_EVENTS,
    UTCDateTime,
)

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEDGER_TABLES = (
    "proj_task_leads",
    "proj_agencies",
    "proj_directives",
    "proj_documents",
    "proj_assessments",
    "proj_ratings",
)


def _forget_ledger_projection() -> None:
    for table in LEDGER_TABLES:
        op.execute(sa.text(f"DELETE FROM {table}"))
    op.execute(sa.text("DELETE FROM projection_checkpoints WHERE name = 'ledger'"))


def _rebuild_sqlite_events(position_type) -> None:
    """Copy the log into a table whose `position` has the given type (SQLite cannot
    alter a column). Dropping the old table drops its triggers: they are made again."""
    op.create_table(
        "events_new",
        sa.Column("position", position_type, autoincrement=False, nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("stream_id", sa.String(length=200), nullable=False),
        sa.Column("stream_version", sa.Integer(), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("causation_id", sa.String(length=36), nullable=True),
        sa.Column("correlation_id", sa.String(length=36), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("position", name="pk_events"),
        sa.UniqueConstraint("event_id", name="uq_events_event_id"),
        sa.UniqueConstraint(
            "stream_id", "stream_version", name="uq_events_stream_id_stream_version"
        ),
    )
    op.execute(sa.text("INSERT INTO events_new SELECT * FROM events ORDER BY position"))
    op.execute(sa.text("DROP TABLE events"))
    op.rename_table("events_new", "events")
    for statement in IMMUTABLE_EVENTS["sqlite"]:
        op.execute(statement)


def _dialect() -> str:
    return op.get_bind().dialect.name


def upgrade() -> None:
    # Recording time follows the position; business dates are read by stream.
    op.drop_index("ix_events_occurred_at", table_name="events")
    op.drop_index("ix_events_recorded_at", table_name="events")
    if _dialect() == "sqlite":
        _rebuild_sqlite_events(sa.Integer())
    for statement in CONTIGUOUS_VERSIONS[_dialect()]:
        op.execute(statement)
    op.drop_index("ix_proj_tasks_directive", table_name="proj_tasks")
    op.drop_table("proj_tasks")
    op.create_table(
        "proj_tasks",
        sa.Column("task_id", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("directive", sa.String(length=100), nullable=False),
        sa.Column("assigned_on", sa.Date(), nullable=False),
        sa.Column("leads", sa.JSON(), nullable=False),
        sa.Column("original_deadline", sa.Date(), nullable=True),
        sa.Column("effective_deadline", sa.Date(), nullable=True),
        sa.Column("current_deadline", sa.Date(), nullable=True),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("cancelled_on", sa.Date(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("last_fact_on", sa.Date(), nullable=False),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("last_position", sa.BigInteger(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("task_id", name=op.f("pk_proj_tasks")),
    )
    op.create_index("ix_proj_tasks_directive", "proj_tasks", ["directive"])
    op.create_index("ix_proj_tasks_closed_on", "proj_tasks", ["closed_on"])
    op.create_index("ix_proj_tasks_current_deadline", "proj_tasks", ["current_deadline"])
    op.create_table(
        "proj_counters",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_proj_counters")),
    )
    op.create_table(
        "proj_escalation_passes",
        sa.Column("ladder", sa.String(length=64), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("through_position", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("ladder", name=op.f("pk_proj_escalation_passes")),
    )
    with op.batch_alter_table("projection_checkpoints") as batch:
        batch.alter_column("position", existing_type=sa.BigInteger(), nullable=True)
    _forget_ledger_projection()


def downgrade() -> None:
    op.execute(
        sa.text(
            "UPDATE projection_checkpoints SET position = "
            "(SELECT last_position FROM event_log_head WHERE id = 1) WHERE position IS NULL"
        )
    )
    with op.batch_alter_table("projection_checkpoints") as batch:
        batch.alter_column("position", existing_type=sa.BigInteger(), nullable=False)
    op.drop_table("proj_escalation_passes")
    op.drop_table("proj_counters")
    op.drop_index("ix_proj_tasks_current_deadline", table_name="proj_tasks")
    op.drop_index("ix_proj_tasks_closed_on", table_name="proj_tasks")
    op.drop_index("ix_proj_tasks_directive", table_name="proj_tasks")
    op.drop_table("proj_tasks")
    op.create_table(
        "proj_tasks",
        sa.Column("task_id", sa.String(length=100), nullable=False),
        sa.Column("directive", sa.String(length=100), nullable=False),
        sa.Column("assigned_on", sa.Date(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("task_id", name=op.f("pk_proj_tasks")),
    )
    op.create_index("ix_proj_tasks_directive", "proj_tasks", ["directive"])
    for statement in DROP_CONTIGUOUS_VERSIONS[_dialect()]:
        op.execute(statement)
    if _dialect() == "sqlite":
        _rebuild_sqlite_events(sa.BigInteger())
    op.create_index("ix_events_recorded_at", "events", ["recorded_at"])
    op.create_index("ix_events_occurred_at", "events", ["occurred_at"])
    _forget_ledger_projection()
