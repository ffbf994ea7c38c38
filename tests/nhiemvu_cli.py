"""Running `nhiemvu` in-process for the CLI tests, and looking at the log it leaves."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from cli import cli
from events.catalog import REGISTRY
from events.database import make_engine
from events.store import EventStore, NewEvent

REPO = Path(__file__).resolve().parent.parent

# Words of click's English messages that must not reach the reader of a usage error.
# Click's English words, and its formula for a range (`x>=1`, `0<=x<=100`).
CLICK_ENGLISH = re.compile(
    r"\b(Usage|Error|Try|Missing|Invalid|Did you mean|is not|No such)\b|\bx[<>]|[<>]=?x\b"
)


class Nhiemvu:
    """`nhiemvu --db URL --actor tester …` in-process, plus a look at the log it leaves."""

    def __init__(self, db_url: str, actor: str | None = "tester") -> None:
        self.db_url = db_url
        self.actor = actor
        self.runner = CliRunner()

    def run(self, *args: str):
        actor = ["--actor", self.actor] if self.actor else []
        return self.runner.invoke(cli, ["--db", self.db_url, *actor, *args])

    def ok(self, *args: str):
        result = self.run(*args)
        assert result.exit_code == 0, (
            f"nhiemvu {' '.join(args)} → exit {result.exit_code}\n"
            f"stdout: {result.stdout}\nstderr: {result.stderr}\nexception: {result.exception!r}"
        )
        return result

    def json(self, *args: str):
        return json.loads(self.ok(*args, "--json").stdout)

    def fails(self, *args: str, code: int = 1):
        """A refused command: the given exit status, a message, and nothing written."""
        before = self.event_count()
        result = self.run(*args)
        assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
        # A crash also exits 1 under CliRunner; a refusal is a clean SystemExit.
        assert isinstance(result.exception, SystemExit), repr(result.exception)
        assert self.event_count() == before
        return result

    def engine(self):
        return make_engine(self.db_url)

    def event_count(self) -> int:
        engine = self.engine()
        try:
            return EventStore(engine, REGISTRY).count()
        finally:
            engine.dispose()

    def event(self, event_id: str):
        engine = self.engine()
        try:
            return EventStore(engine, REGISTRY).get_event(event_id)
        finally:
            engine.dispose()

    def task(self, task_id: str, *extra: str) -> dict:
        return self.json("task", "show", task_id, *extra)


def busy_task(nv: Nhiemvu) -> str:
    """One agency, one directive and a task with a report and an extension; its id."""
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


def run_sql(db_url: str, *statements: str) -> None:
    """Run statements on the database directly, in one transaction, as someone with
    access to it could (behind the store's back)."""
    engine = make_engine(db_url)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.exec_driver_sql(statement)
    finally:
        engine.dispose()


def records_from_march_2023(db_url: str) -> Nhiemvu:
    """A head in office since 2018, and the ledger's first task given on 10/03/2023: a
    year before it has every head ranked HTXS on no work at all."""
    nv = Nhiemvu(db_url)
    nv.ok("agency", "add", "SXD", "--name", "Sở Xây dựng", "--kind", "so")
    nv.ok("agency", "head", "SXD", "--name", "Lê Văn A", "--from", "01/01/2018")
    nv.ok("directive", "add", "1/TB", "--date", "10/03/2023", "--title", "Kết luận")
    nv.ok("task", "assign", "--directive", "1/TB", "--title", "Việc", "--lead", "SXD",
          "--deadline", "30/06/2023")  # fmt: skip
    return nv


def report_behind_the_projection(db_url: str, task_id: str) -> None:
    """A 70 % report on 25/04/2023 appended without the ledger projection, which then
    no longer has every event of the log."""
    engine = make_engine(db_url)
    try:
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
    finally:
        engine.dispose()


def run_alone(*args: str) -> tuple[str, bool]:
    """`nhiemvu ARGS` in a process of its own, which must succeed: what it printed,
    and whether it imported SQLAlchemy."""
    script = (
        "import runpy, sys\n"
        f"sys.argv = ['nhiemvu', *{list(args)!r}]\n"
        "try:\n    runpy.run_module('cli', run_name='__main__')\n"
        "except SystemExit as exit:\n    assert not exit.code, exit.code\n"
        "print('SQLALCHEMY' if 'sqlalchemy' in sys.modules else 'LEAN', file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True
    )
    return done.stdout, done.stderr.strip().endswith("SQLALCHEMY")
