"""`nhiemvu task list` at a city's scale: tasks read in batches and written as they
come, the same output as when the whole list was built first."""

from __future__ import annotations

from datetime import date

import pytest
from nhiemvu_cli import Nhiemvu

import events.sql
from application import loading
from events.database import make_engine

DIRECTIVE = "129/TB-UBND"


@pytest.fixture
def nv(db_url) -> Nhiemvu:
    """Two agencies, one directive, no task yet."""
    nv = Nhiemvu(db_url)
    nv.ok("agency", "add", "SXD", "--name", "Sở Xây dựng", "--kind", "so")
    nv.ok("agency", "add", "STC", "--name", "Sở Tài chính", "--kind", "so")
    nv.ok("directive", "add", DIRECTIVE, "--date", "15/03/2023", "--title", "Kết luận")
    return nv


def assign(nv: Nhiemvu, title: str, *args: str) -> str:
    return nv.json("task", "assign", "--directive", DIRECTIVE, "--title", title, *args)["id"]


def test_iter_tasks_parses_the_facts_with_the_dialect_s_parser(nv, monkeypatch):
    """The facts are read as text and parsed by `Dialect.to_json` (orjson), not by
    SQLAlchemy's JSON type (`json.loads`, and SQLAlchemy's row processing) per task."""
    for title in ("Một", "Hai", "Ba"):
        assign(nv, title, "--lead", "SXD", "--deadline", "31/03/2023")
    parsed = []
    loads = events.sql.loads

    def counted(text):
        parsed.append(text)
        return loads(text)

    monkeypatch.setattr(events.sql, "loads", counted)
    engine = make_engine(nv.db_url)
    try:
        with engine.connect() as connection:
            tasks = list(loading.iter_tasks(connection, as_of=date(2023, 4, 15)))
    finally:
        engine.dispose()
    assert [t.title for t in tasks] == ["Một", "Hai", "Ba"]
    assert len(parsed) == 3
