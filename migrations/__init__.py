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


# The transaction-level advisory lock that serialises schema changes on PostgreSQL:
# several `nhiemvu init` at once on a new database each created the same tables, and
# all but one failed (duplicate key in pg_type). "nhiemvu2" in ASCII, beside the
# scheduler's "nhiemvu1".
SCHEMA_LOCK_KEY = 0x6E6869656D767532


def lock_schema(connection) -> None:
    """Wait, inside the connection's transaction, for any other schema change to commit."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK_KEY})")
