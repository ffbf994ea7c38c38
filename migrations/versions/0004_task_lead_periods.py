"""task lead periods

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 03:00:00

`proj_tasks` gains `lead_periods`: when a task's leads changed (a reassignment, a
merger), who led it from which day — NULL for a task never reassigned. A rating
gives each outcome to the agency that led the task on its decisive date, not to
whoever leads it at the cut-off. Projections are derived data: the ledger
projection is emptied and its checkpoint removed, and `nhiemvu init` (or the first
use of the ledger) rebuilds it from the log, which this migration does not touch.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The ledger projection's tables as of this revision.
LEDGER_TABLES = (
    "proj_tasks",
    "proj_task_leads",
    "proj_agencies",
    "proj_directives",
    "proj_documents",
    "proj_assessments",
    "proj_ratings",
    "proj_counters",
    "proj_escalation_passes",
)


def _forget_ledger_projection() -> None:
    for table in LEDGER_TABLES:
        op.execute(sa.text(f"DELETE FROM {table}"))
    op.execute(sa.text("DELETE FROM projection_checkpoints WHERE name = 'ledger'"))


def upgrade() -> None:
    op.add_column(
        "proj_tasks", sa.Column("lead_periods", sa.JSON(none_as_null=True), nullable=True)
    )
    _forget_ledger_projection()


def downgrade() -> None:
    with op.batch_alter_table("proj_tasks") as batch:
        batch.drop_column("lead_periods")
    _forget_ledger_projection()
