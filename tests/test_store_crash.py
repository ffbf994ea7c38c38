"""A writer killed with SIGKILL at random points leaves a consistent log.

The writer is a separate process (tests/crash_writer.py) so that the kill is
real: no Python cleanup, no rollback sent, the connection just vanishes.
"""

from __future__ import annotations

import os
import random
import select
import signal
import subprocess
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from events import EventRegistry, EventStore, NewEvent
from events.schema import events as events_table
from events.verify import verify_chain

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ROUNDS = 5
START_TIMEOUT_S = 60
WRITER_NAME = "nhiemvu_crash_writer"
T0 = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)


def start_writer(db_url: str, run: str, *flags: str, expect: str = "READY") -> subprocess.Popen:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "crash_writer.py"), writer_url(db_url), run, *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    ready, _, _ = select.select([proc.stdout], [], [], START_TIMEOUT_S)
    line = proc.stdout.readline().strip() if ready else ""
    if line != expect:
        proc.kill()
        _, stderr = proc.communicate()
        raise AssertionError(f"writer did not start (got {line!r}):\n{stderr}")
    return proc


def kill(proc: subprocess.Popen, engine) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    # A writer that died on its own (an error) would not have been killed.
    assert proc.returncode == -signal.SIGKILL
    if engine.dialect.name == "postgresql":
        # A COMMIT the writer sent just before dying still completes on the
        # server: wait for its backend to finish before looking at the log.
        deadline = time.monotonic() + START_TIMEOUT_S
        while _writer_backends(engine) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _writer_backends(engine)


def _writer_backends(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(
            sa.text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name = :name"
            ),
            {"name": WRITER_NAME},
        ).scalar_one()


def writer_url(db_url: str) -> str:
    if db_url.startswith("postgresql"):
        return f"{db_url}?application_name={WRITER_NAME}"
    return db_url


def check_log(engine) -> dict[str, list[int]]:
    """Assert the log is whole; return each batch's positions."""
    # One snapshot for the rows and the head.
    isolation = "REPEATABLE READ" if engine.dialect.name == "postgresql" else "SERIALIZABLE"
    with engine.connect().execution_options(isolation_level=isolation) as conn, conn.begin():
        rows = conn.execute(
            sa.select(
                events_table.c.position,
                events_table.c.stream_id,
                events_table.c.stream_version,
                events_table.c.payload,
            ).order_by(events_table.c.position)
        ).all()
        head = conn.execute(sa.text("SELECT last_position FROM event_log_head")).scalar_one()
    n = len(rows)
    assert [r.position for r in rows] == list(range(1, n + 1))
    assert head == n

    batches: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
    versions: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        batches[row.payload["batch"]].append((row.position, row.payload["i"], row.payload["k"]))
        versions[row.stream_id].append(row.stream_version)
    for batch, members in batches.items():
        k = members[0][2]
        # All or nothing: every event of the transaction, at consecutive positions.
        assert [i for _, i, _ in members] == list(range(1, k + 1)), batch
        first = members[0][0]
        assert [p for p, _, _ in members] == list(range(first, first + k)), batch
    for stream_id, stream_versions in versions.items():
        assert stream_versions == list(range(1, len(stream_versions) + 1)), stream_id

    result = verify_chain(engine)
    assert result.ok and result.checked == n, result
    return {batch: [p for p, _, _ in members] for batch, members in batches.items()}


def test_killed_writers_leave_a_consistent_log(db_url, engine):
    rng = random.Random()
    previous = 0
    for round_ in range(ROUNDS):
        proc = start_writer(db_url, f"r{round_}")
        # Sleeping here only picks the kill point; no result depends on timing.
        time.sleep(rng.uniform(0.02, 0.8))
        kill(proc, engine)
        batches = check_log(engine)
        assert any(b.startswith(f"r{round_}-") for b in batches)  # the writer committed
        total = sum(len(p) for p in batches.values())
        assert total > previous
        previous = total

    # Killed for certain inside an open write transaction, holding the lock.
    proc = start_writer(db_url, "held", "--hold", expect="HOLDING")
    kill(proc, engine)
    batches = check_log(engine)
    assert "held-held" not in batches

    # The lock died with the writer: the store goes on appending after it.
    registry = EventRegistry()
    registry.register("crash.noted")
    store = EventStore(engine, registry)
    after = store.append(
        "after-crash",
        [NewEvent("crash.noted", {"batch": "after", "i": i, "k": 2}, T0) for i in (1, 2)],
    )
    assert [e.position for e in after.events] == [previous + 1, previous + 2]
    check_log(engine)
