"""`task show` over the bare driver (application.quick): the same answer as the full
path, taken only when the schema and the ledger projection are current, and without
importing SQLAlchemy."""

from __future__ import annotations

import json
from pathlib import Path

from nhiemvu_cli import Nhiemvu, busy_task, report_behind_the_projection, run_alone

from application.quick import QuickReads

REPO = Path(__file__).resolve().parent.parent


def quick_is_taken(db_url: str) -> bool:
    quick = QuickReads.open(db_url)
    if quick is None:
        return False
    quick.close()
    return True


def test_task_show_over_the_driver_equals_the_log_derived_answer(db_url):
    nv = Nhiemvu(db_url)
    task_id = busy_task(nv)
    assert quick_is_taken(db_url)
    for as_of in ("15/04/2023", "15/05/2023", "15/06/2023"):
        quick = nv.json("task", "show", task_id, "--as-of", as_of)
        # --known-at takes the full path and derives the task from its events.
        derived = nv.json("task", "show", task_id, "--as-of", as_of, "--known-at", "01/01/2099")
        assert quick == derived
    assert quick["status"] == "overdue" and quick["deadline"] == "2023-05-31"
    assert quick["progress"] == 40 and len(quick["extensions"]) == 1


def test_an_unknown_task_is_refused_the_same_way(db_url):
    nv = Nhiemvu(db_url)
    task_id = busy_task(nv)
    result = nv.fails("task", "show", "NV-99999")
    assert result.stderr == (
        "Lỗi: Không tìm thấy nhiệm vụ 'NV-99999'. Danh sách nhiệm vụ: `nhiemvu task list`; "
        "giao nhiệm vụ: `nhiemvu task assign`.\n"
    )
    near = nv.fails("task", "show", "NV-0001")
    assert f"Có phải ý bạn là: {task_id}?" in near.stderr  # the ids it knows, as suggestions
    assert "task list" not in near.stderr  # a suggestion is hint enough


def test_a_projection_behind_the_log_sends_task_show_down_the_full_path(db_url):
    nv = Nhiemvu(db_url)
    task_id = busy_task(nv)
    report_behind_the_projection(db_url, task_id)
    assert not quick_is_taken(db_url)
    shown = nv.json("task", "show", task_id, "--as-of", "30/04/2023")
    assert shown["progress"] == 70  # the full path caught the projection up first
    assert quick_is_taken(db_url)
    assert nv.json("task", "show", task_id, "--as-of", "30/04/2023") == shown


def test_a_database_not_initialised_is_left_to_the_full_path(empty_db_url):
    assert not quick_is_taken(empty_db_url)
    result = Nhiemvu(empty_db_url).run("task", "show", "NV-00001")
    assert result.exit_code == 1 and "nhiemvu init" in result.stderr


def test_task_show_does_not_import_sqlalchemy(db_url):
    nv = Nhiemvu(db_url)
    task_id = busy_task(nv)
    shown, imported_sqlalchemy = run_alone("--db", db_url, "task", "show", task_id, "--json")
    assert json.loads(shown)["id"] == task_id
    assert not imported_sqlalchemy
    assert nv.event_count() == 5  # a read: nothing was written
