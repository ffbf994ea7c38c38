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
    decoded), keyed by table, column and the row's primary key."""
    texts = {}
    with engine.connect() as connection:
        for table in t.PROJECTION_TABLES:
            columns = [c.name for c in table.c if isinstance(c.type, sa.JSON)]
            if not columns:
                continue
            key = " || '/' || ".join(f"CAST({c.name} AS text)" for c in table.primary_key)
            shown = ", ".join(f"CAST({name} AS text)" for name in columns)
            for row in connection.exec_driver_sql(f"SELECT {key}, {shown} FROM {table.name}"):
                for name, text in zip(columns, row[1:], strict=True):
                    texts[table.name, name, row[0]] = text
    return texts
