"""What a rebuild's worker process sends back: its session's writes, recorded, cut
into messages of bounded size, and run again in the rebuild's transaction in the
order the session made them. (The rebuild with workers, end to end, is tested in
test_bulk_writes.py on both engines.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.rebuild_workers import (
    DEFAULT_WORKERS_AT_MOST,
    DetachedRead,
    RecordedWrites,
    folded_elsewhere,
    in_messages,
    replay,
    sigint_ignored,
    worker_count,
)
from events.sql import dialect_named

STATEMENTS = st.lists(
    st.one_of(
        st.tuples(st.just("execute"), st.integers(0, 9)),
        st.tuples(st.just("executemany"), st.lists(st.integers(), max_size=12)),
        st.tuples(st.just("insert_rows"), st.lists(st.integers(), max_size=12)),
        st.tuples(st.just("insert_texts"), st.lists(st.integers(), max_size=12)),
    ),
    max_size=8,
)


def _recorded(statements) -> RecordedWrites:
    recorder = RecordedWrites(dialect_named("sqlite"))
    for n, (method, payload) in enumerate(statements):
        if method == "execute":
            recorder.execute(f"UPDATE t{n} SET v = :v", {"v": payload})
        elif method == "executemany":
            recorder.executemany(f"INSERT INTO t{n} (v) VALUES (:v)", [{"v": v} for v in payload])
        elif method == "insert_rows":
            recorder.insert_rows(f"t{n}", ("v",), [{"v": v} for v in payload])
        else:  # a text column: the rows' pieces keep saying so
            rows = [{"v": str(v), "w": v} for v in payload]
            recorder.insert_rows(f"t{n}", ("v", "w"), rows, texts=("v",))
    return recorder


class _Replayed:
    """A Raw that lists the single statements it is asked to run."""

    def __init__(self) -> None:
        self.run: list[tuple] = []

    def execute(self, text, params=None):
        self.run.append((text, params))

    def executemany(self, text, rows):
        self.run.extend((text, row) for row in rows)

    def insert_values(self, table, columns, rows, texts=()):
        self.run.extend((table, columns, row, texts) for row in rows)


@given(statements=STATEMENTS, rows=st.integers(1, 5))
def test_messages_carry_every_write_in_order_and_at_most_so_many_rows(statements, rows):
    writes = _recorded(statements).writes
    messages = list(in_messages(writes, rows))

    for message in messages:
        assert message
        many = [write[2 if write[0] == "executemany" else 3] for write in message
                if write[0] != "execute"]  # fmt: skip
        assert sum(len(m) for m in many) <= rows
    whole, in_parts = _Replayed(), _Replayed()
    replay(whole, writes)
    for message in messages:
        replay(in_parts, message)
    assert in_parts.run == whole.run
    assert len(whole.run) == sum(1 if m == "execute" else len(p) for m, p in statements)


def test_a_detached_session_may_not_read():
    """It would see the projection as last committed, not as the rebuild leaves it."""
    recorder = RecordedWrites(dialect_named("sqlite"))
    for read in (recorder.one, recorder.all):
        with pytest.raises(DetachedRead):
            read("SELECT value FROM proj_counters")
    with pytest.raises(DetachedRead):
        recorder.in_list("t", ["NV-00001"])


def test_inserts_are_recorded_as_values_in_the_order_of_their_columns():
    """Tuples, not mappings, cross to the rebuild's process (see Raw.insert_values) —
    a single column's values as tuples too."""
    recorder = RecordedWrites(dialect_named("sqlite"))
    recorder.insert_rows("t", ("b", "a"), [{"a": 1, "b": 2}, {"a": 3, "b": 4}])
    recorder.insert_rows("u", ("a",), [{"a": 5}])
    recorder.insert_rows("u", ("a",), [])
    recorder.insert_rows("v", ("a",), [{"a": b"\xe1\xbb\x9f"}], texts=["a"])
    assert recorder.writes == [
        ("insert_values", "t", ("b", "a"), [(2, 1), (4, 3)], ()),
        ("insert_values", "u", ("a",), [(5,)], ()),
        ("insert_values", "v", ("a",), [(b"\xe1\xbb\x9f",)], ("a",)),
    ]


def test_a_program_read_from_standard_input_folds_in_its_own_process(monkeypatch):
    """A spawned worker first imports the program's main module again. A program read
    from standard input has no file to import it from: it gets no workers, whatever
    it asks for. Any other program gets what it asks for."""
    assert worker_count(3) == 3
    monkeypatch.setitem(sys.modules, "__main__", SimpleNamespace(__spec__=None, __file__="<stdin>"))
    assert worker_count(3) == 1
    assert worker_count(None) == 1


def test_a_rebuild_takes_a_worker_a_core_up_to_a_bound_unless_asked(monkeypatch):
    """Each worker holds a part in memory: by default one per core, but no more than
    DEFAULT_WORKERS_AT_MOST on a big machine; asked for more, it gets them."""
    machine = {"cores": 2}
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(machine["cores"])))
    assert worker_count(None) == 2
    machine["cores"] = 64
    assert worker_count(None) == DEFAULT_WORKERS_AT_MOST < 64
    assert worker_count(12) == 12


def test_workers_leave_ctrl_c_to_the_rebuild_process():
    """Ctrl-C reaches the whole foreground group: a worker started by a rebuild ignores
    it (the rebuild stops its workers itself) instead of printing a traceback each.
    What a process started inside inherits, a spawned worker does too (fork, exec)."""
    handler = signal.getsignal(signal.SIGINT)
    ignores = "import signal; print(signal.getsignal(signal.SIGINT) == signal.SIG_IGN)"
    report = [sys.executable, "-c", ignores]
    with sigint_ignored():
        inside = subprocess.run(report, capture_output=True, text=True, check=True).stdout
    outside = subprocess.run(report, capture_output=True, text=True, check=True).stdout
    assert (inside.strip(), outside.strip()) == ("True", "False")
    assert signal.getsignal(signal.SIGINT) is handler


def test_a_rebuild_starts_its_workers_with_ctrl_c_ignored(monkeypatch, tmp_path):
    import multiprocessing.context

    from events.catalog import REGISTRY
    from events.stream_ranges import RebuildPart

    seen = []
    start = multiprocessing.context.SpawnProcess.start

    def noting_start(process):
        seen.append(signal.getsignal(signal.SIGINT))
        start(process)

    monkeypatch.setattr(multiprocessing.context.SpawnProcess, "start", noting_start)
    parts = [RebuildPart(open=len, streams=[]), RebuildPart(open=len, streams=[])]
    with folded_elsewhere(f"sqlite:///{tmp_path / 'none.db'}", REGISTRY, parts, 10, 0, 2):
        pass  # the workers are stopped on the way out
    assert seen == [signal.SIG_IGN, signal.SIG_IGN]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


REBUILD_FROM_STDIN = """
from application import projection
from application.app import App
from events.projections import rebuild

projection.TASKS_WORTH_WORKERS, projection.TASKS_PER_DETACHED_PART = 0, 1
app = App({url!r}, "văn thư")
print(rebuild(app.store, app.ledger.projection, workers=2) == app.store.head_position())
app.close()
"""


def test_a_rebuild_run_from_standard_input_completes(tmp_path, sqlite_template):
    """`python - <<EOF` with a rebuild in it: the workers it would have spawned would
    die at once (once, the rebuild stopped with an error saying to use --workers 1)."""
    from application.app import App  # noqa: PLC0415
    from application.ledger import DeadlineInput  # noqa: PLC0415

    url = f"sqlite:///{tmp_path / 'stdin.db'}"
    Path(tmp_path / "stdin.db").write_bytes(Path(sqlite_template).read_bytes())
    app = App(url, "văn thư")
    app.ledger.register_agency("SXD", "Sở Xây dựng", "so")
    app.ledger.register_directive("1/TB-UBND", date(2024, 1, 2), "Kết luận", None, None)
    for n in range(3):
        app.ledger.assign_task(
            "1/TB-UBND", f"Nhiệm vụ {n}", ["SXD"], DeadlineInput("date", date(2024, 3, 1)),
            assigned_on=date(2024, 1, 3),
        )  # fmt: skip
    app.close()
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-"],
        input=REBUILD_FROM_STDIN.format(url=url),
        capture_output=True,
        text=True,
        cwd=root,
        timeout=120,
        check=False,
    )
    assert (done.returncode, done.stdout.strip()) == (0, "True"), done.stderr
