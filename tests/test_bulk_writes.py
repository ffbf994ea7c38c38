"""Bulk writes of the projection — COPY on PostgreSQL past `COPY_ROWS` rows, the
write-through rows of a rebuild held back and written together — leave the same rows
as commands writing one row at a time. On SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import date, datetime

from projection_rows import snapshot

from application import projection
from application.app import App
from application.ledger import DeadlineInput
from events.projections import rebuild
from events.sql import COPY_ROWS
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


def test_a_rebuild_reads_back_the_tasks_it_let_go_a_batch_at_a_time(db_url, monkeypatch, reads_of):
    """More open tasks than the rebuild's working set: the tasks written out and
    forgotten are read back before each batch, in one statement, not one per event
    (a round trip each on PostgreSQL) — and the rows come out the same."""
    app = App(db_url, "văn thư", now=lambda: NOW)
    ledger = app.ledger
    try:
        ledger.register_agency("SXD", "Sở Xây dựng", "so")
        ledger.register_directive("1/TB-UBND", date(2024, 1, 2), "Kết luận", None, None)
        ids = [
            ledger.assign_task(
                "1/TB-UBND", f"Nhiệm vụ {n}", ["SXD"], DeadlineInput("date", date(2024, 3, 1)),
                assigned_on=date(2024, 1, 3),
            ).key
            for n in range(12)
        ]  # fmt: skip
        for percent in (30, 60):  # round robin: each task's events lie far apart
            for task_id in ids:
                ledger.report_progress(task_id, percent, date(2024, 1, percent // 10), None)
        before = snapshot(app.engine)

        reads = reads_of(
            lambda text: (
                text.startswith("SELECT task_id") and "FROM proj_tasks WHERE task_id" in text
            )
        )
        monkeypatch.setattr(projection, "BULK_WORKING_SET", 2)
        batch_size = 6
        applied = rebuild(app.store, ledger.projection, batch_size=batch_size)

        batches = -(-applied // batch_size)
        assert 0 < len(reads) <= batches  # without the read-ahead: one per report, 24
        assert snapshot(app.engine) == before
    finally:
        app.close()
