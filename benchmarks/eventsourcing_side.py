"""The same command workload through nhiemvu and through the `eventsourcing` library.

    python -m benchmarks.eventsourcing_side [--backend sqlite|postgresql|all] [--tasks N]

Workload (identical on both sides, `workload.simple_workload`): N tasks, each
assigned, reported twice and completed — 4N commands, one transaction each,
in the order: all assignments, all first reports, all second reports, all
completions (so every command but an assignment loads an existing aggregate).

- nhiemvu: `Ledger.assign_task / report_progress / complete` — the CLI's path:
  lock, load from the projection, validate, append (hash chain, idempotency
  and version checks), update the projection, commit.
- eventsourcing 9.5 (`pip install 'eventsourcing[postgres]==9.5.*'`): an
  `Aggregate` "Task" with assign/report/complete, in an `Application`; each
  command but the assignment is `repository.get` (replay of the aggregate's
  events — no snapshots, no cache), the method, `save`. Persistence modules
  `eventsourcing.sqlite` and `eventsourcing.postgres` on the same backends.

nhiemvu's commands go on with the state the previous transaction left in memory
while the log's head has not moved (application.projection); the library has an
aggregate cache of its own (`AGGREGATE_CACHE_MAXSIZE`, with its defaults: it
fast-forwards a cached aggregate from the database and hands out a deep copy), off
by default. The library's commands run both ways, and the ratio of the goal is
taken against the faster of the two.

Replay: reading every task back as an aggregate — nhiemvu `read_stream` of each
task stream folded by `workflow.tasks.derive_task` (what `task show --known-at`
does), eventsourcing `repository.get` of each id.

On SQLite it also counts the pages each side writes per command (the WAL frames of
an untimed run with checkpoints off): a commit costs in proportion to them, and
they are what separates the two sides there (see benchmarks/README.md).

SQLite durability: nhiemvu runs WAL with `synchronous=NORMAL`; the library opens
WAL with SQLite's default `synchronous=FULL` (an fsync per commit). By default
this module sets NORMAL on the library's connections too, so both sides promise
the same; `--es-default-sync` keeps the library's own default.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as dtime
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from workflow.dates import LOCAL_TZ

from .workload import simple_workload

PG_ADMIN_URL = os.environ.get(
    "NHIEMVU_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


# -- the eventsourcing side ---------------------------------------------------------


@cache
def _es_classes():
    """Imported lazily: the library is installed for the benchmark only."""
    from eventsourcing.application import Application
    from eventsourcing.domain import Aggregate, event

    class Task(Aggregate):
        @event("Assigned")
        def __init__(self, title: str, leads: list[str], due: str, assigned_on: str) -> None:
            self.title = title
            self.leads = leads
            self.due = due
            self.assigned_on = assigned_on
            self.progress: int | None = None
            self.progress_on: str | None = None
            self.completed_on: str | None = None

        @classmethod
        def assign(cls, title: str, leads: list[str], due: str, assigned_on: str) -> Task:
            return cls(title=title, leads=leads, due=due, assigned_on=assigned_on)

        def check_open(self, on: str) -> None:
            if self.completed_on is not None:
                raise ValueError("task already completed")
            if on < self.assigned_on:
                raise ValueError("date before the assignment")

        def report(self, percent: int, on: str, note: str | None = None) -> None:
            if not 0 <= percent <= 100:
                raise ValueError("percent out of range")
            self.check_open(on)
            self._report(percent, on, note)

        @event("ProgressReported")
        def _report(self, percent: int, on: str, note: str | None) -> None:
            self.progress = percent
            self.progress_on = on

        def complete(self, on: str, doc: str | None = None) -> None:
            self.check_open(on)
            self._complete(on, doc)

        @event("Completed")
        def _complete(self, on: str, doc: str | None) -> None:
            self.completed_on = on

    class Tasks(Application):
        def assign(self, title: str, leads: list[str], due: str, assigned_on: str):
            task = Task.assign(title, leads, due, assigned_on)
            self.save(task)
            return task.id

        def report(self, task_id, percent: int, on: str) -> None:
            task = self.repository.get(task_id)
            task.report(percent, on)
            self.save(task)

        def complete(self, task_id, on: str) -> None:
            task = self.repository.get(task_id)
            task.complete(on)
            self.save(task)

    return Task, Tasks


# How the library's new SQLite connections are set (see _set_up_library_sqlite): with
# nhiemvu's durability (synchronous=NORMAL, unless --es-default-sync), and, while
# pages are counted, never checkpointing their WAL so that its size counts every page.
_library_sqlite = {"synchronous_normal": True, "keep_whole_wal": False}


def _set_up_library_sqlite() -> None:
    """Apply `_library_sqlite` to every SQLite connection the library opens."""
    from eventsourcing import sqlite as es_sqlite

    pool = es_sqlite.SQLiteConnectionPool
    if getattr(pool, "_nhiemvu_patched", False):
        return
    original = pool._create_connection

    def create(self):
        connection = original(self)
        if _library_sqlite["synchronous_normal"]:
            connection._sqlite_conn.execute("PRAGMA synchronous=NORMAL")
        if _library_sqlite["keep_whole_wal"]:
            connection._sqlite_conn.execute("PRAGMA wal_autocheckpoint=0")
        return connection

    pool._create_connection = create
    pool._nhiemvu_patched = True


@dataclass
class SideResult:
    commands: int
    command_seconds: float
    aggregates: int
    events: int
    replay_seconds: float

    @property
    def commands_per_s(self) -> float:
        return self.commands / self.command_seconds

    @property
    def replay_aggregates_per_s(self) -> float:
        return self.aggregates / self.replay_seconds

    @property
    def replay_events_per_s(self) -> float:
        return self.events / self.replay_seconds


def run_eventsourcing(
    env: dict[str, str], n_tasks: int, after_commands: Callable[[], Any] | None = None
) -> SideResult:
    _, Tasks = _es_classes()
    app = Tasks(env=env)
    try:
        ids: dict[int, Any] = {}
        steps = simple_workload(n_tasks)
        started = time.perf_counter()
        for step, n, on in steps:
            if step == "assign":
                ids[n] = app.assign(f"Nhiệm vụ {n}", ["SXD"], "2024-04-30", on.isoformat())
            elif step == "report":
                app.report(ids[n], 50, on.isoformat())
            else:
                app.complete(ids[n], on.isoformat())
        command_seconds = time.perf_counter() - started
        if after_commands is not None:
            after_commands()
        started = time.perf_counter()
        events = 0
        for task_id in ids.values():
            task = app.repository.get(task_id)
            events += task.version
        replay_seconds = time.perf_counter() - started
        return SideResult(len(steps), command_seconds, len(ids), events, replay_seconds)
    finally:
        app.close()


# -- the nhiemvu side ---------------------------------------------------------------


class _Clock:
    def __init__(self) -> None:
        self.now = datetime(2024, 3, 1, 8, 0, tzinfo=LOCAL_TZ)

    def __call__(self) -> datetime:
        return self.now


def run_nhiemvu(
    url: str, n_tasks: int, after_commands: Callable[[], Any] | None = None
) -> SideResult:
    """The workload through the ledger; registers its agency (if new) and directive first."""
    from application.app import App
    from application.ledger import DeadlineInput
    from application.queries import facts_from_events
    from workflow.errors import DomainError
    from workflow.tasks import derive_task

    clock = _Clock()
    clock.now = datetime.combine(date(2024, 5, 1), dtime(8), tzinfo=LOCAL_TZ)
    app = App(url, "benchmark", now=clock)
    ledger = app.ledger
    directive = f"{uuid.uuid4().hex[:6]}/TB-BENCH"
    try:
        with contextlib.suppress(DomainError):  # a city database has it already
            ledger.register_agency("SXD", "Sở Xây dựng", "so")
        ledger.register_directive(directive, date(2024, 3, 1), "Thông báo kết luận", None, None)
        deadline = DeadlineInput("date", date(2024, 4, 30))
        ids: dict[int, str] = {}
        steps = simple_workload(n_tasks)
        started = time.perf_counter()
        for step, n, on in steps:
            if step == "assign":
                result = ledger.assign_task(
                    directive, f"Nhiệm vụ {n}", ["SXD"], deadline, assigned_on=on
                )
                ids[n] = result.key
            elif step == "report":
                ledger.report_progress(ids[n], 50, on, None)
            else:
                ledger.complete(ids[n], on, None)
        command_seconds = time.perf_counter() - started
        if after_commands is not None:
            after_commands()
        started = time.perf_counter()
        events = 0
        with app.engine.connect() as connection:
            for task_id in ids.values():
                stream = app.store.read_stream(f"task:{task_id}", connection=connection)
                derive_task(facts_from_events(stream))
                events += len(stream)
        replay_seconds = time.perf_counter() - started
        return SideResult(len(steps), command_seconds, len(ids), events, replay_seconds)
    finally:
        app.close()


# -- databases ------------------------------------------------------------------------


@contextmanager
def fresh_sqlite(migrated: bool):
    from events.migrate import upgrade

    with tempfile.TemporaryDirectory(prefix="nhiemvu-side-") as directory:
        path = Path(directory) / "side.db"
        if migrated:
            upgrade(f"sqlite:///{path}")
        yield path


@contextmanager
def fresh_postgres(migrated: bool):
    from events.database import make_engine
    from events.migrate import upgrade

    admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"nhiemvu_side_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
        if migrated:
            upgrade(url)
        yield name, url
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def es_postgres_env(name: str) -> dict[str, str]:
    url = sa.engine.make_url(PG_ADMIN_URL)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": name,
        "POSTGRES_HOST": url.host or "127.0.0.1",
        "POSTGRES_PORT": str(url.port or 5432),
        "POSTGRES_USER": url.username or "postgres",
        "POSTGRES_PASSWORD": url.password or "",
    }


def sqlite_pages_per_command(n_tasks: int) -> dict[str, float]:
    """Pages each side writes per command on SQLite: the WAL frames of the workload's
    commands, with checkpoints off (untimed run). A commit costs in proportion to them."""
    _set_up_library_sqlite()
    commands = 4 * n_tasks
    pages: dict[str, float] = {}

    def measure(side: str, path: Path) -> Callable[[], None]:
        def after_commands() -> None:
            with contextlib.closing(sqlite3.connect(path)) as connection:
                page_size = connection.execute("PRAGMA page_size").fetchone()[0]
            frames = (os.path.getsize(f"{path}-wal") - 32) / (page_size + 24)
            pages[side] = frames / commands

        return after_commands

    def no_autocheckpoint(dbapi_connection, _record) -> None:
        dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")

    _library_sqlite["keep_whole_wal"] = True
    sa.event.listen(sa.engine.Engine, "connect", no_autocheckpoint)
    try:
        with fresh_sqlite(True) as path:
            run_nhiemvu(f"sqlite:///{path}", n_tasks, measure("nhiemvu", path))
        with fresh_sqlite(False) as path:
            env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)}
            run_eventsourcing(env, n_tasks, measure("eventsourcing", path))
    finally:
        sa.event.remove(sa.engine.Engine, "connect", no_autocheckpoint)
        _library_sqlite["keep_whole_wal"] = False
    return pages


def side_by_side(
    backend: str, n_tasks: int, repeats: int, es_default_sync: bool = False
) -> dict[str, Any]:
    """Medians of `repeats` runs, each side on its own fresh database of `backend`."""
    _library_sqlite["synchronous_normal"] = not es_default_sync
    _set_up_library_sqlite()
    ours: list[SideResult] = []
    theirs: list[SideResult] = []
    theirs_cached: list[SideResult] = []
    # nhiemvu's commands go on with the state their previous transaction left in
    # memory (see application.projection); the library has its own such cache, off
    # by default. It runs both ways, and the ratio is taken against its faster one.
    cache = {"AGGREGATE_CACHE_MAXSIZE": str(2 * n_tasks)}
    for _ in range(repeats):
        if backend == "sqlite":
            with fresh_sqlite(True) as path:
                ours.append(run_nhiemvu(f"sqlite:///{path}", n_tasks))
            for results, extra in ((theirs, {}), (theirs_cached, cache)):
                with fresh_sqlite(False) as path:
                    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)}
                    results.append(run_eventsourcing(env | extra, n_tasks))
        else:
            with fresh_postgres(True) as (_, url):
                ours.append(run_nhiemvu(url, n_tasks))
            for results, extra in ((theirs, {}), (theirs_cached, cache)):
                with fresh_postgres(False) as (name, _):
                    results.append(run_eventsourcing(es_postgres_env(name) | extra, n_tasks))

    def med(results, attribute):
        return statistics.median(getattr(r, attribute) for r in results)

    result = {"backend": backend, "tasks": n_tasks, "commands": 4 * n_tasks, "repeats": repeats}
    for side, results in (("nhiemvu", ours), ("eventsourcing", theirs)):
        result[side] = {
            "commands_per_s": med(results, "commands_per_s"),
            "replay_aggregates_per_s": med(results, "replay_aggregates_per_s"),
            "replay_events_per_s": med(results, "replay_events_per_s"),
            "runs_commands_per_s": [r.commands_per_s for r in results],
        }
    cached = med(theirs_cached, "commands_per_s")
    result["eventsourcing"]["commands_per_s_with_cache"] = cached
    result["eventsourcing"]["runs_commands_per_s_with_cache"] = [
        r.commands_per_s for r in theirs_cached
    ]
    result["ratio_commands"] = result["nhiemvu"]["commands_per_s"] / max(
        result["eventsourcing"]["commands_per_s"], cached
    )
    result["ratio_replay"] = (
        result["nhiemvu"]["replay_aggregates_per_s"]
        / result["eventsourcing"]["replay_aggregates_per_s"]
    )
    if backend == "sqlite":
        result["pages_per_command"] = sqlite_pages_per_command(n_tasks)
    return result


def print_side(result: dict[str, Any]) -> None:
    n, e = result["nhiemvu"], result["eventsourcing"]
    print(
        f"  same workload: {result['tasks']} tasks × (assign, report, report, complete) = "
        f"{result['commands']} commands, one transaction each; median of {result['repeats']}"
    )
    print(f"  {'':<34}{'nhiemvu':>12}{'eventsourcing':>15}{'ratio':>9}")
    print(
        f"  {'commands/s':<34}{n['commands_per_s']:>12,.0f}{e['commands_per_s']:>15,.0f}"
        f"{n['commands_per_s'] / e['commands_per_s']:>9.2f}"
    )
    cached = e["commands_per_s_with_cache"]
    print(
        f"  {'commands/s, library cache on':<34}{'':>12}{cached:>15,.0f}"
        f"{n['commands_per_s'] / cached:>9.2f}"
    )
    print(f"  {'ratio for the goal (vs the faster)':<34}{'':>27}{result['ratio_commands']:>9.2f}")
    print(
        f"  {'replay, aggregates/s':<34}{n['replay_aggregates_per_s']:>12,.0f}"
        f"{e['replay_aggregates_per_s']:>15,.0f}{result['ratio_replay']:>9.2f}"
    )
    print(
        f"  {'replay, events/s':<34}{n['replay_events_per_s']:>12,.0f}"
        f"{e['replay_events_per_s']:>15,.0f}"
    )
    pages = result.get("pages_per_command")
    if pages:
        print(
            f"  {'pages written per command (WAL)':<34}{pages['nhiemvu']:>12.2f}"
            f"{pages['eventsourcing']:>15.2f}{pages['nhiemvu'] / pages['eventsourcing']:>9.2f}"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.eventsourcing_side")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "all"], default="all")
    parser.add_argument("--tasks", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--es-default-sync",
        action="store_true",
        help="leave the library's SQLite at synchronous=FULL (its default)",
    )
    args = parser.parse_args(argv)
    backends = ["sqlite", "postgresql"] if args.backend == "all" else [args.backend]
    for backend in backends:
        print(backend)
        print_side(side_by_side(backend, args.tasks, args.repeats, args.es_default_sync))


if __name__ == "__main__":
    main()
