"""Bulk writes of the projection — COPY on PostgreSQL past `COPY_ROWS` rows, the
write-through rows of a rebuild held back and written together — leave the same rows
as commands writing one row at a time. On SQLite and PostgreSQL alike."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from datetime import date, datetime
from types import SimpleNamespace

import pytest
from projection_rows import snapshot

from application import projection
from application.app import App
from application.ledger import DeadlineInput
from events.migrate import upgrade
from events.projections import rebuild
from events.rebuild_workers import WorkerFailed
from events.sql import COPY_ROWS, Raw
from events.stream_ranges import stream_ranges
from workflow.dates import LOCAL_TZ
from workflow.documents import Addressees

NOW = datetime(2024, 6, 30, 12, 0, tzinfo=LOCAL_TZ)


def test_rows_written_in_bulk_equal_rows_written_one_by_one(db_url):
    app = App(db_url, "văn thư", now=lambda: NOW)
    ledger = app.ledger
    count = COPY_ROWS + 10
    try:
        for code, name in (("SXD", "Sở Xây dựng"), ("STC", "Sở Tài chính")):
            ledger.register_agency(code, name, "so")
            ledger.appoint_head(code, f"Giám đốc {name}", date(2020, 1, 1))
        # One command per transaction: every row inserted or updated on its own.
        ids = []
        for n in range(count):
            ledger.register_directive(f"{n}/TB-UBND", date(2024, 1, 2), f"Kết luận {n}", None, None)
            ids.append(
                ledger.assign_task(
                    f"{n}/TB-UBND",
                    f'Nhiệm vụ "{n}"\tcó ký tự\\đặc biệt',
                    ["SXD"] if n % 2 else ["SXD", "STC"],
                    DeadlineInput("date", date(2024, 3, 1)) if n % 3 else DeadlineInput("none"),
                    assigned_on=date(2024, 1, 3),
                ).key
            )
        for task_id in ids[::2]:
            ledger.complete(task_id, date(2024, 1, 20), None)
        ledger.reassign(ids[1], ["STC"], date(2024, 1, 10), "Theo chức năng")
        ledger.issue_document(
            "nhac_nho", "01/NN", date(2024, 3, 5), Addressees(agencies=("SXD",)),
            reason="Chậm tiến độ", task_ids=ids[1:4],
        )  # fmt: skip
        one_by_one = snapshot(app.engine)
        assert len(one_by_one["proj_tasks"]) == count

        rebuild(app.store, ledger.projection)  # every row again, in bulk
        assert snapshot(app.engine) == one_by_one

        # A batch writes its events and new task rows in bulk too.
        with ledger.batch():
            batch_ids = [
                ledger.assign_task(
                    "0/TB-UBND", f"Nhiệm vụ lô {n}", ["STC"], DeadlineInput("date", date(2024, 2, 1)),
                    assigned_on=date(2024, 1, 5),
                ).key
                for n in range(count)
            ]  # fmt: skip
            for task_id in batch_ids[::2]:
                ledger.complete(task_id, date(2024, 1, 20), None)
        batched = snapshot(app.engine)
        assert len(batched["proj_tasks"]) == 2 * count
        rebuild(app.store, ledger.projection)
        assert snapshot(app.engine) == batched
    finally:
        app.close()


def test_a_rebuild_folds_its_tasks_a_range_at_a_time_and_writes_each_row_once(
    db_url, monkeypatch, reads_of
):
    """More tasks than a rebuild holds at a time, their events interleaved, and
    documents naming tasks of several ranges (one of them retracted): the rebuild
    folds the tasks one range after another, reads no task row back, updates none,
    and the rows come out as the commands left them."""
    app = App(db_url, "văn thư", now=lambda: NOW)
    ledger = app.ledger
    try:
        ids = _interleaved_tasks_and_documents(ledger)
        before = snapshot(app.engine)
        assert _fact_types(before, ids[2]).count("document.issued") == 1
        assert "document.issued" not in _fact_types(before, ids[1])  # retracted

        reads = reads_of(lambda text: "FROM proj_tasks" in text)
        updates = []
        executemany = Raw.executemany

        def watched(raw, text, rows):
            if text.startswith("UPDATE proj_tasks"):
                updates.append(text)
            return executemany(raw, text, rows)

        monkeypatch.setattr(Raw, "executemany", watched)
        ranges = []

        def recorded(*args, **kwargs):
            ranges.extend(found := stream_ranges(*args, **kwargs))
            return found

        monkeypatch.setattr(projection, "stream_ranges", recorded)
        monkeypatch.setattr(projection, "TASKS_PER_REBUILD_PART", 5)

        head = app.store.head_position()
        assert rebuild(app.store, ledger.projection, batch_size=4, workers=1) == head

        assert [r.prefix for r in ranges].count("task:") == 3  # 12 tasks, 5 a part
        assert reads == [] and updates == []
        assert snapshot(app.engine) == before
    finally:
        app.close()


def test_a_later_range_of_tasks_is_fed_from_its_first_assignment_on(
    db_url, monkeypatch, applies_noted
):
    """A document issued before a range's first task cannot name any of its tasks
    (they did not exist yet): that range is fed from its first assignment on, without
    it. The rows still come out as the commands left them, the document's retraction
    included."""
    app = App(db_url, "văn thư", now=lambda: NOW)
    ledger = app.ledger
    try:
        _agency_and_directive(ledger)
        early = [_assigned(ledger, n).key for n in range(3)]
        first_document = _issued(ledger, "01/NN", early[:2]).events[0]
        late = [_assigned(ledger, n) for n in range(3, 6)]
        _issued(ledger, "02/NN", [early[2], late[0].key])
        ledger.correct(first_document.event_id, "Ban hành nhầm")
        before = snapshot(app.engine)
        fed = applies_noted(lambda session, event: (session, event.stream_id, event.position))
        monkeypatch.setattr(projection, "TASKS_PER_REBUILD_PART", 3)  # 6 tasks: 2 ranges

        rebuild(app.store, ledger.projection, batch_size=2, workers=1)

        assert snapshot(app.engine) == before

        def positions_fed_with(task_id):
            session = next(s for s, stream, _ in fed if stream == f"task:{task_id}")
            return [position for s, _, position in fed if s is session]

        assert first_document.position in positions_fed_with(early[0])
        assert min(positions_fed_with(late[0].key)) == late[0].events[0].position
    finally:
        app.close()


def test_worker_processes_fold_the_task_ranges_side_by_side(db_url, monkeypatch, applies_noted):
    """With two workers, every task range is folded in a process of its own — this
    one folds only the other streams — and the rows come out as the commands left
    them, the retracted document's fact gone, the task counter the highest of all."""
    app = App(db_url, "văn thư", now=lambda: NOW)
    try:
        _interleaved_tasks_and_documents(app.ledger)
        before = snapshot(app.engine)
        folded_here = applies_noted(lambda _session, event: event.stream_id.partition(":")[0])
        monkeypatch.setattr(projection, "TASKS_WORTH_WORKERS", 0)
        monkeypatch.setattr(projection, "TASKS_PER_DETACHED_PART", 5)  # 12 tasks: 4 ranges

        head = app.store.head_position()
        assert rebuild(app.store, app.ledger.projection, batch_size=4, workers=2) == head

        assert "task" not in folded_here and {"agency", "document"} <= set(folded_here)
        assert snapshot(app.engine) == before
        with app.engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT value FROM proj_counters").scalar() == 12
    finally:
        app.close()


def _failing_session(raw):
    raise RuntimeError("phần dựng lại hỏng")


def _session_only_here(raw):
    raise AssertionError("never called: a worker cannot even import it")


_session_only_here.__module__ = "nhiemvu_test_only_here"  # no such module to import
sys.modules["nhiemvu_test_only_here"] = SimpleNamespace(_session_only_here=_session_only_here)


@pytest.mark.parametrize(
    ("opener", "reported"),
    [
        (_failing_session, "RuntimeError: phần dựng lại hỏng"),
        # Its job cannot be unpickled: the worker dies at once, with nothing sent.
        (_session_only_here, "dừng giữa chừng"),
    ],
)
def test_a_failing_worker_fails_the_rebuild_and_the_projection_stays(
    db_url, monkeypatch, opener, reported
):
    """A worker's exception, or its death, reaches the rebuild, which rolls back: the
    projection is the one before, and the other workers are stopped (else the test
    would hang)."""
    app = App(db_url, "văn thư", now=lambda: NOW)
    try:
        _interleaved_tasks_and_documents(app.ledger)
        before = snapshot(app.engine)
        events_before = app.store.count()
        parts = projection.LedgerProjection.rebuild_parts

        def failing(self, raw, workers=1):
            for part in parts(self, raw, workers):
                yield replace(part, open=opener) if part.detachable else part

        monkeypatch.setattr(projection.LedgerProjection, "rebuild_parts", failing)
        monkeypatch.setattr(projection, "TASKS_WORTH_WORKERS", 0)
        monkeypatch.setattr(projection, "TASKS_PER_DETACHED_PART", 3)

        with pytest.raises(WorkerFailed, match=reported):
            rebuild(app.store, app.ledger.projection, workers=2)

        assert snapshot(app.engine) == before
        assert app.store.count() == events_before
    finally:
        app.close()


def test_task_ranges_come_from_the_database_order_whatever_its_collation(
    postgres_server, monkeypatch
):
    """Under a linguistic collation (ICU, en-US) punctuation sorts unlike in C:
    'document:12' < 'document;' is false there, so ranges of stream ids bounded by
    prefixes would lose streams. The rebuild's ranges are bounded by ids read back
    in the database's own order, and the rows come out as the commands left them."""
    name = postgres_server.new_name()
    postgres_server.execute(  # PostgreSQL 15 built with ICU, as its packages are
        f'CREATE DATABASE "{name}" TEMPLATE template0 '
        "LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"
    )
    postgres_server.register(name)
    url = postgres_server.url(name)
    upgrade(url)
    app = App(url, "văn thư", now=lambda: NOW)
    try:
        _interleaved_tasks_and_documents(app.ledger)
        with app.engine.connect() as connection:
            assert not connection.exec_driver_sql("SELECT 'document:12' < 'document;'").scalar()
        before = snapshot(app.engine)
        monkeypatch.setattr(projection, "TASKS_PER_REBUILD_PART", 5)
        monkeypatch.setattr(projection, "TASKS_WORTH_WORKERS", 0)  # workers read ranges too
        assert rebuild(app.store, app.ledger.projection) == app.store.head_position()
        assert snapshot(app.engine) == before
    finally:
        app.close()


def _fact_types(rows: dict[str, list[str]], task_id: str) -> list[str]:
    for text in rows["proj_tasks"]:
        row = json.loads(text)
        if row["task_id"] == task_id:
            facts = row["facts"]
            return [f["type"] for f in (json.loads(facts) if isinstance(facts, str) else facts)]
    raise AssertionError(f"no row for {task_id}")


def _agency_and_directive(ledger) -> None:
    ledger.register_agency("SXD", "Sở Xây dựng", "so")
    ledger.register_directive("1/TB-UBND", date(2024, 1, 2), "Kết luận", None, None)


def _assigned(ledger, n: int):
    return ledger.assign_task(
        "1/TB-UBND", f"Nhiệm vụ {n}", ["SXD"], DeadlineInput("date", date(2024, 3, 1)),
        assigned_on=date(2024, 1, 3),
    )  # fmt: skip


def _issued(ledger, number: str, task_ids: list[str]):
    """A reprimand naming `task_ids`."""
    return ledger.issue_document(
        "nhac_nho", number, date(2024, 1, 25), Addressees(agencies=("SXD",)),
        reason="Chậm tiến độ", task_ids=task_ids,
    )  # fmt: skip


def _interleaved_tasks_and_documents(ledger) -> list[str]:
    """Twelve tasks reported on in turn (each task's events lie far apart), and two
    documents naming tasks here and there, the first one retracted."""
    _agency_and_directive(ledger)
    ids = [_assigned(ledger, n).key for n in range(12)]
    documents = []
    for percent in (30, 60):
        for task_id in ids:
            ledger.report_progress(task_id, percent, date(2024, 1, percent // 10), None)
        documents.append(_issued(ledger, f"0{percent}/NN", ids[percent // 30 :: 5]))
    ledger.correct(documents[0].events[0].event_id, "Ban hành nhầm")
    return ids
