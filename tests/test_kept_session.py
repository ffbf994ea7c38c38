"""The ledger projection's session kept between the transactions of a thread.

A command goes on with the session the previous transaction committed, instead of
reading its tasks back, only while the log's head has not moved. These tests check
the three ways that could go wrong — another writer, a rolled-back transaction, an
unbounded cache — on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from application import projection
from application.app import App
from application.ledger import DeadlineInput
from workflow.dates import LOCAL_TZ
from workflow.errors import DomainError, NotFound

NOW = datetime(2024, 6, 30, 12, 0, tzinfo=LOCAL_TZ)
DUE = DeadlineInput("date", date(2024, 5, 31))


@pytest.fixture
def apps(db_url):
    """Two applications on one database, as two processes of the secretariat would be."""
    first, second = (
        App(db_url, "văn thư 1", now=lambda: NOW),
        App(db_url, "văn thư 2", now=lambda: NOW),
    )
    first.ledger.register_agency("SXD", "Sở Xây dựng", "so")
    first.ledger.register_directive(
        "12/TB-UBND", date(2024, 3, 1), "Thông báo kết luận", None, None
    )
    yield first, second
    first.close()
    second.close()


def assign(ledger, title: str = "Rà soát quy hoạch", leads: tuple[str, ...] = ("SXD",)) -> str:
    return ledger.assign_task(
        "12/TB-UBND", title, list(leads), DUE, assigned_on=date(2024, 3, 4)
    ).key


def current_session(ledger):
    """The session a command would go on with, to look at what it holds in memory
    (its reads need the transaction, which has ended: its cursor is closed)."""
    with ledger.command() as tx:
        return ledger._session(tx)


def event_count(app) -> int:
    return app.store.count()


def test_the_next_command_goes_on_with_the_committed_session(apps):
    first, _ = apps
    task_id = assign(first.ledger)
    session = current_session(first.ledger)
    first.ledger.report_progress(task_id, 40, date(2024, 4, 1), None)
    assert current_session(first.ledger) is session
    assert session.task(task_id).progress_percent == 40


def test_a_write_by_another_application_drops_the_kept_session(apps):
    first, second = apps
    task_id = assign(first.ledger)
    first.ledger.report_progress(task_id, 40, date(2024, 4, 1), None)
    kept = current_session(first.ledger)

    second.ledger.complete(task_id, date(2024, 4, 20), None)

    assert current_session(first.ledger) is not kept
    before = event_count(first)
    with pytest.raises(DomainError, match="hoàn thành"):
        first.ledger.report_progress(task_id, 60, date(2024, 4, 25), None)
    assert event_count(first) == before


def test_a_rolled_back_transaction_leaves_nothing_behind_in_memory(apps):
    first, _ = apps
    assign(first.ledger, "Nhiệm vụ trước")
    with pytest.raises(RuntimeError), first.ledger.batch():
        rolled_back = assign(first.ledger, "Nhiệm vụ bị hủy cùng lô")
        raise RuntimeError("the batch fails after its assignment was applied in memory")
    before = event_count(first)
    with pytest.raises(NotFound):
        first.ledger.report_progress(rolled_back, 10, date(2024, 4, 1), None)
    assert event_count(first) == before
    # The id was never committed, so it is handed out again.
    assert assign(first.ledger, "Nhiệm vụ sau") == rolled_back


def test_the_kept_session_forgets_its_oldest_tasks_beyond_the_bound(apps, monkeypatch):
    first, _ = apps
    monkeypatch.setattr(projection, "KEPT_TASKS", 4)
    ids = [assign(first.ledger, f"Nhiệm vụ {n}") for n in range(10)]
    session = current_session(first.ledger)
    assert len(session.tasks) <= 4
    assert ids[0] not in session.tasks
    # A forgotten task is read back from its row when a command needs it again.
    first.ledger.report_progress(ids[0], 30, date(2024, 4, 1), None)
    assert current_session(first.ledger).task(ids[0]).progress_percent == 30


def test_batches_one_after_another_read_every_agency_once(apps, reads_of):
    """An escalation pass writes in batches, each of which needs the agencies: the
    session the batches go on with reads them once, and still knows an agency
    registered in one of them, while a write by another application makes the next
    batch read them all again (it may have registered one)."""
    first, second = apps
    reads = reads_of(lambda text: text.startswith("SELECT code, facts FROM proj_agencies"))
    with first.ledger.batch():
        first.ledger.register_agency("STC", "Sở Tài chính", "so")
    with first.ledger.batch():
        stc_task = assign(first.ledger, leads=("STC",))
    assert len(reads) == 1

    second.ledger.register_agency("SCT", "Sở Công Thương", "so")
    reads.clear()
    with first.ledger.batch():
        sct_task = assign(first.ledger, leads=("SCT",))
    assert reads == ["SELECT code, facts FROM proj_agencies"]
    with first.ledger.command() as tx:  # the session reads inside a transaction only
        session = first.ledger._session(tx)
        assert session.task(stc_task).leads == ["STC"]
        assert session.task(sct_task).leads == ["SCT"]
