"""Read commands served over the bare DB-API driver (events.driver), skipping the
import of SQLAlchemy, which costs a `task show` more than its reading does; and
the check that a database is ready for such paths (App.quick uses it too).

Used only where the answer is the same as the full path's: the schema is the
code's, and the ledger projection has every event of the log. Otherwise `open`
says no and the caller takes the full path, which migrates nothing but
reports the schema, or catches the projection up first.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import migrations
from events import driver
from events.feeds import head_row, stored_checkpoint
from events.sql import Raw
from workflow.dates import LOCAL_TZ

from . import task_reads
from .streams import LEDGER_PROJECTION


class QuickReads:
    def __init__(self, raw: Raw) -> None:
        self.raw = raw

    @classmethod
    def open(cls, url: str | None) -> QuickReads | None:
        opened = driver.connect(url)
        if opened is None:
            return None
        connection, dialect = opened
        raw = Raw.over_driver(connection, dialect)
        if not ready(raw):
            connection.close()
            return None
        return cls(raw)

    def close(self) -> None:
        self.raw.driver.close()

    @staticmethod
    def today() -> date:
        return datetime.now(LOCAL_TZ).date()

    def show_task(self, task_id: str, as_of: date) -> dict[str, Any]:
        return task_reads.task_to_dict(task_reads.load_task(self.raw, task_id, as_of), as_of)


def ready(raw: Raw) -> bool:
    """Whether the quick paths give the full path's answers on this database: its
    schema is the code's and the ledger projection has every event of the log."""
    try:
        return _schema_revision(raw) == migrations.HEAD and _projection_current(raw)
    except raw.errors:
        return False  # no such table: not initialised, let the full path say so


def ready_for_quick_path(connection) -> bool:
    """`ready`, asked over a connection of an events.driver.DriverEngine."""
    try:
        return ready(Raw(connection))
    finally:
        connection.close()


def _schema_revision(raw: Raw) -> str | None:
    row = raw.one("SELECT version_num FROM alembic_version")
    return None if row is None else row[0]


def _projection_current(raw: Raw) -> bool:
    head = head_row(raw, "last_position")[0]
    checkpoint = stored_checkpoint(raw, LEDGER_PROJECTION)
    return checkpoint is not None and checkpoint >= head
