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


def facts_texts(engine) -> dict[str, str]:
    """Each task row's facts as the database holds the text (not decoded)."""
    column = "facts" if engine.dialect.name == "sqlite" else "CAST(facts AS text)"
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(f"SELECT task_id, {column} FROM proj_tasks")
        return dict(rows.all())
