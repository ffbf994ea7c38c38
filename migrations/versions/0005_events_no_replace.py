"""events: no INSERT OR REPLACE on SQLite

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 05:15:00

SQLite resolves `INSERT OR REPLACE` (and `REPLACE`) by deleting the row in the way
— and runs no DELETE trigger for it unless the connection turned
`recursive_triggers` on, which an administrator's `sqlite3` shell does not. So one
such statement could remove an event although the log refuses DELETE. This
trigger refuses any insert whose position or event id is already in the log before
SQLite gets to resolve the conflict. PostgreSQL has no REPLACE: its upsert is an
UPDATE, which the log already refuses.
"""

from collections.abc import Sequence

from alembic import op

from events.schema import NO_REPLACE

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for statement in NO_REPLACE.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS events_no_replace")
