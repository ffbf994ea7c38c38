"""The daily escalation pass under APScheduler, with one leader per database.

The job lives in a persistent job store in the same database, under a fixed id
and a textual function reference, so a restart replaces it instead of adding a
second one. Only one `scheduler run` process may be the leader: on PostgreSQL a
session-level advisory lock held on a dedicated connection, on SQLite an
exclusive `flock` on a file next to the database. The others wait for it.

The leader guard is for tidiness (one log of passes, no wasted work), not for
correctness: every step has a deterministic event id and the store's append is
idempotent, so two passes at once would still raise each step once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from events.database import make_engine, resolve_url
from events.errors import EventStoreError
from workflow.dates import LOCAL_TZ, LOCAL_TZ_NAME, format_date
from workflow.errors import DomainError

log = logging.getLogger("nhiemvu.scheduler")

JOB_ID = "nhiemvu-escalation-pass"
JOB_FUNC = "application.scheduler:run_pass"
JOB_TABLE = "apscheduler_jobs"
# A pass is still worth running hours late (it catches up anyway); a day late,
# the next day's pass does the same work.
MISFIRE_GRACE_SECONDS = 6 * 3600
DEFAULT_AT = "07:00"
DEFAULT_POLL_SECONDS = 5.0
# Any fixed 64-bit key; "nhiemvu1" in ASCII so it is recognisable in pg_locks.
ADVISORY_LOCK_KEY = 0x6E6869656D767531
# How long a stopping leader waits for a pass in progress before letting go.
STOP_WAIT_SECONDS = 300

# One pass at a time in this process; the leader holds it while stopping, so it
# releases leadership only after the pass in progress has committed.
_pass_lock = threading.Lock()

_TIME = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")


def parse_time(text: str) -> tuple[int, int]:
    match = _TIME.match(text or "")
    if match:
        hour, minute = int(match.group(1)), int(match.group(2))
        if hour < 24 and minute < 60:
            return hour, minute
    raise DomainError(f"Giờ chạy '{text}' không hợp lệ. Hãy nhập dạng HH:MM, ví dụ 07:00.")


# -- the job ---------------------------------------------------------------------------


def run_pass(url: str, actor: str) -> int:
    """The scheduled job: one escalation pass as of today. Returns the steps raised.

    Module level and referenced by text, so the job store can persist it.
    """
    from .app import App
    from .escalation import run_escalation_pass

    with _pass_lock:
        try:
            app = App(url, actor)
        except Exception as exc:  # noqa: BLE001 - a bad database must not kill the scheduler
            _log_failure("Lượt đôn đốc không chạy được: không mở được cơ sở dữ liệu.", exc)
            return 0
        try:
            result = run_escalation_pass(app.ledger)
        except Exception as exc:  # noqa: BLE001 - log it; the next pass catches up
            _log_failure("Lượt đôn đốc thất bại; lượt sau sẽ chạy bù.", exc)
            return 0
        finally:
            app.close()
    log.info(
        "Lượt đôn đốc tính đến ngày %s: đã ghi %d bước.",
        format_date(result.as_of),
        len(result.outcomes),
    )
    for outcome in result.outcomes:
        step = outcome.step
        log.info(
            "  %s — %s (mức %d), đến hạn %s, hạn %s, gửi %s",
            step.task_id,
            step.label,
            step.level,
            format_date(step.due_on),
            format_date(step.deadline),
            ", ".join(step.agencies),
        )
    return len(result.outcomes)


def _log_failure(what: str, exc: Exception) -> None:
    """A refusal of our own already says, in Vietnamese, what is wrong and what to do:
    its message is enough, every day it recurs. Anything else is a fault to look
    into: its traceback too."""
    if isinstance(exc, DomainError | EventStoreError):
        log.error("%s %s", what, exc)
    else:
        log.exception(what)


# -- the leader guard ------------------------------------------------------------------


class LeaderLock(Protocol):
    description: str

    def try_acquire(self) -> bool: ...

    def release(self) -> None: ...


class PostgresLeaderLock:
    """`pg_try_advisory_lock` on a connection kept open for as long as we lead.

    A session-level lock dies with its session, so a leader that crashes or loses
    its connection frees the database for the next one without any clean-up.
    """

    def __init__(self, url: str, key: int = ADVISORY_LOCK_KEY) -> None:
        self.key = key
        self.engine = make_engine(url, poolclass=sa.pool.NullPool)
        self.connection = None
        self.description = f"khóa tư vấn PostgreSQL {key}"

    def try_acquire(self) -> bool:
        try:
            if self.connection is None:
                # Autocommit: the connection must not sit "idle in transaction".
                self.connection = self.engine.connect().execution_options(
                    isolation_level="AUTOCOMMIT"
                )
            query = sa.text("SELECT pg_try_advisory_lock(:key)")
            return bool(self.connection.execute(query, {"key": self.key}).scalar())
        except sa.exc.OperationalError as exc:
            log.warning("Không kết nối được PostgreSQL để lấy quyền chạy: %s", exc.orig)
            self._close()
            return False

    def release(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(sa.exc.SQLAlchemyError):
                self.connection.execute(
                    sa.text("SELECT pg_advisory_unlock(:key)"), {"key": self.key}
                )
        self._close()
        self.engine.dispose()

    def _close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(sa.exc.SQLAlchemyError):
                self.connection.close()
            self.connection = None


class FileLeaderLock:
    """An exclusive, non-blocking `flock` on `<database>.scheduler.lock`.

    The kernel drops the lock when the process dies. The file is never deleted:
    unlinking a lock file races with a process that has just opened it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None
        self.description = f"tệp khóa {path}"

    def try_acquire(self) -> bool:
        import fcntl

        if self.fd is None:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        # Who holds it, for whoever looks at the file.
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, f"{os.getpid()}\n".encode(), 0)
        return True

    def release(self) -> None:
        if self.fd is not None:
            import fcntl

            with contextlib.suppress(OSError):
                fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


def leader_lock_for(url: str) -> LeaderLock:
    parsed = make_url(resolve_url(url))
    if parsed.get_backend_name() == "postgresql":
        return PostgresLeaderLock(parsed.render_as_string(hide_password=False))
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if not database or database == ":memory:":
            raise DomainError(
                "Bộ lập lịch cần cơ sở dữ liệu SQLite dạng tệp (không dùng cơ sở dữ liệu "
                "trong bộ nhớ), để các tiến trình dùng chung được khóa."
            )
        path = Path(database)
        return FileLeaderLock(path.with_name(path.name + ".scheduler.lock"))
    raise DomainError(f"Bộ lập lịch không hỗ trợ cơ sở dữ liệu '{parsed.get_backend_name()}'.")


def wait_for_leadership(lock: LeaderLock, stop: threading.Event, poll_seconds: float) -> bool:
    """Poll the lock until we hold it (True) or are told to stop (False)."""
    announced = False
    while not stop.is_set():
        if lock.try_acquire():
            log.info(
                "Đã nhận quyền chạy (%s): tiến trình này là bộ lập lịch chính.", lock.description
            )
            return True
        if not announced:
            log.warning(
                "Đang chờ: một tiến trình lập lịch khác đang giữ quyền chạy (%s); "
                "thử lại sau mỗi %g giây.",
                lock.description,
                poll_seconds,
            )
            announced = True
        stop.wait(poll_seconds)
    return False


# -- the scheduler ---------------------------------------------------------------------


def _stored_next_run(engine) -> datetime | None:
    """When the persisted job was next due, if there is one (before we replace it)."""
    with engine.connect() as connection:
        if not sa.inspect(connection).has_table(JOB_TABLE):
            return None
        value = connection.execute(
            sa.text(f"SELECT next_run_time FROM {JOB_TABLE} WHERE id = :id"), {"id": JOB_ID}
        ).scalar()
    return None if value is None else datetime.fromtimestamp(value, LOCAL_TZ)


def run_scheduler(
    url: str | None,
    actor: str,
    at: str = DEFAULT_AT,
    once_now: bool = False,
    interval_seconds: float | None = None,
    poll_seconds: float = DEFAULT_POLL_SECONDS,
    now: Callable[[], datetime] = lambda: datetime.now(LOCAL_TZ),
) -> int:
    """Lead (or wait to lead) and run the daily pass until SIGINT/SIGTERM. Returns 0."""
    from apscheduler.events import EVENT_SCHEDULER_STARTED
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.base import STATE_RUNNING
    from apscheduler.schedulers.blocking import BlockingScheduler
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    import migrations
    from events.database import require_schema

    url = resolve_url(url)
    hour, minute = parse_time(at)
    engine = make_engine(url)
    try:
        require_schema(engine, migrations.HEAD)  # fail now, not at 07:00
    except Exception:
        engine.dispose()
        raise
    lock = leader_lock_for(url)
    stop = threading.Event()
    holder: dict[str, BlockingScheduler] = {}

    def on_signal(signum, _frame):
        log.info("Nhận tín hiệu %s: dừng bộ lập lịch.", signal.Signals(signum).name)
        stop.set()
        scheduler = holder.get("scheduler")
        if scheduler is not None and scheduler.state == STATE_RUNNING:
            scheduler.shutdown(wait=False)

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        if not wait_for_leadership(lock, stop, poll_seconds):
            return 0
        try:
            if interval_seconds:
                trigger = IntervalTrigger(seconds=interval_seconds, timezone=LOCAL_TZ_NAME)
                plan = f"mỗi {interval_seconds:g} giây"
            else:
                trigger = CronTrigger(hour=hour, minute=minute, timezone=LOCAL_TZ_NAME)
                plan = f"hằng ngày lúc {hour:02d}:{minute:02d} (giờ Việt Nam)"
            extra = {}
            missed = _stored_next_run(engine)
            if once_now:
                extra["next_run_time"] = now()
            elif missed is not None and missed <= now():
                # replace_existing would reschedule from now on and drop the run
                # missed while no scheduler was up: run it first (the pass catches up).
                log.info(
                    "Lượt đôn đốc lúc %s bị lỡ khi không có bộ lập lịch: chạy bù ngay.",
                    missed.strftime("%H:%M ngày %d/%m/%Y"),
                )
                extra["next_run_time"] = now()
            scheduler = BlockingScheduler(
                timezone=LOCAL_TZ_NAME,
                # Same database, same engine settings as the store (SQLite busy
                # timeout, WAL), so the job store waits for a writer instead of failing.
                jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOB_TABLE)},
            )

            def on_started(_event):
                # A signal that came before the scheduler was running found nothing
                # to shut down; honour it now.
                if stop.is_set():
                    scheduler.shutdown(wait=False)

            scheduler.add_listener(on_started, EVENT_SCHEDULER_STARTED)
            scheduler.add_job(
                JOB_FUNC,
                trigger=trigger,
                args=[url, actor],
                id=JOB_ID,
                name="Lượt đôn đốc nhiệm vụ",
                replace_existing=True,
                coalesce=True,
                misfire_grace_time=MISFIRE_GRACE_SECONDS,
                max_instances=1,
                **extra,
            )
            holder["scheduler"] = scheduler
            if stop.is_set():
                return 0
            log.info("Bộ lập lịch bắt đầu: lượt đôn đốc %s.", plan)
            scheduler.start()  # blocks until a signal shuts it down
            log.info("Bộ lập lịch đã dừng.")
        finally:
            if not _pass_lock.acquire(timeout=STOP_WAIT_SECONDS):
                log.warning("Lượt đôn đốc đang chạy chưa xong; vẫn nhả quyền chạy.")
            else:
                _pass_lock.release()
            lock.release()
            log.info("Đã nhả quyền chạy (%s).", lock.description)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        engine.dispose()
    return 0
