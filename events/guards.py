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
    """The guarding triggers not in force as the migrations made them: dropped; on
    SQLite, made again with another body; on PostgreSQL, disabled or set to fire for
    replication only, or running a function whose body was replaced."""
    dialect = connection.dialect.name
    expected = guards(dialect)
    if dialect == "sqlite":
        rows = connection.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'"
        )
        standing = {name for name, sql in rows if _same(sql, expected.get(name, [""])[-1])}
    else:
        rows = connection.exec_driver_sql(
            "SELECT t.tgname, t.tgenabled, p.prosrc FROM pg_trigger t "
            "JOIN pg_proc p ON p.oid = t.tgfoid "
            "WHERE t.tgrelid = 'events'::regclass AND NOT t.tgisinternal"
        )
        # 'O' and 'A' fire in an ordinary session; 'D' never, 'R' only in a replica's.
        standing = {
            name
            for name, state, body in rows
            if state in ("O", "A") and _same(body, _body(expected.get(name, [""])[0]))
        }
    return [name for name in expected if name not in standing]


def _body(function: str) -> str:
    """The body of a CREATE FUNCTION statement, between its $$ quotes."""
    return function.split("$$")[1] if function.count("$$") >= 2 else ""


def _same(stored: str | None, written: str) -> bool:
    # The same text but for spacing: the database keeps it as the migration wrote it.
    return stored is not None and stored.split() == written.split()


def restore_guards(connection: Connection) -> list[str]:
    """Create or enable the missing guards, in the caller's transaction; their names."""
    missing = missing_guards(connection)
    # On the DB-API cursor, without parameters: the functions' bodies hold '%', which
    # psycopg would take for a placeholder through SQLAlchemy.
    cursor = connection.connection.cursor()
    postgresql = connection.dialect.name == "postgresql"
    for name in missing:
        cursor.execute(f"DROP TRIGGER IF EXISTS {name}" + (" ON events" if postgresql else ""))
        for statement in guards(connection.dialect.name)[name]:
            cursor.execute(statement)
    return missing
