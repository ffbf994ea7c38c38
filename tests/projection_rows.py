"""Every projection row of a database, comparable across rebuilds (tests' helper)."""

from __future__ import annotations

import json

import sqlalchemy as sa

from application import tables as t


def snapshot(engine) -> dict[str, list[str]]:
    """Every projection row as canonical JSON (keys sorted, dates as text), rows sorted."""
    with engine.connect() as connection:
        return {
            table.name: sorted(
                json.dumps(dict(row), sort_keys=True, default=str, ensure_ascii=False)
                for row in connection.execute(sa.select(table)).mappings()
            )
            for table in t.PROJECTION_TABLES
        }


def json_texts(engine) -> dict[tuple[str, str, str], str]:
    """Every JSON value of every projection row as the database holds the text (not
    decoded), keyed by table, column and the row's primary key. On SQLite a value
    not stored as text (a BLOB of the same bytes, which SQLAlchemy would decode all
    the same) is shown with its storage class. SQL NULLs are left out."""
    texts = {}
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        for table in t.PROJECTION_TABLES:
            columns = [c.name for c in table.c if isinstance(c.type, sa.JSON)]
            if not columns:
                continue
            key = " || '/' || ".join(f"CAST({c.name} AS text)" for c in table.primary_key)
            shown = ", ".join(
                f"CAST({name} AS text)" + (f", typeof({name})" if sqlite else ", 'text'")
                for name in columns
            )
            for row in connection.exec_driver_sql(f"SELECT {key}, {shown} FROM {table.name}"):
                for n, name in enumerate(columns):
                    text, stored_as = row[1 + 2 * n], row[2 + 2 * n]
                    if text is None:
                        continue
                    texts[table.name, name, row[0]] = (
                        text if stored_as in ("text", "null") else f"<{stored_as}> {text}"
                    )
    return texts
