"""`nhiemvu scheduler run`: one leader per database, a persistent job, clean stops.

The process tests start real `scheduler run` processes with a hidden one-second
interval trigger and read their logs. Every wait is bounded by a timeout and the
assertions are about what the logs and the database show, never about how long
anything took.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from application.app import App, initialise
from application.escalation import run_escalation_pass
from application.ledger import DeadlineInput
from application.scheduler import (
    CATCH_UP_FUNC,
    CATCH_UP_JOB_ID,
    JOB_FUNC,
    JOB_ID,
    JOB_TABLE,
    MISFIRE_GRACE_SECONDS,
    FileLeaderLock,
    PostgresLeaderLock,
    _ApschedulerInVietnamese,
    _PatientJobStore,
    create_job_table,
    leader_lock_for,
    parse_time,
    run_pass,
    run_scheduler,
    today_s_pass,
)
from events import errors
from events.catalog import REGISTRY
from events.database import make_engine
from events.store import EventStore
from workflow.dates import LOCAL_TZ
from workflow.errors import DomainError

REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 90  # seconds; generous for a loaded CI machine, never reached when all is well
PASS_LINE = "Lượt đôn đốc tính đến ngày"
WAITING = "Đang chờ"
LEADING = "Đã nhận quyền chạy"


# -- pieces ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,expected", [("07:00", (7, 0)), ("6:30", (6, 30)), ("23:59", (23, 59))]
)
def test_parse_time(text, expected):
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["24:00", "7h", "07:60", "", "07:00:00"])
def test_parse_time_refuses_nonsense(text):
    with pytest.raises(DomainError, match="HH:MM"):
        parse_time(text)


def test_file_lock_admits_one_holder_at_a_time(tmp_path):
    path = tmp_path / "x.db.scheduler.lock"
    first, second = FileLeaderLock(path), FileLeaderLock(path)
    try:
        assert first.try_acquire()
        assert not second.try_acquire()
        assert path.read_text().strip() == str(os.getpid())
        first.release()
        assert second.try_acquire()
        assert not first.try_acquire()
    finally:
        first.release()
        second.release()


def test_lock_choice_follows_the_database(tmp_path):
    lock = leader_lock_for(f"sqlite:///{tmp_path / 'nv.db'}")
    assert isinstance(lock, FileLeaderLock)
    assert lock.path == tmp_path / "nv.db.scheduler.lock"
    assert isinstance(leader_lock_for(str(tmp_path / "bare.db")), FileLeaderLock)
    with pytest.raises(DomainError, match="SQLite dạng tệp"):
        leader_lock_for("sqlite://")
    lock = leader_lock_for("postgresql://postgres@127.0.0.1:5432/x")
    assert isinstance(lock, PostgresLeaderLock)
    lock.release()


def test_the_lock_file_is_the_database_file_s_whatever_path_names_it(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "nv.db").touch()
    (tmp_path / "elsewhere" / "nv.db").symlink_to(tmp_path / "nv.db")
    direct = leader_lock_for(f"sqlite:///{tmp_path / 'nv.db'}")
    linked = leader_lock_for(f"sqlite:///{tmp_path / 'elsewhere' / 'nv.db'}")
    assert direct.path == linked.path == tmp_path / "nv.db.scheduler.lock"


def test_a_postgres_leader_knows_when_its_session_was_cut(postgres_server):
    url = postgres_server.new_database()
    lock = PostgresLeaderLock(url)
    admin = make_engine(url, isolation_level="AUTOCOMMIT")
    try:
        assert lock.try_acquire() and lock.still_held()
        pid = lock.connection.execute(sa.text("SELECT pg_backend_pid()")).scalar()
        with admin.connect() as connection:
            connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        assert not lock.still_held()
        assert lock.try_acquire() and lock.still_held()  # on a session of its own again
    finally:
        lock.release()
        admin.dispose()


def test_postgres_advisory_lock_admits_one_session_at_a_time(postgres_server):
    url = postgres_server.new_database()
    first, second = PostgresLeaderLock(url), PostgresLeaderLock(url)
    try:
        assert first.try_acquire()
        assert not second.try_acquire()
        first.release()
        assert second.try_acquire()
    finally:
        first.release()
        second.release()


def seed(db_url: str, tasks: int = 1) -> None:
    app = App(db_url, "tester")
    try:
        ledger = app.ledger
        ledger.register_agency("SXD", "Sở Xây dựng", "so")
        ledger.register_directive(
            "02/CT-UBND", datetime(2024, 1, 2).date(), "Chỉ thị năm 2024", None, None
        )
        for i in range(tasks):
            ledger.assign_task(
                "02/CT-UBND",
                f"Nhiệm vụ {i}",
                ["SXD"],
                DeadlineInput("date", datetime(2024, 3, 5 + i).date()),
                assigned_on=datetime(2024, 2, 1).date(),
                task_id=f"S{i}",
            )
    finally:
        app.close()


def escalated(db_url: str) -> list:
    engine = make_engine(db_url)
    try:
        return [e for e in EventStore(engine, REGISTRY).read_all() if e.type == "task.escalated"]
    finally:
        engine.dispose()


def test_run_pass_raises_and_logs_in_vietnamese(db_url, caplog):
    seed(db_url)
    with caplog.at_level(logging.INFO, logger="nhiemvu.scheduler"):
        assert run_pass(db_url, "scheduler") == 4
        assert run_pass(db_url, "scheduler") == 0
    messages = [r.getMessage() for r in caplog.records]
    assert any("đã ghi 4 bước" in m for m in messages)
    assert any("S0 — Đôn đốc: quá hạn 1 ngày (mức 1), đến hạn 06/03/2024" in m for m in messages)
    assert any("đã ghi 0 bước" in m for m in messages)
    assert {e.actor for e in escalated(db_url)} == {"scheduler"}


def test_run_pass_survives_a_bad_database(tmp_path, caplog):
    with caplog.at_level(logging.ERROR, logger="nhiemvu.scheduler"):
        assert run_pass(f"sqlite:///{tmp_path / 'none.db'}", "scheduler") == 0
    (record,) = caplog.records
    assert "không mở được cơ sở dữ liệu" in record.getMessage()
    # The store's own refusal says what to do ("nhiemvu init"): no traceback with it.
    assert "init" in record.getMessage() and record.exc_info is None
    assert not (tmp_path / "none.db").exists()  # and no empty database in its place


def test_log_lines_are_on_the_secretariat_s_clock():
    """Whatever the server's time zone: 23:30 UTC is 06:30 the next day in Hải Phòng."""
    from cli_escalation import _secretariat_log_format

    formatter = _secretariat_log_format()
    record = logging.LogRecord("nhiemvu.scheduler", logging.WARNING, __file__, 1, "Chậm", (), None)
    record.created = datetime(2026, 12, 4, 23, 30, 5, tzinfo=UTC).timestamp()
    assert formatter.format(record) == "05/12/2026 06:30:05 CẢNH BÁO Chậm"
    record.levelno = logging.INFO
    assert formatter.format(record) == "05/12/2026 06:30:05 Chậm"


# -- a signal wherever it lands ----------------------------------------------------------


class _TrippingLock:
    """A lock that raises, instead of hanging for ever, when the thread holding it
    takes it again; and that can raise a signal just after it is taken, so that the
    handler runs where a real one may: between two bytecodes of the code holding it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owner: int | None = None
        self.trip: int | None = None  # the signal to raise after the next acquire

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        me = threading.get_ident()
        if blocking and self._owner == me:
            raise AssertionError("a signal handler waited for a lock its own thread held")
        taken = self._lock.acquire(blocking, timeout)
        if taken:
            self._owner = me
            signum, self.trip = self.trip, None
            if signum is not None:
                signal.raise_signal(signum)  # handled before this returns
        return taken

    def release(self) -> None:
        self._owner = None
        self._lock.release()

    __enter__ = acquire

    def __exit__(self, *exc) -> None:
        self.release()


class _TrippingEvent(threading.Event):
    """An Event whose next timed waits on the main thread each receive a signal of
    `armed` while they hold the event's own lock."""

    armed: list[int] = []

    def __init__(self) -> None:
        super().__init__()
        self._cond = threading.Condition(_TrippingLock())

    def wait(self, timeout: float | None = None) -> bool:
        on_main = threading.current_thread() is threading.main_thread()
        if timeout is not None and on_main and _TrippingEvent.armed:
            self._cond._lock.trip = _TrippingEvent.armed.pop(0)
        return super().wait(timeout)


def test_a_signal_amid_the_wait_to_lead_stops_the_scheduler(db_url, monkeypatch, caplog):
    """SIGTERM handled while the waiting loop's `stop.wait` held its event's lock: the
    handler set that event, waited for the lock, and the process hung for ever."""
    holder = leader_lock_for(db_url)
    assert holder.try_acquire()
    monkeypatch.setattr(threading, "Event", _TrippingEvent)
    monkeypatch.setattr(_TrippingEvent, "armed", [signal.SIGTERM])
    try:
        with caplog.at_level(logging.INFO, logger="nhiemvu.scheduler"):
            assert run_scheduler(db_url, "scheduler", interval_seconds=3600, poll_seconds=0.05) == 0
    finally:
        holder.release()
    assert _TrippingEvent.armed == []  # delivered
    text = caplog.text
    assert "Nhận tín hiệu SIGTERM: dừng bộ lập lịch." in text
    assert WAITING in text and LEADING not in text


def test_a_signal_amid_the_leader_s_wait_stops_the_scheduler(db_url, monkeypatch, caplog):
    """SIGINT handled while APScheduler's main loop held its wake-up event's lock: the
    handler's `shutdown` set that event, and the leader never stopped."""
    from apscheduler.schedulers import blocking

    monkeypatch.setattr(blocking, "Event", _TrippingEvent)
    monkeypatch.setattr(_TrippingEvent, "armed", [signal.SIGINT])
    with caplog.at_level(logging.INFO, logger="nhiemvu.scheduler"):
        assert run_scheduler(db_url, "scheduler", interval_seconds=3600, poll_seconds=0.05) == 0
    assert _TrippingEvent.armed == []
    text = caplog.text
    assert LEADING in text and "Nhận tín hiệu SIGINT: dừng bộ lập lịch." in text
    assert "Bộ lập lịch đã dừng." in text and "Đã nhả quyền chạy" in text
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_signals_relayed_off_the_main_thread_are_refused_leaving_no_relay_running():
    """Only the main thread may set signal handlers: entered on another, the relay
    says so (ValueError) — and its thread, started first, was left waiting for ever."""
    from application.stop_signals import StopOnSignals

    refused = []

    def enter() -> None:
        try:
            with StopOnSignals(lambda signum: None):
                pass
        except ValueError as exc:
            refused.append(exc)

    before = set(threading.enumerate())
    elsewhere = threading.Thread(target=enter)
    elsewhere.start()
    elsewhere.join(30)
    assert refused
    left = [t.name for t in set(threading.enumerate()) - before if t.is_alive()]
    assert left == []


def test_a_relay_that_cannot_start_leaves_the_handlers_as_they_were(monkeypatch):
    """No thread to be had (a process at its limit): the signals must still stop the
    process as before, not be noted for a relay that never runs."""
    from application.stop_signals import StopOnSignals

    def no_thread(self) -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", no_thread)
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    with pytest.raises(RuntimeError), StopOnSignals(lambda signum: None):
        pass
    assert {s: signal.getsignal(s) for s in before} == before


# -- real processes --------------------------------------------------------------------


class Scheduler:
    """One `nhiemvu … scheduler run` process, its output in a log file."""

    def __init__(self, db_url: str, log: Path, *args: str, prelude: str = "") -> None:
        self.log = log
        code = prelude + "import cli; cli.main()"
        command = [sys.executable, "-c", code, "--db", db_url, "scheduler", "run", *args]
        env = dict(os.environ, PYTHONPATH=str(REPO))
        with log.open("w") as out:
            self.process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=REPO
            )

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8") if self.log.exists() else ""

    def passes(self) -> int:
        return self.text().count(PASS_LINE)

    def wait_for(self, predicate, what: str) -> None:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if predicate():
                return
            if self.process.poll() is not None and not predicate():
                pytest.fail(
                    f"scheduler exited ({self.process.returncode}) before {what}:\n{self.text()}"
                )
            time.sleep(0.1)
        pytest.fail(f"timed out waiting for {what}:\n{self.text()}")

    def stop(self, sig=signal.SIGTERM) -> int:
        self.process.send_signal(sig)
        return self.process.wait(timeout=TIMEOUT)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=TIMEOUT)


FAST = ("--interval-seconds", "1", "--poll-seconds", "0.2")


@pytest.fixture
def processes():
    started: list[Scheduler] = []
    yield started
    for scheduler in started:
        scheduler.kill()


def test_second_scheduler_waits_then_takes_over(db_url, tmp_path, processes):
    seed(db_url, tasks=3)
    first = Scheduler(db_url, tmp_path / "first.log", *FAST, "--once-now")
    processes.append(first)
    first.wait_for(lambda: first.passes() >= 1, "the first pass")

    second = Scheduler(db_url, tmp_path / "second.log", *FAST)
    processes.append(second)
    second.wait_for(lambda: WAITING in second.text(), "the second to say it waits")
    # The leader keeps running passes while the second one waits…
    seen = first.passes()
    first.wait_for(lambda: first.passes() >= seen + 2, "two more passes of the leader")
    # …and the second has run none.
    assert second.passes() == 0 and LEADING not in second.text()

    assert first.stop(signal.SIGTERM) == 0
    assert "Đã nhả quyền chạy" in first.text()
    stamp = datetime.strptime(first.text()[:19], "%d/%m/%Y %H:%M:%S")
    assert abs(stamp - datetime.now(LOCAL_TZ).replace(tzinfo=None)) < timedelta(minutes=10)
    second.wait_for(lambda: second.passes() >= 1, "the second to take over and run a pass")
    assert LEADING in second.text()
    assert second.stop(signal.SIGINT) == 0

    # Each step once, whoever ran it: 3 tasks × 4 steps.
    events = escalated(db_url)
    keys = [(e.stream_id, e.data["step"], e.data["deadline"]) for e in events]
    assert len(keys) == len(set(keys)) == 12
    assert "đã ghi 12 bước" in first.text()

    # One persisted job under the fixed id, referencing the job function by text.
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text(f"SELECT id, job_state FROM {JOB_TABLE}")).all()
    finally:
        engine.dispose()
    assert [r.id for r in rows] == [JOB_ID]
    state = pickle.loads(rows[0].job_state)
    assert state["func"] == JOB_FUNC
    # No URL in the job table: a password in it would be in every dump.
    assert state["args"] == () and db_url.encode() not in rows[0].job_state
    assert state["coalesce"] is True
    assert state["misfire_grace_time"] == MISFIRE_GRACE_SECONDS


def test_a_waiting_scheduler_stops_cleanly_without_ever_leading(db_url, tmp_path, processes):
    seed(db_url)
    first = Scheduler(db_url, tmp_path / "first.log", *FAST)
    processes.append(first)
    first.wait_for(lambda: LEADING in first.text(), "the first to lead")
    second = Scheduler(db_url, tmp_path / "second.log", *FAST)
    processes.append(second)
    second.wait_for(lambda: WAITING in second.text(), "the second to say it waits")
    assert second.stop(signal.SIGTERM) == 0
    assert LEADING not in second.text() and second.passes() == 0
    assert first.process.poll() is None  # the leader is unaffected
    assert first.stop(signal.SIGINT) == 0


def test_a_pass_due_today_and_not_completed_runs_as_soon_as_one_leads(db_url, tmp_path, processes):
    """Missed while nobody led, or cut short (the process killed, the database gone):
    either way no pass has completed today; APScheduler has moved its own run time to
    tomorrow already, so the leader looks for the day's completed pass instead."""
    seed(db_url)
    daily = ("--at", "00:00", "--poll-seconds", "0.2")  # due since midnight
    first = Scheduler(db_url, tmp_path / "first.log", *daily)
    processes.append(first)
    first.wait_for(lambda: first.passes() >= 1, "the catch-up pass")
    assert "Lượt đôn đốc hôm nay (lúc 00:00) chưa hoàn tất: chạy bù ngay." in first.text()
    assert "hằng ngày lúc 00:00" in first.text() and "đã ghi 4 bước" in first.text()
    assert first.stop() == 0

    # Today's pass has completed: the next leader says so and runs none.
    again = Scheduler(db_url, tmp_path / "again.log", *daily)
    processes.append(again)
    again.wait_for(lambda: "Lượt đôn đốc hôm nay (lúc 00:00) đã hoàn tất." in again.text(),
                   "the leader to find today's pass done")  # fmt: skip
    assert again.passes() == 0
    assert again.stop() == 0
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            ids = connection.execute(sa.text(f"SELECT id FROM {JOB_TABLE} ORDER BY id")).scalars()
            assert list(ids) == sorted([JOB_ID, CATCH_UP_JOB_ID])
    finally:
        engine.dispose()
    assert CATCH_UP_FUNC.endswith(":catch_up")


def test_today_s_pass_is_due_from_its_time_until_one_completes(db_url):
    seed(db_url)
    now = datetime.now(LOCAL_TZ)
    engine = make_engine(db_url)
    try:
        before = now.replace(hour=6, minute=59)
        at_seven = now.replace(hour=7, minute=0)
        assert today_s_pass(engine, before, 7, 0) == "not_yet"
        assert today_s_pass(engine, at_seven, 7, 0) == "due"
        app = App(db_url, "scheduler")
        try:
            run_escalation_pass(app.ledger, now.date() - timedelta(days=1))
            assert today_s_pass(engine, at_seven, 7, 0) == "due"  # yesterday's is not today's
            run_escalation_pass(app.ledger, now.date())
        finally:
            app.close()
        assert today_s_pass(engine, at_seven, 7, 0) == "done"
        assert today_s_pass(engine, before, 7, 0) == "done"
    finally:
        engine.dispose()


def test_a_job_store_that_cannot_write_for_a_while_does_not_end_the_daemon(
    monkeypatch, caplog, tmp_path
):
    import sqlite3

    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    def locked(self, job):
        raise sa.exc.OperationalError("UPDATE apscheduler_jobs", {}, sqlite3.OperationalError(
            "database is locked"))  # fmt: skip

    monkeypatch.setattr(SQLAlchemyJobStore, "update_job", locked)
    engine = make_engine(f"sqlite:///{tmp_path / 'nv.db'}")
    try:
        store = _PatientJobStore.create(engine)
        job = SimpleNamespace(id=JOB_ID)
        with caplog.at_level(logging.WARNING, logger="nhiemvu.scheduler"):
            store.update_job(job)  # logged, not raised
    finally:
        engine.dispose()
    (record,) = caplog.records
    assert "Không ghi được lịch chạy vào cơ sở dữ liệu" in record.getMessage()
    assert "đang bị một tiến trình khác giữ quyền ghi" in record.getMessage()


def test_a_run_time_the_job_store_could_not_write_is_kept_until_it_can(monkeypatch, tmp_path):
    """The write of a job's next run time refused (a write lock held past the busy
    timeout, a full disk): the table kept the run time just passed, so the job was due
    again at once, and ran again at every wake-up for as long as the writes failed."""
    import sqlite3

    from apscheduler.job import Job
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.interval import IntervalTrigger

    def locked(self, job):
        raise sa.exc.OperationalError("UPDATE apscheduler_jobs", {}, sqlite3.OperationalError(
            "database is locked"))  # fmt: skip

    engine = make_engine(f"sqlite:///{tmp_path / 'nv.db'}")
    try:
        store = _PatientJobStore.create(engine)
        store.start(BackgroundScheduler(timezone=LOCAL_TZ), "default")
        now = datetime.now(LOCAL_TZ).replace(microsecond=0)
        job = Job(store._scheduler, id=JOB_ID, func=JOB_FUNC, trigger=IntervalTrigger(days=1),
                  executor="default", args=(), kwargs={}, name="pass", misfire_grace_time=60,
                  coalesce=True, max_instances=1, next_run_time=now)  # fmt: skip
        store.add_job(job)
        assert [j.id for j in store.get_due_jobs(now)] == [JOB_ID]

        # As APScheduler starts the run, it writes the next one: refused.
        tomorrow = now + timedelta(days=1)
        job._modify(next_run_time=tomorrow)
        monkeypatch.setattr(SQLAlchemyJobStore, "update_job", locked)
        store.update_job(job)
        assert store.get_due_jobs(now) == []  # not due again at once
        assert store.get_next_run_time() == tomorrow  # the next wake-up: tomorrow's run
        assert store.get_due_jobs(tomorrow)[0].next_run_time == tomorrow

        # The database writes again: the next wake-up writes the run time kept.
        monkeypatch.undo()
        store.get_due_jobs(now)
        with engine.connect() as connection:
            stored = connection.execute(sa.text(f"SELECT next_run_time FROM {JOB_TABLE}")).scalar()
        assert stored == tomorrow.timestamp()
        assert store.get_next_run_time() == tomorrow
    finally:
        engine.dispose()


@contextlib.contextmanager
def log_locked(db_url: str):
    """The log's write lock held, as an import or a forgotten sqlite3 or psql session
    holds it: the whole file on SQLite, the log's head row on PostgreSQL."""
    if db_url.startswith("sqlite"):
        import sqlite3

        holder = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection, connection.begin() as transaction:
            connection.execute(sa.text("SELECT 1 FROM event_log_head FOR UPDATE"))
            yield
            transaction.rollback()
    finally:
        engine.dispose()


# Waits of a second for a lock, and the catch-up every 0.6 s, in the process started.
SHORT_WAITS = (
    "from events import database, driver, store; import application.scheduler as s; "
    "driver.SQLITE_BUSY_TIMEOUT_S = database.SQLITE_BUSY_TIMEOUT_S = 1; "
    "store.SQLITE_BUSY_TIMEOUT_S = driver.POSTGRES_LOCK_TIMEOUT_S = 1; "
    "s.CATCH_UP_MINUTES = 0.01; "
)


def test_a_log_locked_for_long_delays_the_pass_until_it_is_free(db_url, tmp_path, processes):
    """A write lock held past the busy timeout as the scheduler starts and runs its
    pass: on SQLite its first write (its jobs) was refused and the daemon ended. Now
    it leads, says the pass was refused and why, and tries again until it runs."""
    seed(db_url)
    create_job_table(db_url)  # as `nhiemvu init` does
    with log_locked(db_url):
        daemon = Scheduler(db_url, tmp_path / "daemon.log", "--at", "00:00",
                           "--poll-seconds", "0.2", prelude=SHORT_WAITS)  # fmt: skip
        processes.append(daemon)
        daemon.wait_for(lambda: daemon.text().count("Lượt đôn đốc thất bại") >= 2,
                        "the pass refused, and refused again")  # fmt: skip
    daemon.wait_for(lambda: "đã ghi 4 bước" in daemon.text(), "the pass once the log is free")
    text = daemon.text()
    assert LEADING in text and "giữ quyền ghi quá lâu" in text
    assert "Traceback" not in text and "Mất quyền chạy" not in text
    assert daemon.stop() == 0
    assert len(escalated(db_url)) == 4


def test_an_sqlite_file_removed_is_said_gone_and_one_put_back_is_worked_on(tmp_path, processes):
    """The database file removed under the daemon: SQLite made an empty one in its
    place as the daemon looked at it again, and the log said the schema had been
    changed by hand. A backup put in its place was not what the connections kept read."""
    import sqlite3

    path = tmp_path / "nv.db"
    db_url = f"sqlite:///{path}"
    initialise(db_url)  # `nhiemvu init`
    seed(db_url)
    backup = tmp_path / "backup.db"
    with sqlite3.connect(path) as source, sqlite3.connect(backup) as copy:
        source.backup(copy)  # before any pass
    daemon = Scheduler(db_url, tmp_path / "daemon.log", "--at", "00:00", "--poll-seconds", "0.2",
                       prelude=SHORT_WAITS + "s.FILE_POLL_SECONDS = 0.2; ")  # fmt: skip
    processes.append(daemon)
    daemon.wait_for(lambda: daemon.passes() == 1, "the pass")

    for name in ("nv.db", "nv.db-wal", "nv.db-shm"):  # rm nv.db*, the lock file aside
        (tmp_path / name).unlink(missing_ok=True)
    daemon.wait_for(lambda: "không còn" in daemon.text() or "Không kiểm tra được" in daemon.text(),
                    "a word about the file gone")  # fmt: skip
    assert f"Tệp cơ sở dữ liệu SQLite '{path}' không còn" in daemon.text()
    assert not path.exists()  # no empty database in its place
    assert "lược đồ đã bị sửa" not in daemon.text()

    os.replace(backup, path)  # the backup restored: today's pass not in it
    daemon.wait_for(lambda: daemon.passes() == 2, "the pass on the file put back")
    assert "đã được thay bằng một tệp khác" in daemon.text()
    assert daemon.stop() == 0
    assert len(escalated(db_url)) == 4
    assert "Traceback" not in daemon.text()


def test_apscheduler_s_warnings_are_said_in_vietnamese():
    import sqlite3

    from application import scheduler

    scheduler._JobsUnread.failing = False  # another test's failure said

    lost = sa.exc.OperationalError("SELECT", {}, sqlite3.OperationalError("database is locked"))
    record = logging.LogRecord("apscheduler.scheduler", logging.WARNING, __file__, 1,
                               "Error getting due jobs from job store %r: %s",
                               ("default", lost), None)  # fmt: skip
    assert _ApschedulerInVietnamese().filter(record)
    message = record.getMessage()
    assert message.startswith("Không đọc được lịch chạy từ cơ sở dữ liệu (Cơ sở dữ liệu đang")
    assert "Error" not in message and "sqlalche.me" not in message
    skipped = logging.LogRecord("apscheduler.scheduler", logging.WARNING, __file__, 1,
                                'Execution of job "%s" skipped: maximum number of running '
                                "instances reached (%d)", ("x", 1), None)  # fmt: skip
    _ApschedulerInVietnamese().filter(skipped)
    assert skipped.getMessage() == "Bỏ qua một lần chạy: lượt đôn đốc trước chưa xong."


def test_a_job_store_that_cannot_be_read_is_said_once_until_it_is_read_again(caplog):
    """APScheduler retries every 10 s and warned each time: 360 lines an hour of a
    server down. The first is said, then nothing until a read succeeds, said too."""
    import sqlite3

    from application import scheduler

    lost = sa.exc.OperationalError("SELECT", {}, sqlite3.OperationalError("database is locked"))

    def warning():
        return logging.LogRecord("apscheduler.scheduler", logging.WARNING, __file__, 1,
                                 "Error getting due jobs from job store %r: %s",
                                 ("default", lost), None)  # fmt: skip

    said = _ApschedulerInVietnamese()
    scheduler._JobsUnread.failing = False  # as a run of the scheduler begins
    try:
        assert said.filter(warning())
        assert not any(said.filter(warning()) for _ in range(5))
        with caplog.at_level(logging.INFO, logger="nhiemvu.scheduler"):
            scheduler._JobsUnread.read_again()
            scheduler._JobsUnread.read_again()  # nothing failed since: nothing said
        assert [r.getMessage() for r in caplog.records] == [
            "Đã đọc lại được lịch chạy từ cơ sở dữ liệu."
        ]
        assert said.filter(warning())  # a new failure is said again
    finally:
        scheduler._JobsUnread.failing = False


def test_bad_time_is_refused(db_url, tmp_path):
    from click.testing import CliRunner

    from cli import cli

    result = CliRunner().invoke(cli, ["--db", db_url, "scheduler", "run", "--at", "7h"])
    assert result.exit_code == 1
    assert "Lỗi:" in result.stderr and "HH:MM" in result.stderr


def test_a_job_table_gone_with_its_database_starts_the_scheduler_over(
    monkeypatch, caplog, tmp_path
):
    import sqlite3

    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    import application.scheduler as scheduler

    def gone(self, now):
        raise sa.exc.OperationalError("SELECT", {}, sqlite3.OperationalError(
            f"no such table: {JOB_TABLE}"))  # fmt: skip

    class Stopped:
        stopped = False

        def shutdown(self, wait):
            Stopped.stopped = True

    monkeypatch.setattr(SQLAlchemyJobStore, "get_due_jobs", gone)
    engine = make_engine(f"sqlite:///{tmp_path / 'nv.db'}")
    leading = scheduler._Leading("url", "scheduler", engine, None, None, datetime.now)
    leading.scheduler = Stopped()
    monkeypatch.setattr(scheduler, "_leading", leading)
    try:
        store = _PatientJobStore.create(engine)
        # Raised still: APScheduler logs it, and tries again.
        with (
            caplog.at_level(logging.WARNING, logger="nhiemvu.scheduler"),
            pytest.raises(sa.exc.OperationalError),
        ):
            store.get_due_jobs(datetime.now(LOCAL_TZ))
    finally:
        engine.dispose()
    assert leading.lost.is_set() and Stopped.stopped
    assert "khởi động lại bộ lập lịch" in caplog.records[0].getMessage()


@pytest.mark.parametrize(
    "refusal",
    [
        errors.DatabaseBusy("database is locked"),
        errors.DiskFull("database or disk is full"),
        errors.DiskError("disk I/O error"),
        errors.ConnectionLost("the connection is lost"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_a_failed_pass_is_logged_without_telling_anyone_to_run_a_command_again(refusal, caplog):
    """The scheduler runs the pass again by itself, as its line says; the advice a
    person gets at the command line ("… rồi chạy lại lệnh") is not for its log."""
    from application import scheduler

    assert "chạy lại lệnh" in str(refusal)
    with caplog.at_level(logging.ERROR, logger="nhiemvu.scheduler"):
        scheduler._log_failure("Lượt đôn đốc thất bại; sẽ chạy bù trong vòng 10 phút.", refusal)
    (line,) = [r.getMessage() for r in caplog.records]
    assert line.startswith("Lượt đôn đốc thất bại; sẽ chạy bù trong vòng 10 phút. ")
    assert refusal.detail in line
    assert "chạy lại lệnh" not in line and "Lệnh không ghi gì" not in line
