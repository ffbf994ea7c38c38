"""Throughput of the event store on SQLite and PostgreSQL.

    python -m benchmarks.store_bench [--backend sqlite|postgresql|all] [--events N]

Prints, per backend, the median of three runs (each on a fresh database) of:
appends per second with one event per transaction, events per second when
appending batches of 100 events per transaction, and events per second when
reading the whole log back with read_all. PostgreSQL is the local server (or
$NHIEMVU_TEST_PG); a temporary database is created and dropped. Without a
server the PostgreSQL figures are skipped with a note.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from events import EventRegistry, EventStore, NewEvent
from events.database import make_engine
from events.migrate import upgrade

PG_ADMIN_URL = os.environ.get(
    "NHIEMVU_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REPEATS = 3
BATCH = 100
T0 = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
PAYLOAD = {
    "task": "CV-2026-0001",
    "agency": "Sở Xây dựng",
    "note": "Báo cáo tiến độ thực hiện nhiệm vụ được giao",
    "percent": 40,
}


def registry() -> EventRegistry:
    registry = EventRegistry()
    registry.register("bench.noted")
    return registry


def event(n: int) -> NewEvent:
    return NewEvent("bench.noted", {**PAYLOAD, "n": n}, T0)


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="nhiemvu-bench-") as directory:
        url = f"sqlite:///{Path(directory) / 'bench.db'}"
        upgrade(url)
        yield url


def postgres_reachable() -> str | None:
    """None if the server answers, else why not."""
    try:
        engine = make_engine(PG_ADMIN_URL)
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure means "no server here"
        return f"{exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return None


@contextmanager
def postgres_database() -> Iterator[str]:
    admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"nhiemvu_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
        upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def timed(action: Callable[[], int]) -> float:
    """Items per second of one run of `action`, which returns its item count."""
    start = time.perf_counter()
    count = action()
    return count / (time.perf_counter() - start)


def run_once(url: str, n_events: int) -> dict[str, float]:
    engine = make_engine(url)
    store = EventStore(engine, registry())
    try:

        def single() -> int:
            for n in range(n_events):
                store.append(f"task-{n % 50}", [event(n)])
            return n_events

        def batched() -> int:
            for start in range(0, n_events, BATCH):
                size = min(BATCH, n_events - start)
                store.append(f"batch-{start}", [event(start + i) for i in range(size)])
            return n_events

        def read() -> int:
            return sum(1 for _ in store.read_all())

        return {
            "single-event appends/s": timed(single),
            f"events/s in batches of {BATCH}": timed(batched),
            "read_all events/s": timed(read),
        }
    finally:
        engine.dispose()


def bench(backend: str, n_events: int) -> None:
    database = sqlite_database if backend == "sqlite" else postgres_database
    runs: list[dict[str, float]] = []
    for _ in range(REPEATS):
        with database() as url:
            runs.append(run_once(url, n_events))
    print(f"{backend} ({n_events} events per figure, median of {REPEATS} runs)")
    for figure in runs[0]:
        values = [run[figure] for run in runs]
        spread = ", ".join(f"{v:,.0f}" for v in values)
        print(f"  {figure:<28} {statistics.median(values):>10,.0f}   ({spread})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.store_bench")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "all"], default="all")
    parser.add_argument("--events", type=int, default=1000, help="events per figure and run")
    args = parser.parse_args(argv)
    if args.events < 1:
        parser.error("--events must be at least 1")

    backends = ["sqlite", "postgresql"] if args.backend == "all" else [args.backend]
    for backend in backends:
        if backend == "postgresql":
            problem = postgres_reachable()
            if problem:
                where = sa.engine.make_url(PG_ADMIN_URL).render_as_string(hide_password=True)
                print(f"postgresql: skipped, no server at {where} ({problem})")
                continue
        bench(backend, args.events)


if __name__ == "__main__":
    main()
