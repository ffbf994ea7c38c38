"""The triggers by which the database itself guards the log, found missing and put back.

The migrations create them; someone with direct access can drop (or, on
PostgreSQL, disable) them, and the log then takes an UPDATE or a DELETE like any
table. `events verify` says so, and `nhiemvu init` puts them back.
"""

from __future__ import annotations

import re

from sqlalchemy.engine import Connection

from .schema import CONTIGUOUS_VERSIONS, IMMUTABLE_EVENTS, NO_REPLACE

_TRIGGER = re.compile(r"CREATE TRIGGER (\w+)")
_RUNS = re.compile(r"EXECUTE FUNCTION (\w+)\(")
_FUNCTION = re.compile(r"CREATE FUNCTION (\w+)\(")


def guards(dialect: str) -> dict[str, list[str]]:
    """Each guarding trigger's name → the statements that create it: on PostgreSQL
    the function it runs first, as CREATE OR REPLACE (it may still be there)."""
    statements = [*IMMUTABLE_EVENTS[dialect], *CONTIGUOUS_VERSIONS[dialect]]
    statements += NO_REPLACE.get(dialect, [])
    functions = {
        match.group(1): statement.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)
        for statement in statements
        if (match := _FUNCTION.search(statement))
    }
    found: dict[str, list[str]] = {}
    for statement in statements:
        if trigger := _TRIGGER.search(statement):
            runs = _RUNS.search(statement)
            found[trigger.group(1)] = [functions[runs.group(1)]] if runs else []
            found[trigger.group(1)].append(statement)
    return found


def missing_guards(connection: Connection) -> list[str]:
    """The guarding triggers not in force: dropped, or disabled on PostgreSQL."""
    dialect = connection.dialect.name
    if dialect == "sqlite":
        rows = connection.exec_driver_sql(
            "SELECT name, 'O' FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'"
        )
    else:
        rows = connection.exec_driver_sql(
            "SELECT tgname, tgenabled FROM pg_trigger "
            "WHERE tgrelid = 'events'::regclass AND NOT tgisinternal"
        )
    enabled = {name for name, state in rows if state != "D"}
    return [name for name in guards(dialect) if name not in enabled]


def restore_guards(connection: Connection) -> list[str]:
    """Create or enable the missing guards, in the caller's transaction; their names."""
    missing = missing_guards(connection)
    # On the DB-API cursor, without parameters: the functions' bodies hold '%', which
    # psycopg would take for a placeholder through SQLAlchemy.
    cursor = connection.connection.cursor()
    for name in missing:
        if connection.dialect.name == "postgresql":
            cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON events")
        for statement in guards(connection.dialect.name)[name]:
            cursor.execute(statement)
    return missing
