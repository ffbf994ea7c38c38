"""`task show` over the bare driver (application.quick): the same answer as the full
path, taken only when the schema and the ledger projection are current, and without
importing SQLAlchemy."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from nhiemvu_cli import Nhiemvu

from application.quick import QuickReads
from events.catalog import REGISTRY
from events.database import make_engine
from events.store import EventStore, NewEvent

REPO = Path(__file__).resolve().parent.parent


def busy_task(nv: Nhiemvu) -> str:
    nv.ok("agency", "add", "SXD", "--name", "Sở Xây dựng", "--kind", "so")
    nv.ok("directive", "add", "129/TB-UBND", "--date", "15/03/2023", "--title", "Kết luận")
    task_id = nv.json(
        "task", "assign", "--directive", "129/TB-UBND", "--title", "Rà soát quy hoạch",
        "--lead", "SXD", "--assigned-on", "16/03/2023", "--deadline", "30/04/2023",
    )["id"]  # fmt: skip
    nv.ok("task", "progress", task_id, "--percent", "40", "--on", "10/04/2023")
    nv.ok(
        "task", "extend", task_id, "--to", "31/05/2023", "--on", "20/04/2023",
        "--reason", "Chờ số liệu",
    )  # fmt: skip
    return task_id


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
    assert result.stderr == "Lỗi: Không tìm thấy nhiệm vụ 'NV-99999'.\n"
    near = nv.fails("task", "show", "NV-0001")
    assert f"Có phải ý bạn là: {task_id}?" in near.stderr  # the ids it knows, as suggestions


def test_a_projection_behind_the_log_sends_task_show_down_the_full_path(db_url):
    nv = Nhiemvu(db_url)
    task_id = busy_task(nv)
    engine = make_engine(db_url)
    try:
        # Written without the ledger projection: it no longer has every event.
        EventStore(engine, REGISTRY).append(
            f"task:{task_id}",
            [
                NewEvent(
                    "task.progress_reported",
                    {"on": "2023-04-25", "percent": 70, "note": "Đã trình"},
                    datetime(2023, 4, 25, 3, tzinfo=UTC),
                )
            ],
        )
        assert not quick_is_taken(db_url)
        shown = nv.json("task", "show", task_id, "--as-of", "30/04/2023")
        assert shown["progress"] == 70  # the full path caught the projection up first
        assert quick_is_taken(db_url)
        assert nv.json("task", "show", task_id, "--as-of", "30/04/2023") == shown
    finally:
        engine.dispose()


def test_a_database_not_initialised_is_left_to_the_full_path(empty_db_url):
    assert not quick_is_taken(empty_db_url)
    result = Nhiemvu(empty_db_url).run("task", "show", "NV-00001")
    assert result.exit_code == 1 and "nhiemvu init" in result.stderr


def test_task_show_does_not_import_sqlalchemy(db_url):
    task_id = busy_task(Nhiemvu(db_url))
    script = (
        "import runpy, sys\n"
        f"sys.argv = ['nhiemvu', '--db', {db_url!r}, 'task', 'show', {task_id!r}, '--json']\n"
        "try:\n    runpy.run_module('cli', run_name='__main__')\n"
        "except SystemExit as exit:\n    assert not exit.code, exit.code\n"
        "print('SQLALCHEMY' if 'sqlalchemy' in sys.modules else 'LEAN', file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout)["id"] == task_id
    assert done.stderr.strip().endswith("LEAN"), done.stderr
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:  # a read: nothing was written
            assert connection.execute(sa.text("SELECT count(*) FROM events")).scalar() == 5
    finally:
        engine.dispose()
