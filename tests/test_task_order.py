"""Task ids in the order people read them wherever tasks are listed: NV-99949 before
NV-100000, though as text "NV-100000" sorts first (a city passes 99,999 tasks in its
sixth year or so)."""

from __future__ import annotations

from datetime import date

import pytest
from nhiemvu_cli import Nhiemvu

from application import html_report, loading
from application.letters import overdue_by_agency
from events.database import make_engine
from workflow.text import id_order

DIRECTIVE = "129/TB-UBND"
# Recorded in this order, so that neither the order of recording nor that of the ids
# as text gives the order people read.
IDS = ("NV-100000", "NV-99949")
READ = ["NV-99949", "NV-100000"]


def test_the_number_in_an_id_orders_it():
    assert sorted(["NV-100000", "NV-99949", "NV-00002", "NV-100001"], key=id_order) == [
        "NV-00002",
        "NV-99949",
        "NV-100000",
        "NV-100001",
    ]


@pytest.fixture
def nv(db_url) -> Nhiemvu:
    """Two overdue tasks of SXD, alike but for their ids, both assigned on 15/03/2023."""
    nv = Nhiemvu(db_url)
    nv.ok("agency", "add", "SXD", "--name", "Sở Xây dựng", "--kind", "so")
    nv.ok("agency", "add", "STC", "--name", "Sở Tài chính", "--kind", "so")
    nv.ok("directive", "add", DIRECTIVE, "--date", "15/03/2023", "--title", "Kết luận")
    for task_id in IDS:
        nv.ok(
            "task", "assign", "--directive", DIRECTIVE, "--title", "Rà soát", "--lead", "SXD",
            "--deadline", "31/03/2023", "--id", task_id,
        )  # fmt: skip
    return nv


def test_task_list_orders_the_ids_of_a_day_by_their_number(nv):
    assert [r["id"] for r in nv.json("task", "list", "--as-of", "15/04/2023")] == READ
    overdue = nv.json("task", "list", "--as-of", "15/04/2023", "--status", "overdue")
    assert [r["id"] for r in overdue] == READ
    table = nv.ok("task", "list", "--as-of", "15/04/2023").stdout
    assert table.index("NV-99949") < table.index("NV-100000")


def test_escalation_steps_of_a_day_come_in_the_order_of_their_tasks(nv):
    steps = nv.json("escalate", "--as-of", "15/04/2023", "--dry-run")
    assert steps and [s["task"] for s in steps] == [t for s in steps[::2] for t in READ]


def test_letters_and_the_html_overdue_table_list_tasks_by_their_number(nv):
    engine = make_engine(nv.db_url)
    try:
        with engine.connect() as connection:
            letters = overdue_by_agency(connection, date(2023, 4, 15))
            states = loading.task_states(connection, date(2023, 4, 15))
            table = html_report.overdue_tasks(connection, states, date(2023, 4, 15), {})
    finally:
        engine.dispose()
    assert [t.id for t in letters["SXD"]] == READ
    assert [r["id"] for r in table] == READ


def test_a_score_explains_its_tasks_in_the_order_of_their_ids(nv):
    (row,) = nv.json("score", "--quarter", "2023Q2", "--agency", "SXD", "--as-of", "15/04/2023")
    assert any(
        "NV-99949 (hạn 31/03/2023, chuyển từ trước kỳ); NV-100000" in line
        for line in row["explanation"]
    )


def test_refusals_name_the_tasks_in_the_order_of_their_ids(nv):
    kept = nv.fails("correct", DIRECTIVE, "--reason", "Ghi nhầm")
    assert "(NV-99949, NV-100000)" in kept.stderr
    open_tasks = nv.fails("agency", "dissolve", "SXD", "--on", "01/06/2023", "--reason", "x")
    assert "(NV-99949, NV-100000)" in open_tasks.stderr
