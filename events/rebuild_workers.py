"""Folding the parts of a rebuild side by side, in processes of their own.

A rebuild fed a range of streams at a time (events.stream_ranges) spends most of
its time in Python — decoding the events, folding them, building the rows — and
Python runs one thread at a time. A part whose session reads nothing from the
database (`RebuildPart.detachable`) can be folded in a worker process over a
connection of its own: the worker records the statements its session would run,
and the rebuild's process runs them in its transaction, in which alone the new
projection is visible. The log itself is only read, up to the head the rebuild
locked, so every process sees the same events.

Workers are spawned, not forked: the parent may hold open connections and
threads (the scheduler's) that a fork would copy half-alive.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import threading
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .driver import DriverEngine, connect
from .memory import collector_paused
from .registry import EventRegistry
from .sql import Raw, values_of
from .stream_ranges import RebuildPart, feed_part

Writes = list[tuple[Any, ...]]
# Rows a message carries at most, and messages waiting at most: a few MB each.
ROWS_PER_MESSAGE = 2_000
MESSAGES_WAITING = 16
# Workers a rebuild starts unless asked for more. Each holds a part (~120 MB at the
# peak of a city decade's), while the rebuild's own process works alone for ~4.5 s of
# the decade's rebuild (emptying the projection, the other streams, every insert):
# the workers' ~14.5 s of CPU shared by more than four would not end it sooner.
DEFAULT_WORKERS_AT_MOST = 4
# What a worker sends: (_WRITES, writes), (_DONE, None) after a part's last writes,
# (_FAILED, the error as text) before it stops.
_WRITES, _DONE, _FAILED = "writes", "done", "failed"


class WorkerFailed(RuntimeError):
    """A worker process failed, or stopped before it had sent every part."""


class DetachedRead(RuntimeError):
    """A detached part's session read the database: it would have seen the projection
    as last committed, not as the rebuild leaves it."""


class RecordedWrites:
    """Stands in for events.sql.Raw in a worker: keeps the writes, refuses reads."""

    def __init__(self, dialect) -> None:
        self.dialect = dialect
        self.writes: Writes = []

    def execute(self, text: str, params=None) -> None:
        self.writes.append(("execute", text, params))

    def executemany(self, text: str, rows) -> None:
        if rows:
            self.writes.append(("executemany", text, list(rows)))

    def insert_rows(self, table: str, columns, rows, texts=()) -> None:
        # As values, not mappings: a message of tuples is pickled in an eighth of
        # the time and unpickled in a fifth, and bound by position (see
        # Raw.insert_values).
        if rows:
            values = list(map(values_of(columns), rows))
            self.writes.append(("insert_values", table, tuple(columns), values, tuple(texts)))

    def _refuse(self, *_args, **_kwargs):
        raise DetachedRead("a detached part of a rebuild may not read the database")

    one = all = stream = in_list = _refuse


# Where a recorded write holds its rows.
_ROWS_AT = {"executemany": 2, "insert_values": 3}


def in_messages(writes: Writes, rows: int = ROWS_PER_MESSAGE) -> Iterator[Writes]:
    """The writes cut into messages of at most `rows` rows, in their order."""
    message: Writes = []
    for write in writes:
        at = _ROWS_AT.get(write[0])
        if at is None:
            message.append(write)
            continue
        many = write[at]
        for start in range(0, len(many), rows):
            if message:
                yield message
            message = [(*write[:at], many[start : start + rows], *write[at + 1 :])]
    if message:
        yield message


def replay(raw: Raw, writes: Writes) -> None:
    """Run recorded writes, in their order, in this transaction."""
    for method, *args in writes:
        getattr(raw, method)(*args)


@dataclass(frozen=True)
class DetachedJob:
    """What a worker needs to fold one part: all of it pickled."""

    url: str
    registry: EventRegistry
    part: RebuildPart
    batch_size: int
    up_to: int


def _work(jobs, outbox) -> None:
    """A worker's life: fold the parts it is given until told to stop. The cycle
    collector stays paused throughout, as in the rebuild's process: enabled between
    two parts, it walked every object a part had left (a tenth of a worker's time)."""
    with collector_paused():
        while (job := jobs.get()) is not None:
            try:
                fold(job, outbox)
            except BaseException:
                outbox.put((_FAILED, traceback.format_exc()))
                return


def fold(job: DetachedJob, outbox) -> None:
    """In a worker: feed the part's streams to its session and send back its writes."""
    from .store import EventStore  # noqa: PLC0415 - the worker's own import

    opened = connect(job.url)
    if opened is None:
        raise RuntimeError(f"a rebuild worker could not open {job.url!r}")
    driver, dialect_name = opened
    engine = DriverEngine(driver, dialect_name)  # a transaction: PostgreSQL's cursor needs one
    try:
        if dialect_name == "sqlite":
            # The whole file is read once: mapped, it would all stay resident.
            driver.execute("PRAGMA mmap_size=0")
            driver.execute("BEGIN")  # one snapshot for the whole feed
        raw = Raw.over_driver(driver, dialect_name)
        store = EventStore(engine, job.registry)
        recorder = RecordedWrites(raw.dialect)
        session = job.part.open(recorder)
        feed_part(store, raw, session, job.part, job.batch_size, job.up_to)
    finally:
        driver.rollback()
        driver.close()
    del session
    for message in in_messages(recorder.writes):
        outbox.put((_WRITES, message))
    outbox.put((_DONE, None))


def worker_count(requested: int | None) -> int:
    """The processes a rebuild folds its parts in: `requested`, or one per core up to
    DEFAULT_WORKERS_AT_MOST — or only this one, if a spawned worker could not start
    (see can_spawn)."""
    if requested is not None:
        count = max(1, requested)
    else:
        try:
            cores = len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            cores = os.cpu_count() or 1
        count = max(1, min(cores, DEFAULT_WORKERS_AT_MOST))
    # Asked only when workers would be spawned: one process needs no main module.
    return count if count == 1 or can_spawn() else 1


def can_spawn() -> bool:
    """Whether a spawned process can import this program's main module again, as it
    must before it runs anything: not when the program was read from standard input
    (`python - <<EOF`), whose "file" does not exist — a worker would die at once."""
    from multiprocessing import spawn  # noqa: PLC0415 - for rebuilds only

    main_path = spawn.get_preparation_data("nhiemvu").get("init_main_from_path")
    return main_path is None or os.path.exists(main_path)


@contextmanager
def folded_elsewhere(
    url: str,
    registry: EventRegistry,
    parts: Sequence[RebuildPart],
    batch_size: int,
    up_to: int,
    workers: int,
) -> Iterator[Iterator[Writes]]:
    """The writes of `parts`, each folded in a worker process, a message at a time as
    they come (the workers go on while the caller works). A worker that fails, or
    dies, raises WorkerFailed here; then, or if the caller fails, every worker is
    stopped. Processes of our own, not a pool: a pool replaces a worker that dies
    as it starts, again and again, and its caller waits for ever."""
    if not parts:
        yield iter(())
        return
    context = multiprocessing.get_context("spawn")
    jobs, outbox = context.Queue(), context.Queue(MESSAGES_WAITING)
    processes = [
        context.Process(target=_work, args=(jobs, outbox), daemon=True)
        for _ in range(min(workers, len(parts)))
    ]
    for part in parts:
        jobs.put(DetachedJob(url, registry, part, batch_size, up_to))
    with sigint_ignored():
        for process in processes:
            jobs.put(None)
            process.start()
    stopping = True
    try:
        yield _received(outbox, processes, len(parts))
        stopping = False  # the caller took every part: the workers are on their way out
    finally:
        for process in processes:
            process.join(timeout=0 if stopping else 10)
            if process.is_alive():
                process.terminate()
                process.join()
        jobs.cancel_join_thread()  # what is left for dead workers: nobody will read it
        jobs.close()
        outbox.close()


@contextmanager
def sigint_ignored() -> Iterator[None]:
    """Processes started inside ignore Ctrl-C (an ignored signal stays ignored across
    exec, and Python then installs no handler of its own). The terminal sends SIGINT
    to the whole foreground group: the workers printed a traceback each, while the
    rebuild's own process stops them anyway when it gives up."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may change a signal's handler
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _received(outbox, processes, parts: int) -> Iterator[Writes]:
    while parts:
        try:
            kind, payload = outbox.get(timeout=0.5)
        except queue.Empty:
            stopped = [p.exitcode for p in processes if p.exitcode is not None]
            if any(stopped) or len(stopped) == len(processes):
                raise WorkerFailed(
                    "Một tiến trình dựng lại đã dừng giữa chừng (mã thoát "
                    f"{', '.join(map(str, stopped))}); hãy chạy lại với --workers 1."
                ) from None
            continue
        if kind == _FAILED:
            raise WorkerFailed(f"Một tiến trình dựng lại gặp lỗi:\n{payload}")
        if kind == _DONE:
            parts -= 1
        else:
            yield payload
