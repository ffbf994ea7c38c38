"""Write commands over the bare driver (App.quick, events.driver.DriverEngine): the
ledger's own code on a DB-API connection, without importing SQLAlchemy; a command
that needs SQLAlchemy after all runs again on the full path, having written nothing;
a database that is not ready is left to the full path."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from nhiemvu_cli import Nhiemvu, busy_task, report_behind_the_projection, run_alone
from projection_rows import snapshot

from application import loading
from application.app import App
from events import driver
from events.database import make_engine
from events.projections import rebuild
from events.registry import EventRegistry
from events.sql import Raw
from events.store import EventStore, NewEvent
from events.verify import verify_chain

REPO = Path(__file__).resolve().parent.parent


def test_task_progress_does_not_import_sqlalchemy(db_url):
    nv = Nhiemvu(db_url)
    task_id = busy_task(nv)
    before = nv.event_count()
    printed, imported_sqlalchemy = run_alone(
        "--db", db_url, "--actor", "tester", "task", "progress", task_id,
        "--percent", "75", "--on", "2023-05-02", "--note", "Đã trình",
    )  # fmt: skip
    done, event_line = printed.strip().splitlines()
    assert done == f"Đã ghi tiến độ 75% cho {task_id}."
    event_id = event_line.removeprefix("Mã sự kiện (để rút lại nếu ghi nhầm): ")
    assert nv.event(event_id).type == "task.progress_reported"
    assert not imported_sqlalchemy
    assert nv.event_count() == before + 1
    shown = nv.json("task", "show", task_id, "--as-of", "03/05/2023")
    assert (shown["progress"], shown["progress_note"]) == (75, "Đã trình")


def test_quick_writes_leave_the_log_and_projection_a_rebuild_would(db_url):
    nv = Nhiemvu(db_url)
    task_id = busy_task(nv)  # every command of it through App.quick
    nv.ok("task", "complete", task_id, "--on", "20/05/2023", "--doc", "55/BC-SXD")
    nv.ok("reprimand", "issue", "--kind", "nhac-nho", "--doc", "12/UBND-NC", "--on", "22/05/2023",
          "--agency", "SXD", "--reason", "Chậm tiến độ", "--task", task_id)  # fmt: skip
    nv.fails("task", "complete", task_id, "--on", "21/05/2023")  # a second completion
    nv.fails("task", "progress", task_id, "--percent", "140", "--on", "21/05/2023")
    engine = make_engine(db_url)
    try:
        assert verify_chain(engine).ok
        incremental = snapshot(engine)
        app = App(db_url, "tester")
        try:
            rebuild(app.store, app.ledger.projection)
        finally:
            app.close()
        assert snapshot(engine) == incremental
    finally:
        engine.dispose()


def merged_on_whichever_path(db_url, monkeypatch) -> list[str]:
    """SXD merged into SKHDT, its open task moved along: what was asked of the bare
    driver's connection that only SQLAlchemy's has."""
    nv = Nhiemvu(db_url)
    task_id = busy_task(nv)
    nv.ok("agency", "add", "SKHDT", "--name", "Sở Kế hoạch và Đầu tư", "--kind", "so")
    asked = []
    original = driver.DriverConnection.__getattr__

    def spying(self, name):
        asked.append(name)
        return original(self, name)

    monkeypatch.setattr(driver.DriverConnection, "__getattr__", spying)
    before = nv.event_count()
    nv.ok("agency", "dissolve", "SXD", "--on", "01/06/2023", "--reason", "Sáp nhập",
          "--into", "SKHDT")  # fmt: skip
    assert nv.event_count() == before + 2  # the merger, and the open task reassigned
    shown = nv.json("task", "show", task_id, "--as-of", "02/06/2023")
    assert shown["leads"] == ["SKHDT"]
    return asked


def test_a_command_that_needs_sqlalchemy_runs_again_on_the_full_path(db_url, monkeypatch):
    # A read through SQLAlchemy in the middle of the merger (as its read of the
    # agency's tasks was): the quick attempt stops there, rolls back, and the command
    # runs again on the full path — once.
    iter_tasks = loading.iter_tasks

    def through_sqlalchemy(connection, *args, **kwargs):
        connection.execute(sa.text("SELECT 1"))
        return iter_tasks(connection, *args, **kwargs)

    monkeypatch.setattr(loading, "iter_tasks", through_sqlalchemy)
    assert "execute" in merged_on_whichever_path(db_url, monkeypatch)


def test_a_merger_reads_the_agency_s_tasks_on_the_bare_driver(db_url, monkeypatch):
    """loading.iter_tasks reads through `Raw`, which the bare driver runs."""
    assert "execute" not in merged_on_whichever_path(db_url, monkeypatch)


def test_an_unknown_task_is_named_with_suggestions_through_the_fallback(db_url):
    nv = Nhiemvu(db_url)
    task_id = busy_task(nv)
    result = nv.fails("task", "progress", task_id[:-1], "--percent", "50", "--on", "01/05/2023")
    assert f"Có phải ý bạn là: {task_id}?" in result.stderr


def test_a_projection_behind_the_log_is_left_to_the_full_path(db_url):
    nv = Nhiemvu(db_url)
    task_id = busy_task(nv)
    report_behind_the_projection(db_url, task_id)
    assert App.quick(db_url, "tester") is None
    nv.ok("task", "progress", task_id, "--percent", "80", "--on", "02/05/2023")
    quick = App.quick(db_url, "tester")  # caught up by the full path: ready again
    assert quick is not None
    quick.close()
    # The projection has the event written behind its back and the command's.
    assert nv.json("task", "show", task_id, "--as-of", "30/04/2023")["progress"] == 70
    assert nv.json("task", "show", task_id, "--as-of", "03/05/2023")["progress"] == 80


def test_a_database_not_initialised_is_reported_by_the_full_path(empty_db_url):
    assert App.quick(empty_db_url, "tester") is None
    result = Nhiemvu(empty_db_url).run("task", "progress", "NV-00001", "--percent", "5",
                                       "--on", "01/05/2023")  # fmt: skip
    assert result.exit_code == 1 and "nhiemvu init" in result.stderr


def test_a_read_through_the_driver_inside_a_write_transaction_leaves_it_whole(db_url):
    """One DB-API connection serves every use of a DriverEngine: a read that opens and
    closes its own use while a write transaction is under way must not end it."""
    engine = driver.DriverEngine.open(db_url)
    registry = EventRegistry()
    registry.register("task.noted")
    store = EventStore(engine, registry)
    try:
        with store.transaction() as tx:
            tx.append(
                "task:1", [NewEvent("task.noted", {"n": 1}, datetime(2023, 1, 2, tzinfo=UTC))]
            )
            tx.flush()
            assert store.head_position() == 1  # its own use of the connection, closed
            tx.append(
                "task:1", [NewEvent("task.noted", {"n": 2}, datetime(2023, 1, 3, tzinfo=UTC))]
            )
        assert store.count() == 2
        with store.engine.connect() as connection:
            assert Raw(connection).one("SELECT COUNT(*) FROM events")[0] == 2
    finally:
        store.close()
        engine.dispose()
