"""The daily escalation pass under APScheduler, with one leader per database.

The job lives in a persistent job store in the same database, under a fixed id
and a textual function reference, so a restart replaces it instead of adding a
second one. Only one `scheduler run` process may be the leader: on PostgreSQL a
session-level advisory lock held on a dedicated connection, on SQLite an
exclusive `flock` on a file next to the database. The others wait for it.

The leader guard is for tidiness (one log of passes, no wasted work), not for
correctness: every step has a deterministic event id and the store's append is
idempotent, so two passes at once would still raise each step once.

A day's pass is done when it has recorded itself (`escalation.pass_completed`).
APScheduler moves the stored run time to the next day as it starts a run, so a
pass cut short — the process killed, the database gone for a while — would wait a
day: the leader looks every few minutes, and as soon as it leads, for a pass due
today and not done, and runs it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from events.database import WRITE, make_engine, resolve_url
from events.errors import EventStoreError, SchemaDamaged, driver_words, explained
from events.locations import sqlite_file
from workflow.dates import LOCAL_TZ, LOCAL_TZ_NAME, format_date
from workflow.errors import DomainError

from .stop_signals import StopOnSignals

log = logging.getLogger("nhiemvu.scheduler")

JOB_ID = "nhiemvu-escalation-pass"
# The jobs take no arguments: the database's URL, password included, stays out of
# the job table (the process that leads runs them, and knows it).
JOB_FUNC = "application.scheduler:scheduled_pass"
CATCH_UP_JOB_ID = "nhiemvu-escalation-catch-up"
CATCH_UP_FUNC = "application.scheduler:catch_up"
CATCH_UP_MINUTES = 10
JOB_TABLE = "apscheduler_jobs"
# Steps a pass lists one by one in the log; a catch-up over months lists the rest
# as a number.
LOGGED_STEPS = 50
# A pass is still worth running hours late (it catches up anyway); a day late,
# the next day's pass does the same work.
MISFIRE_GRACE_SECONDS = 6 * 3600
DEFAULT_AT = "07:00"
DEFAULT_POLL_SECONDS = 5.0
# Any fixed 64-bit key; "nhiemvu1" in ASCII so it is recognisable in pg_locks.
ADVISORY_LOCK_KEY = 0x6E6869656D767531
# How long a stopping leader waits for a pass in progress before letting go.
STOP_WAIT_SECONDS = 300
# How often a leader whose SQLite file is gone looks for it again.
FILE_POLL_SECONDS = 60

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
            log.info("Bắt đầu lượt đôn đốc tính đến ngày %s.", format_date(app.today()))
            result = run_escalation_pass(app.ledger)
        except Exception as exc:  # noqa: BLE001 - log it; the next pass catches up
            _log_failure(
                f"Lượt đôn đốc thất bại; sẽ chạy bù trong vòng {CATCH_UP_MINUTES} phút.", exc
            )
            return 0
        finally:
            app.close()
    log.info(
        "Lượt đôn đốc tính đến ngày %s: đã ghi %d bước.",
        format_date(result.as_of),
        len(result.outcomes),
    )
    for outcome in result.outcomes[:LOGGED_STEPS]:
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
    if len(result.outcomes) > LOGGED_STEPS:
        log.info(
            "  … và %d bước khác (`nhiemvu task history`).", len(result.outcomes) - LOGGED_STEPS
        )
    return len(result.outcomes)


def _log_failure(what: str, exc: Exception) -> None:
    """A refusal of our own already says, in Vietnamese, what is wrong and what to do:
    its message is enough, every day it recurs; so does the driver's word for a lost
    or refused connection. Anything else is a fault to look into: its traceback too."""
    if isinstance(exc, DomainError | EventStoreError):
        log.error("%s %s", what, getattr(exc, "cause", exc))
    elif (known := explained(exc)) is not None:
        # Its cause: its advice to run the command again is not for a scheduler, which
        # runs the pass again by itself (`what` says when).
        log.error("%s %s", what, getattr(known, "cause", known))
    elif isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError):
        log.error("%s Mất kết nối cơ sở dữ liệu: %s", what, driver_words(exc))
    else:
        log.exception(what)


# -- the jobs of the leading process ---------------------------------------------------


@dataclass
class _Leading:
    """What the jobs of the process that leads need (set by run_scheduler)."""

    url: str
    actor: str
    engine: Any
    lock: LeaderLock
    at: tuple[int, int] | None  # the daily time; None on an interval
    now: Callable[[], datetime]
    lost: threading.Event = field(default_factory=threading.Event)
    scheduler: Any = None  # APScheduler's, once made
    looked: bool = False  # whether catch_up has looked at today's pass yet
    file: DatabaseFile | None = None  # SQLite's, as it was when this process came to lead


_leading: _Leading | None = None


def scheduled_pass() -> int:
    """The scheduled job: a pass, if this process still leads."""
    leading = _leading
    if leading is None or not _still_leading(leading):
        return 0
    return run_pass(leading.url, leading.actor)


def catch_up() -> int:
    """Every few minutes, and when the process comes to lead: today's pass, if it is
    due and has not completed (cut short, failed, or missed while nobody led)."""
    leading = _leading
    if leading is None or leading.at is None or _file_missing(leading):
        return 0
    now = leading.now()
    try:
        state = today_s_pass(leading.engine, now, *leading.at)
    except sa.exc.SQLAlchemyError as exc:
        _log_failure("Không kiểm tra được lượt đôn đốc hôm nay.", exc)
        return 0
    first_look, leading.looked = not leading.looked, True
    if state == "due":
        log.info("Lượt đôn đốc hôm nay (lúc %02d:%02d) chưa hoàn tất: chạy bù ngay.", *leading.at)
        return scheduled_pass()
    if first_look:
        said = "đã hoàn tất" if state == "done" else "chưa đến giờ"
        log.info("Lượt đôn đốc hôm nay (lúc %02d:%02d) %s.", *leading.at, said)
    return 0


def today_s_pass(engine, now: datetime, hour: int, minute: int) -> str:
    """ "done" if a pass has completed as of `now`'s day, else "due" once its time has
    come, "not_yet" before."""
    with engine.connect() as connection:
        last = connection.execute(sa.text("SELECT MAX(as_of) FROM proj_escalation_passes")).scalar()
    if last is not None:
        last_day = last if isinstance(last, date) else date.fromisoformat(str(last))
        if last_day >= now.date():
            return "done"
    return "due" if (now.hour, now.minute) >= (hour, minute) else "not_yet"


def _still_leading(leading: _Leading) -> bool:
    """Whether the leader's lock is still ours; if it was lost (its PostgreSQL session
    ended), take it again, or step down for whoever holds it now."""
    if leading.lock.still_held():
        return True
    if leading.lock.try_acquire():
        log.warning("Đã mất rồi lấy lại quyền chạy (%s).", leading.lock.description)
        return True
    log.error(
        "Mất quyền chạy (%s): một tiến trình khác đang là bộ lập lịch chính. Tiến trình "
        "này thôi chạy lượt đôn đốc và chờ.",
        leading.lock.description,
    )
    _start_over(leading)
    return False


def _shut_down(scheduler) -> None:
    """Stop a running scheduler; one not running yet is stopped by its start listener.
    A signal and a start, or a signal and the lock lost, may both come to stop it."""
    from apscheduler.schedulers import SchedulerNotRunningError
    from apscheduler.schedulers.base import STATE_STOPPED

    if scheduler.state != STATE_STOPPED:
        with contextlib.suppress(SchedulerNotRunningError):  # the other one was first
            scheduler.shutdown(wait=False)


def _start_over(leading: _Leading) -> None:
    """Stop this scheduler; run_scheduler then waits to lead, and leads with a new one."""
    leading.lost.set()
    if leading.scheduler is not None:
        with contextlib.suppress(Exception):  # already stopping
            leading.scheduler.shutdown(wait=False)


# -- the SQLite file -------------------------------------------------------------------


class DatabaseFile:
    """The SQLite file the leader came to lead on. SQLite creates a file it is asked
    to open when it is not there, and a connection kept open goes on with the file it
    opened: a file removed under the daemon came back empty (and the log said the
    schema had been changed by hand), and one put in its place (a backup restored)
    was not the one the kept connections read."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.identity = self._identity()
        self.said_gone = False

    def _identity(self) -> tuple[int, int] | None:
        try:
            found = os.stat(self.path)
        except FileNotFoundError:
            return None
        return found.st_dev, found.st_ino

    def state(self) -> str:
        """ "same", "gone", or "replaced" (another file under its name)."""
        now = self._identity()
        if now is None:
            return "gone"
        return "same" if now == self.identity else "replaced"


def _file_missing(leading: _Leading) -> bool:
    """Whether the leader must leave the database alone: its SQLite file is gone
    (said once; nothing opens it, so nothing creates it), or replaced (the
    scheduler starts over on the new file, with new connections)."""
    file = leading.file
    state = "same" if file is None else file.state()
    if state == "gone":
        if not file.said_gone:
            file.said_gone = True
            log.error(
                "Tệp cơ sở dữ liệu SQLite '%s' không còn (bị xóa, đổi tên hay chuyển đi?): "
                "bộ lập lịch không chạy lượt đôn đốc và không tạo tệp mới thay nó. Hãy đặt "
                "lại tệp (ví dụ khôi phục từ bản sao lưu); bộ lập lịch kiểm tra lại sau mỗi "
                "%d giây.",
                file.path,
                FILE_POLL_SECONDS,
            )
        return True
    if state == "replaced":
        if not leading.lost.is_set():
            log.warning(
                "Tệp cơ sở dữ liệu SQLite '%s' đã được thay bằng một tệp khác (khôi phục từ "
                "bản sao lưu?): khởi động lại bộ lập lịch trên tệp mới.",
                file.path,
            )
            leading.engine.dispose()  # the kept connections are to the file that was
            _start_over(leading)
        return True
    return False


# -- the leader guard ------------------------------------------------------------------


class LeaderLock(Protocol):
    description: str

    def try_acquire(self) -> bool: ...

    def still_held(self) -> bool: ...

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

    def still_held(self) -> bool:
        """Whether our session still holds the lock: it dies with the session (the
        server restarted, the connection was cut or terminated) and nobody says so."""
        if self.connection is None:
            return False
        query = sa.text(
            "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND pid = pg_backend_pid() AND classid = :high AND objid = :low AND objsubid = 1"
        )
        try:
            held = self.connection.execute(
                query, {"high": self.key >> 32, "low": self.key & 0xFFFFFFFF}
            ).scalar()
        except sa.exc.SQLAlchemyError:
            self._close()
            return False
        return bool(held)

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

    def still_held(self) -> bool:
        return self.fd is not None  # the kernel keeps a flock while the file is open

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
        # The file, not the name it was given: a second path to it (a link, a relative
        # path from elsewhere) must find the same lock.
        path = Path(os.path.realpath(database))
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


class _PatientJobStore:
    """Builds APScheduler's SQLAlchemy job store, made to outlast a database it cannot
    write for a while (a write lock held past the busy timeout by an import, a
    rebuild or a sqlite3 session; a full disk). APScheduler writes a job as it adds
    it and its next run time as it starts a run, outside any error handling: such a
    write refused at start ended the daemon, and one refused later left the old run
    time in the table, so the job was due again at once, and ran again and again,
    each time the write failed. A job the store cannot write is kept here, its run
    time read from here, until a write of it succeeds."""

    @staticmethod
    def create(engine):
        from apscheduler.jobstores.base import JobLookupError
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

        class PatientJobStore(SQLAlchemyJobStore):
            def __init__(self, *args, **kwargs) -> None:
                super().__init__(*args, **kwargs)
                self.unsaved: dict[str, Any] = {}  # job id -> the job as it should be

            def get_due_jobs(self, now):
                leading = _leading
                if leading is not None and _file_missing(leading):
                    return []
                self._save_unsaved()
                try:
                    stored = super().get_due_jobs(now)
                except sa.exc.SQLAlchemyError as exc:
                    # The database was made anew under the daemon (dropped, then
                    # `nhiemvu init`): a new scheduler writes its jobs again.
                    leading = _leading
                    if (
                        JOB_TABLE in str(getattr(exc, "orig", exc))
                        and isinstance(explained(exc), SchemaDamaged)
                        and leading is not None
                    ):
                        log.warning(
                            "Bảng lịch chạy %s không còn (cơ sở dữ liệu vừa được tạo lại?): "
                            "khởi động lại bộ lập lịch.",
                            JOB_TABLE,
                        )
                        _start_over(leading)
                    raise
                _JobsUnread.read_again()
                kept = [job for job in self.unsaved.values() if job.next_run_time is not None]
                due = [job for job in stored if job.id not in self.unsaved]
                due += [job for job in kept if job.next_run_time <= now]
                return sorted(due, key=lambda job: job.next_run_time)

            def get_next_run_time(self):
                leading = _leading
                if leading is not None and _file_missing(leading):
                    return datetime.now(LOCAL_TZ) + timedelta(seconds=FILE_POLL_SECONDS)
                if not self.unsaved:
                    return super().get_next_run_time()
                jobs = [job for job in self._get_jobs() if job.id not in self.unsaved]
                times = [job.next_run_time for job in [*jobs, *self.unsaved.values()]]
                return min((time for time in times if time is not None), default=None)

            def add_job(self, job):
                try:
                    super().add_job(job)
                except sa.exc.SQLAlchemyError as exc:
                    self._keep(job, exc)

            def update_job(self, job):
                try:
                    super().update_job(job)
                except sa.exc.SQLAlchemyError as exc:
                    self._keep(job, exc)
                else:
                    self.unsaved.pop(job.id, None)

            def remove_job(self, job_id):
                self.unsaved.pop(job_id, None)
                super().remove_job(job_id)

            def _keep(self, job, exc) -> None:
                if not self.unsaved:  # once, not at each run until it can write
                    log.warning(
                        "Không ghi được lịch chạy vào cơ sở dữ liệu (%s); bộ lập lịch giữ "
                        "lịch trong bộ nhớ và ghi lại khi cơ sở dữ liệu cho phép.",
                        explained(exc) or driver_words(exc),
                    )
                self.unsaved[job.id] = job

            def _save_unsaved(self) -> None:
                for job in list(self.unsaved.values()):
                    try:
                        try:
                            super().update_job(job)
                        except JobLookupError:  # its first write was refused
                            super().add_job(job)
                    except sa.exc.SQLAlchemyError:
                        return  # the database still refuses: the next wake-up tries again
                    del self.unsaved[job.id]
                    if not self.unsaved:
                        log.info("Đã ghi được lịch chạy vào cơ sở dữ liệu.")

        return PatientJobStore(engine=engine, tablename=JOB_TABLE)


def create_job_table(url: str) -> None:
    """APScheduler's job table, as its job store defines it, if it is not there.

    The job store creates it when the daemon starts: on PostgreSQL 15 a role that
    does not own the database may not (`permission denied for schema public`).
    `nhiemvu init`, run by one that may, creates it beside the schema; the daemon
    then needs rights on rows alone. Alembic leaves it out (migrations.env)."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    from migrations import lock_schema

    engine = make_engine(url)
    try:
        table = SQLAlchemyJobStore(engine=engine, tablename=JOB_TABLE).jobs_t
        # A write transaction from its start (BEGIN IMMEDIATE on SQLite): one that read
        # first and then created the table was refused at once by another init's.
        with engine.connect().execution_options(**{WRITE: True}) as connection, connection.begin():
            lock_schema(connection)  # another `init` at once would create it too
            table.create(connection, checkfirst=True)
    finally:
        engine.dispose()


# A logger's filters see only what is logged on it, not what its children pass up.
_APSCHEDULER_LOGGERS = ("apscheduler", "apscheduler.scheduler", "apscheduler.executors.default")


class _JobsUnread:
    """Whether the job store's last read failed. APScheduler tries again every 10 s
    and warns each time: 360 lines an hour while a server is down. Said once, and
    once when the jobs are read again."""

    failing = False

    @classmethod
    def read_again(cls) -> None:
        if cls.failing:
            cls.failing = False
            log.info("Đã đọc lại được lịch chạy từ cơ sở dữ liệu.")


class _ApschedulerInVietnamese(logging.Filter):
    """APScheduler's warnings said in Vietnamese, the driver's reason in a line."""

    def filter(self, record: logging.LogRecord) -> bool:
        template = str(record.msg)
        if template.startswith("Error getting due jobs from job store"):
            if _JobsUnread.failing:
                return False  # said already (_JobsUnread)
            _JobsUnread.failing = True
            reason = record.args[-1] if record.args else ""
            known = explained(reason) if isinstance(reason, BaseException) else None
            record.msg = (
                "Không đọc được lịch chạy từ cơ sở dữ liệu (%s); thử lại sau mỗi ít giây, "
                "báo lại khi đọc được."
            )
            record.args = (getattr(known, "cause", known) or driver_words(reason),)
        elif template.startswith("Execution of job") and "maximum number" in template:
            record.msg, record.args = "Bỏ qua một lần chạy: lượt đôn đốc trước chưa xong.", ()
        elif template.startswith("Run time of job"):
            record.msg = "Lượt đôn đốc chạy trễ %s so với lịch."
            record.args = record.args[-1:] if record.args else ("?",)
        return True


def run_scheduler(
    url: str | None,
    actor: str,
    at: str = DEFAULT_AT,
    once_now: bool = False,
    interval_seconds: float | None = None,
    poll_seconds: float = DEFAULT_POLL_SECONDS,
    now: Callable[[], datetime] = lambda: datetime.now(LOCAL_TZ),
) -> int:
    """Lead (or wait to lead) and run the daily pass until SIGINT/SIGTERM. A leader
    that finds its lock taken by another steps down and waits again. Returns 0."""
    import migrations
    from events.database import require_schema

    global _leading
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
    in_vietnamese = _ApschedulerInVietnamese()
    _JobsUnread.failing = False  # nothing said yet in this run
    for name in _APSCHEDULER_LOGGERS:
        logging.getLogger(name).addFilter(in_vietnamese)

    def on_signal(signum: int) -> None:
        # On the relay thread of StopOnSignals, never in the handler itself.
        log.info("Nhận tín hiệu %s: dừng bộ lập lịch.", signal.Signals(signum).name)
        stop.set()
        leading = _leading
        if leading is not None and leading.scheduler is not None:
            _shut_down(leading.scheduler)

    try:
        with StopOnSignals(on_signal):
            while wait_for_leadership(lock, stop, poll_seconds):
                leading = _Leading(
                    url, actor, engine, lock, None if interval_seconds else (hour, minute), now
                )
                if (path := sqlite_file(url)) is not None:
                    leading.file = DatabaseFile(path)
                _leading = leading
                try:
                    _lead(leading, stop, once_now, interval_seconds)
                finally:
                    _leading = None
                    lock.release()
                    log.info("Đã nhả quyền chạy (%s).", lock.description)
                if not leading.lost.is_set():
                    break
                once_now = False
    finally:
        for name in _APSCHEDULER_LOGGERS:
            logging.getLogger(name).removeFilter(in_vietnamese)
        engine.dispose()
    return 0


def _lead(leading: _Leading, stop: threading.Event, once_now: bool,
          interval_seconds: float | None) -> None:  # fmt: skip
    """Run the scheduler while this process leads: until a signal, or the lock lost."""
    from apscheduler.events import EVENT_SCHEDULER_STARTED
    from apscheduler.schedulers.blocking import BlockingScheduler
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    if interval_seconds:
        trigger = IntervalTrigger(seconds=interval_seconds, timezone=LOCAL_TZ_NAME)
        plan = f"mỗi {interval_seconds:g} giây"
    else:
        hour, minute = leading.at
        trigger = CronTrigger(hour=hour, minute=minute, timezone=LOCAL_TZ_NAME)
        plan = f"hằng ngày lúc {hour:02d}:{minute:02d} (giờ Việt Nam)"
    scheduler = BlockingScheduler(
        timezone=LOCAL_TZ_NAME,
        # Same database, same engine settings as the store (SQLite busy timeout,
        # WAL), so the job store waits for a writer instead of failing at once.
        jobstores={"default": _PatientJobStore.create(leading.engine)},
    )

    def on_started(_event):
        # A signal that came before the scheduler was running found nothing to shut
        # down; honour it now.
        if stop.is_set():
            _shut_down(scheduler)

    scheduler.add_listener(on_started, EVENT_SCHEDULER_STARTED)
    common = {"replace_existing": True, "coalesce": True, "max_instances": 1}
    scheduler.add_job(
        JOB_FUNC,
        trigger=trigger,
        id=JOB_ID,
        name="Lượt đôn đốc nhiệm vụ",
        misfire_grace_time=MISFIRE_GRACE_SECONDS,
        **({"next_run_time": leading.now()} if once_now else {}),
        **common,
    )
    if leading.at is not None:
        # First at once: a pass due today and not completed runs as soon as we lead.
        scheduler.add_job(
            CATCH_UP_FUNC,
            trigger=IntervalTrigger(minutes=CATCH_UP_MINUTES, timezone=LOCAL_TZ_NAME),
            id=CATCH_UP_JOB_ID,
            name="Chạy bù lượt đôn đốc trong ngày",
            next_run_time=leading.now(),
            misfire_grace_time=None,
            **common,
        )
    leading.scheduler = scheduler
    if stop.is_set():
        return
    log.info("Bộ lập lịch bắt đầu: lượt đôn đốc %s.", plan)
    try:
        scheduler.start()  # blocks until a signal, or the lock lost, shuts it down
    finally:
        if not _pass_lock.acquire(blocking=False):
            log.info("Đang chờ lượt đôn đốc đang chạy ghi xong…")
            if not _pass_lock.acquire(timeout=STOP_WAIT_SECONDS):
                log.warning("Lượt đôn đốc đang chạy chưa xong; vẫn nhả quyền chạy.")
            else:
                _pass_lock.release()
        else:
            _pass_lock.release()
        log.info("Bộ lập lịch đã dừng.")
