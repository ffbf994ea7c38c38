"""Alembic migrations of the nhiemvu schema.

HEAD names the revision the code expects; a test checks it is Alembic's single head.
"""

from pathlib import Path

HEAD = "0005"
DIRECTORY = Path(__file__).resolve().parent

# Tables that live in the same database but are not ours to migrate: the
# scheduler's persistent job store (APScheduler defines it, `nhiemvu init` creates it).
FOREIGN_TABLES = {"apscheduler_jobs"}


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """What Alembic's autogenerate compares: all but the foreign tables."""
    return not (type_ == "table" and name in FOREIGN_TABLES)
