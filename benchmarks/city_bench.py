"""A synthetic city through nhiemvu: load, rebuild, rating, escalation, CLI, and a comparison.

    python -m benchmarks.city_bench [--years 10] [--tasks-per-year 20000]
        [--backend sqlite|postgresql|all] [--scale-points 1,3,10] [--quick]
        [--repeats 3] [--profile DIR] [--json FILE] [--national]

See benchmarks/README.md for what each figure means. In short, per backend:

1. commands/s in process, one transaction per command;
2. load events/s of the city through the batch API (Ledger.batch(), validation included);
3. projection rebuild from scratch: events/s and peak memory (in a fresh child
   process: its peak RSS (VmHWM) after the rebuild minus its RSS just before);
4. `rating compute` for the last year and `report tasks` for its December;
5. the month-end escalation pass at the end of the last year;
6. wall time of whole `nhiemvu` processes: `task show ID --json`,
   `task progress …`, `--help`;
7. the same workload through the `eventsourcing` library, and the ratios;

at each scale point (1, 3 and 10 years of history by default), with the growth
exponent and slope, and the goals of issue 6 marked PASS or MISS.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import math
import os
import platform
import pstats
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from .eventsourcing_side import print_side, run_nhiemvu, side_by_side
from .workload import City, CityConfig, Command, Runner, RunStats, heap_frozen

PG_ADMIN_URL = os.environ.get(
    "NHIEMVU_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REPO = Path(__file__).resolve().parents[1]
NHIEMVU = Path(sys.executable).parent / "nhiemvu"

GOAL_RATIO = 2.0
GOAL_REBUILD_EPS = 100_000
GOAL_REBUILD_MB = 500
GOAL_RATING_S = 1.0
GOAL_ESCALATION_S = 2.0
GOAL_SHOW_S = 0.5
GOAL_HELP_S = 0.3
GOAL_EXPONENT = 1.15  # cost ∝ events^b: b ≤ 1.15 counts as linear on a noisy machine
MIN_JUDGED_S = 0.1  # below this at the largest point, growth is noise: not judged
NATIONAL_EVENTS = 10_000_000
# A first year makes ~3.5 events per task (its late-year tasks complete the next year):
# 2,000,000 tasks were 4.65 M events by the end of August, so the year needs 2.9 M.
NATIONAL_TASKS = 2_900_000
NATIONAL_SAMPLE_COMMANDS = 20_000


def say(*parts: Any) -> None:
    print(*parts, flush=True)


def log(message: str) -> None:
    print(f"  … {message}", file=sys.stderr, flush=True)


def median(values: list[float]) -> float:
    return statistics.median(values)


def nearest_rank(values: list[float], share: float) -> float:
    """The value `share` of the way up the sorted values (1: the largest)."""
    ordered = sorted(values)
    return ordered[int(share * (len(ordered) - 1))]


def spread(values: list[float], fmt: str = "{:.3f}") -> str:
    return ", ".join(fmt.format(v) for v in values)


# -- databases ------------------------------------------------------------------------------


class SqliteCity:
    backend = "sqlite"

    def __init__(self, directory: Path) -> None:
        from events.migrate import upgrade

        self.directory = directory
        self.path = directory / "city.db"
        self.url = f"sqlite:///{self.path}"
        upgrade(self.url)

    @contextmanager
    def copy(self) -> Iterator[str]:
        """A consistent copy (SQLite's online backup, WAL included)."""
        target = self.directory / f"copy-{uuid.uuid4().hex[:8]}.db"
        source = sqlite3.connect(self.path)
        destination = sqlite3.connect(target)
        try:
            source.backup(destination)
        finally:
            destination.close()
            source.close()
        try:
            yield f"sqlite:///{target}"
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)

    def size_mb(self) -> float:
        files = [self.path, Path(f"{self.path}-wal")]
        return sum(f.stat().st_size for f in files if f.exists()) / 2**20

    def drop(self) -> None:
        pass


class PostgresCity:
    backend = "postgresql"

    def __init__(self) -> None:
        from events.database import make_engine
        from events.migrate import upgrade

        self.admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        self.name = f"nhiemvu_city_{uuid.uuid4().hex[:10]}"
        self._sql(f'CREATE DATABASE "{self.name}"')
        self.url = self._url(self.name)
        upgrade(self.url)

    def _url(self, name: str) -> str:
        return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name

    def _sql(self, statement: str) -> None:
        with self.admin.connect() as connection:
            connection.exec_driver_sql(statement)

    @contextmanager
    def copy(self) -> Iterator[str]:
        """CREATE DATABASE … TEMPLATE: the caller must have closed its connections."""
        name = f"{self.name}_c{uuid.uuid4().hex[:6]}"
        self._sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{self.name}' AND pid <> pg_backend_pid()"
        )
        self._sql(f'CREATE DATABASE "{name}" TEMPLATE "{self.name}"')
        try:
            yield self._url(name)
        finally:
            self._sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def size_mb(self) -> float:
        with self.admin.connect() as connection:
            size = connection.exec_driver_sql(
                f"SELECT pg_database_size('{self.name}')"
            ).scalar_one()
        return size / 2**20

    def drop(self) -> None:
        self._sql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self.admin.dispose()


def postgres_problem() -> str | None:
    from events.database import make_engine

    try:
        engine = make_engine(PG_ADMIN_URL)
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure means "no server here"
        return f"{exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return None


def reachable_backends(choice: str) -> list[str]:
    """The backends of a `--backend` choice (sqlite, postgresql, all) this machine has:
    PostgreSQL left out, saying why, when its server does not answer."""
    backends = ["sqlite", "postgresql"] if choice == "all" else [choice]
    problem = postgres_problem() if "postgresql" in backends else None
    if problem:
        print(f"PostgreSQL not reachable, skipped: {problem}")
        backends.remove("postgresql")
    return backends


def postgres_server() -> str:
    """Its version, and whether autovacuum runs: without it nothing but a rebuild's own
    vacuum clears the row versions that the load's updates leave behind."""
    from events.database import make_engine

    engine = make_engine(PG_ADMIN_URL)
    try:
        with engine.connect() as connection:
            version = connection.exec_driver_sql("SHOW server_version").scalar_one()
            autovacuum = connection.exec_driver_sql("SHOW autovacuum").scalar_one()
    finally:
        engine.dispose()
    return f"{version}, autovacuum {autovacuum}"


# -- settings ---------------------------------------------------------------------------------


@dataclass
class Settings:
    years: int
    tasks_per_year: int
    agencies: int
    scale_points: list[int]
    backends: list[str]
    repeats: int
    rebuild_repeats: int
    cli_repeats: int
    side_tasks: int
    seed: int
    start_year: int
    quick: bool
    national: bool
    tracemalloc: bool
    profile_dir: Path | None
    json_path: Path | None
    skip_side: bool = False
    batch_size: int = 2000
    # One transaction per command for at most this many of the last month's commands
    # (a national month is ~800,000: the rest go through the batch API).
    sample_limit: int | None = None

    def city_config(self) -> CityConfig:
        return CityConfig(
            seed=self.seed,
            start_year=self.start_year,
            tasks_per_year=self.tasks_per_year,
            agencies=self.agencies,
        )


# -- measurements at one scale point ------------------------------------------------------------


@dataclass
class Point:
    years: int
    last_day: date
    events: int = 0
    tasks: int = 0
    db_mb: float = 0.0
    segment: RunStats | None = None  # the load through the batch API
    sample: RunStats | None = None  # the last month, one transaction per command
    cumulative_command_s: float = 0.0
    cumulative_command_events: int = 0
    rebuild_s: list[float] = field(default_factory=list)
    rebuild_events: int = 0
    rebuild_rss_delta_mb: list[float] = field(default_factory=list)
    rebuild_rss_peak_mb: list[float] = field(default_factory=list)
    # The rebuild's child processes (its workers and multiprocessing's resource
    # tracker), and the sum of their peaks in each run.
    rebuild_workers: int = 0
    rebuild_workers_mb: list[float] = field(default_factory=list)
    rebuild_tracemalloc_mb: float | None = None
    log_read_s: list[float] = field(default_factory=list)  # the log read alone
    rating_s: list[float] = field(default_factory=list)
    rating_heads: int = 0
    report_s: list[float] = field(default_factory=list)
    report_total: dict[str, Any] = field(default_factory=dict)
    escalation_s: list[float] = field(default_factory=list)
    escalation_steps: int = 0
    scan_s: list[float] = field(default_factory=list)
    scan_pending: int = 0

    @property
    def rebuild_eps(self) -> float:
        return self.rebuild_events / median(self.rebuild_s)

    @property
    def rebuild_memory_mb(self) -> float:
        """The worst run's peak: this process's growth and its workers' peaks."""
        runs = zip(self.rebuild_rss_delta_mb, self.rebuild_workers_mb, strict=True)
        return max(own + workers for own, workers in runs)

    @property
    def log_read_eps(self) -> float:
        return self.rebuild_events / median(self.log_read_s)


def run_rebuild_child(url: str, trace: bool = False) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.rebuild_child", url]
    if trace:
        command.append("--tracemalloc")
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"rebuild child failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_rebuild(point: Point, url: str, settings: Settings) -> None:
    for _ in range(settings.rebuild_repeats):
        result = run_rebuild_child(url)
        point.rebuild_events = result["events"]
        point.rebuild_s.append(result["seconds"])
        point.log_read_s.append(result["read_seconds"])
        point.rebuild_rss_delta_mb.append(
            (result["peak_rss_after_kib"] - result["rss_before_kib"]) / 1024
        )
        point.rebuild_workers_mb.append(sum(result["workers_peak_rss_kib"]) / 1024)
        point.rebuild_workers = len(result["workers_peak_rss_kib"])
        point.rebuild_rss_peak_mb.append(result["peak_rss_after_kib"] / 1024)
    if settings.tracemalloc:
        result = run_rebuild_child(url, trace=True)
        point.rebuild_tracemalloc_mb = result["tracemalloc_peak_bytes"] / 2**20


def measure_reads(point: Point, runner: Runner, settings: Settings) -> None:
    from application import rating, reporting
    from workflow.reports import Period, period_label

    year = point.last_day.year
    cutoff = point.last_day
    start = date(year, 12, 1)
    period = Period(start, cutoff, period_label("month", start, cutoff))
    engine = runner.app.engine
    for _ in range(settings.repeats):
        started = time.perf_counter()
        book = rating.choose_rulebook(cutoff)
        with engine.connect() as connection:
            rows = rating.rate(connection, year, cutoff, book)
        point.rating_s.append(time.perf_counter() - started)
        point.rating_heads = len(rows)
    for _ in range(settings.repeats):
        started = time.perf_counter()
        with engine.connect() as connection:
            data = reporting.task_report(connection, period)
        point.report_s.append(time.perf_counter() - started)
        point.report_total = data["total"]


def timed_pass(url: str, command: Command, profile: cProfile.Profile | None = None):
    runner = Runner(url, check_schema=False)
    try:
        if profile is not None:
            profile.enable()
        started = time.perf_counter()
        result = runner.execute(command)
        elapsed = time.perf_counter() - started
        if profile is not None:
            profile.disable()
        return elapsed, sum(1 for o in result.outcomes if o.raised)
    finally:
        runner.close()


def measure_escalation(
    point: Point, city_db, runner: Runner, held: Command, settings: Settings, final: bool
) -> None:
    """The held month-end pass: on copies (repeats − 1), then for real on the city."""
    runner.app.close()  # PostgreSQL copies need the template idle (the app reconnects)
    for _ in range(max(settings.repeats - 1, 0)):
        with city_db.copy() as url:
            seconds, steps = timed_pass(url, held)
        point.escalation_s.append(seconds)
        point.escalation_steps = steps
    if final and settings.profile_dir is not None:
        profile = cProfile.Profile()
        with city_db.copy() as url:
            timed_pass(url, held, profile)
        write_profile(profile, settings.profile_dir, f"{city_db.backend}-escalation-pass")
    started = time.perf_counter()
    result = runner.execute(held)
    point.escalation_s.append(time.perf_counter() - started)
    point.escalation_steps = sum(1 for o in result.outcomes if o.raised)
    # What a daily pass costs when little is due: the next day's pass, as a dry run
    # (read-only, so it can be repeated on the city itself).
    from application.escalation import run_escalation_pass

    next_day = point.last_day + timedelta(days=1)
    for _ in range(settings.repeats):
        started = time.perf_counter()
        result = run_escalation_pass(runner.ledger, as_of=next_day, dry_run=True)
        point.scan_s.append(time.perf_counter() - started)
        point.scan_pending = len(result.outcomes)


# -- whole processes ------------------------------------------------------------------------------


def open_task_for_cli(engine, today: date) -> tuple[str, date] | None:
    """An open task assigned before the real today (the CLI's clock is the real one)."""
    from application import tables as t
    from workflow.tasks import derive_task

    query = (
        sa.select(t.tasks.c.task_id, t.tasks.c.facts)
        .where(t.tasks.c.assigned_on <= today - timedelta(days=30))
        .order_by(t.tasks.c.assigned_on)
        .limit(5000)
    )
    fallback = None
    with engine.connect() as connection:
        for task_id, facts in connection.execute(query):
            task = derive_task(facts)
            if task is None or task.is_closed:
                continue
            on = min(today, task.assigned_on + timedelta(days=400))
            if task.original_deadline is None:
                return task_id, on
            fallback = fallback or (task_id, on)
    return fallback


def wall(
    command: list[str], repeats: int, env: dict[str, str] | None = None
) -> tuple[list[float], str]:
    times = []
    output = ""
    for _ in range(repeats):
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
        times.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
        output = done.stdout
    return times, output


def cli_environments(cache_dir: Path) -> list[tuple[str, dict[str, str]]]:
    """("bytecode cache", env) always; ("no bytecode cache", env) when the inherited
    environment forbids writing .pyc files (PYTHONDONTWRITEBYTECODE): the project is
    installed editable, so its own modules would then be compiled in every process."""
    cached = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cached["PYTHONPYCACHEPREFIX"] = str(cache_dir)  # keeps .pyc files out of the tree
    result = [("bytecode cache", cached)]
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        result.append(("no bytecode cache (PYTHONDONTWRITEBYTECODE)", dict(os.environ)))
    return result


def measure_cli(url: str, engine, settings: Settings) -> dict[str, Any]:
    """Whole `nhiemvu` processes; the first environment carries the goals."""
    result: dict[str, Any] = {"runs": []}
    n = settings.cli_repeats
    chosen = open_task_for_cli(engine, date.today())
    engine.dispose()
    if chosen is None:
        result["note"] = "no open task assigned before today: task show/progress not timed"
    percent = 10
    with tempfile.TemporaryDirectory(prefix="nhiemvu-pycache-") as cache_dir:
        for label, env in cli_environments(Path(cache_dir)):
            run: dict[str, Any] = {"label": label}
            # One unrecorded run first: it writes the bytecode cache and warms the disk.
            wall([str(NHIEMVU), "--help"], 1, env)
            run["help"], _ = wall([str(NHIEMVU), "--help"], n, env)
            if chosen is not None:
                task_id, on = chosen
                result["task"] = task_id
                show = [str(NHIEMVU), "--db", url, "task", "show", task_id, "--json"]
                wall(show, 1, env)
                run["show"], shown = wall(show, n, env)
                json.loads(shown)  # it printed a task
                times = []
                for _ in range(n):
                    command = [
                        str(NHIEMVU), "--db", url, "task", "progress", task_id,
                        "--percent", str(percent), "--on", on.isoformat(), "--note", "benchmark",
                    ]  # fmt: skip
                    percent += 1
                    times.extend(wall(command, 1, env)[0])
                run["progress"] = times
            result["runs"].append(run)
    first = result["runs"][0]
    result.update({k: v for k, v in first.items() if k != "label"})
    return result


# -- profiles -------------------------------------------------------------------------------------


def write_profile(profile: cProfile.Profile, directory: Path, name: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    profile.dump_stats(directory / f"{name}.prof")
    text = io.StringIO()
    stats = pstats.Stats(profile, stream=text)
    text.write(f"== {name}: by internal time ==\n")
    stats.sort_stats("tottime").print_stats(25)
    text.write(f"\n== {name}: by cumulative time ==\n")
    stats.sort_stats("cumulative").print_stats(40)
    (directory / f"{name}.txt").write_text(text.getvalue())
    log(f"profile written: {directory / name}.txt")


def profile_final(city_db, runner: Runner, point: Point, settings: Settings) -> None:
    from application import rating
    from events.projections import rebuild

    directory = settings.profile_dir
    backend = city_db.backend
    engine = runner.app.engine
    profile = cProfile.Profile()
    profile.enable()
    run_nhiemvu(city_db.url, 100)
    profile.disable()
    write_profile(profile, directory, f"{backend}-commands")
    profile = cProfile.Profile()
    cutoff = point.last_day
    profile.enable()
    with engine.connect() as connection:
        rating.rate(connection, cutoff.year, cutoff, rating.choose_rulebook(cutoff))
    profile.disable()
    write_profile(profile, directory, f"{backend}-rating")
    profile = cProfile.Profile()
    profile.enable()
    rebuild(runner.app.store, runner.ledger.projection)
    profile.disable()
    write_profile(profile, directory, f"{backend}-rebuild")


# -- one backend ----------------------------------------------------------------------------------


def event_mix(engine) -> dict[str, int]:
    from events.schema import events

    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(events.c.event_type, sa.func.count()).group_by(events.c.event_type)
        ).all()
    return dict(sorted(rows, key=lambda r: -r[1]))


def load_until(
    city: City,
    runner: Runner,
    last_day: date,
    label: str,
    batch_size: int,
    sample_limit: int | None = None,
):
    """Every command up to `last_day`, in recording order: through the batch API up to
    the last month, then the last month one command per transaction (the per-command
    figures; only its last `sample_limit` commands if given); the month-end pass of
    `last_day` is held back (returned) for figure 5.
    Returns (bulk stats, per-command stats, held pass)."""
    sample_from = last_day.replace(day=1)
    commands = city.commands_until(last_day)
    last_month: list[Command] = []

    def before_last_month() -> Iterator[Command]:
        # Streamed to the runner as planned: a national year is millions of commands.
        for command in commands:
            if command.day >= sample_from:
                last_month.append(command)
                return
            yield command

    def progress(count: int, stats: RunStats) -> None:
        log(
            f"[{label}] {count:,} commands, {stats.events / max(stats.seconds, 1e-9):,.0f} events/s"
        )

    bulk_stats = runner.run(before_last_month(), on_progress=progress, batch_size=batch_size)
    last_month.extend(commands)
    held = [c for c in last_month if c.kind == "escalate" and c.day == last_day]
    sample = [c for c in last_month if not (c.kind == "escalate" and c.day == last_day)]
    if sample_limit is not None and len(sample) > sample_limit:
        bulk_stats.merge(runner.run(sample[:-sample_limit], batch_size=batch_size))
        sample = sample[-sample_limit:]
    with heap_frozen():
        sample_stats = runner.run(sample)
    return bulk_stats, sample_stats, (held[0] if held else None)


def bench_backend(backend: str, settings: Settings) -> dict[str, Any]:
    out: dict[str, Any] = {"backend": backend}
    say(f"\n=== {backend} ===")
    if not settings.skip_side:
        log(f"[{backend}] side by side with eventsourcing ({settings.side_tasks} tasks)")
        out["side"] = side_by_side(backend, settings.side_tasks, settings.repeats)
        say("7. Side by side with eventsourcing 9.5 (same backend, fresh databases)")
        print_side(out["side"])
    directory = Path(tempfile.mkdtemp(prefix="nhiemvu-city-"))
    city_db = SqliteCity(directory) if backend == "sqlite" else PostgresCity()
    try:
        city = City(settings.city_config())
        runner = Runner(city_db.url)
        points: list[Point] = []
        cumulative_s = 0.0
        cumulative_events = 0
        for years in settings.scale_points:
            last_day = date(settings.start_year + years - 1, 12, 31)
            log(f"[{backend}] loading the city up to {last_day:%d/%m/%Y}")
            stats, sample, held = load_until(
                city,
                runner,
                last_day,
                f"{backend} ≤{last_day.year}",
                settings.batch_size,
                settings.sample_limit,
            )
            point = Point(years, last_day, segment=stats, sample=sample)
            command_s = stats.seconds + sample.seconds
            cumulative_s += command_s
            cumulative_events += stats.events + sample.events
            point.cumulative_command_s = cumulative_s
            point.cumulative_command_events = cumulative_events
            with runner.app.engine.connect() as connection:
                point.events = runner.app.store.head_position(connection)
                point.tasks = connection.execute(
                    sa.text("SELECT count(*) FROM proj_tasks")
                ).scalar()
            point.db_mb = city_db.size_mb()
            print_load(point, backend, settings.batch_size)
            log(f"[{backend}] {years}y: rebuild ×{settings.rebuild_repeats}")
            runner.app.close()
            measure_rebuild(point, city_db.url, settings)
            log(f"[{backend}] {years}y: rating and report ×{settings.repeats}")
            measure_reads(point, runner, settings)
            final = years == settings.scale_points[-1]
            if held is not None:
                log(f"[{backend}] {years}y: escalation pass ×{settings.repeats}")
                measure_escalation(point, city_db, runner, held, settings, final)
            print_point(point, backend)
            points.append(point)
        out["points"] = points
        final = points[-1]
        out["event_mix"] = event_mix(runner.app.engine)
        say(
            f"   event mix at {final.years} years: "
            + ", ".join(f"{k} {v:,}" for k, v in out["event_mix"].items())
        )
        # 1b. the fixed command workload on the full city
        log(f"[{backend}] commands on the full city ×{settings.repeats}")
        on_city = [run_nhiemvu(city_db.url, settings.side_tasks) for _ in range(settings.repeats)]
        out["commands_on_city"] = [r.commands_per_s for r in on_city]
        if settings.profile_dir is not None:
            log(f"[{backend}] profiles")
            profile_final(city_db, runner, final, settings)
        runner.close()
        log(f"[{backend}] whole processes ×{settings.cli_repeats}")
        out["cli"] = measure_cli(city_db.url, runner.app.engine, settings)
        print_final(out, settings)
        return out
    finally:
        city_db.drop()
        shutil.rmtree(directory, ignore_errors=True)


# -- printing -------------------------------------------------------------------------------------


def print_load(point: Point, backend: str, batch_size: int) -> None:
    stats, sample = point.segment, point.sample
    say(
        f"\n-- {backend}, {point.years} year(s) of history "
        f"(to {point.last_day:%d/%m/%Y}): {point.events:,} events, {point.tasks:,} tasks, "
        f"database {point.db_mb:,.0f} MB"
    )
    say(
        f"2. load through the batch API (Ledger.batch(): {batch_size:,} commands validated one "
        f"by one, one transaction; month-end escalation passes included): "
        f"{stats.events:,} events by {stats.commands:,} commands in {stats.seconds:,.1f} s = "
        f"{stats.events / stats.seconds:,.0f} events/s, {stats.commands / stats.seconds:,.0f} "
        f"commands/s, {stats.batches} transactions"
    )
    say(
        f"   of which {stats.escalation_passes} month-end escalation passes: "
        f"{stats.escalation_events:,} steps in {stats.escalation_seconds:,.1f} s"
    )
    rows = sorted(sample.by_kind.items(), key=lambda kv: -len(kv[1]))
    say(
        f"1. per command, one transaction each, the last commands of the segment's last month "
        f"({sample.commands:,} commands; median, p90, p99 and slowest in ms — a mean far "
        f"above the median is a few slow commands —, commands/s = 1 / mean):"
    )
    for kind, values in rows:
        if kind == "escalate":
            continue
        shares = [median(values)] + [nearest_rank(values, q) for q in (0.9, 0.99, 1)]
        say(
            f"     {kind:<20}{len(values):>8,}{''.join(f'{v * 1000:>9.2f}' for v in shares)}"
            f"{len(values) / sum(values):>9,.0f}/s"
        )
    commands = sum(len(v) for k, v in sample.by_kind.items() if k != "escalate")
    seconds = sum(sum(v) for k, v in sample.by_kind.items() if k != "escalate")
    if commands:
        say(f"     {'all':<20}{commands:>8,}{'':>36}{commands / seconds:>9,.0f}/s")
    pauses = sample.full_collections_s
    say(
        f"     full passes of the cycle collector inside those commands: {len(pauses)}"
        + (f", {sum(pauses):,.2f} s in all, the longest {max(pauses):,.2f} s" if pauses else "")
    )


def print_point(point: Point, backend: str) -> None:
    rebuild_note = (
        f"; tracemalloc peak {point.rebuild_tracemalloc_mb:,.0f} MB"
        if point.rebuild_tracemalloc_mb is not None
        else ""
    )
    say(
        f"3. rebuild from scratch: {point.rebuild_events:,} events in "
        f"{median(point.rebuild_s):,.2f} s = {point.rebuild_eps:,.0f} events/s "
        f"(runs {spread(point.rebuild_s, '{:.2f}')} s); peak memory (fresh child process: "
        f"peak RSS (VmHWM) after − RSS before) {max(point.rebuild_rss_delta_mb):,.0f} MB, process peak "
        f"{max(point.rebuild_rss_peak_mb):,.0f} MB{rebuild_note}"
    )
    if point.rebuild_workers:
        say(
            f"   {point.rebuild_workers} child processes beside it (workers, resource "
            f"tracker), their peaks "
            f"{spread(point.rebuild_workers_mb, '{:,.0f}')} MB together: "
            f"{point.rebuild_memory_mb:,.0f} MB in all at most"
        )
    say(
        f"   the log alone, read and decoded as the rebuild reads it, nothing applied: "
        f"{median(point.log_read_s):,.2f} s = "
        f"{point.log_read_eps:,.0f} events/s "
        f"(the ceiling of a rebuild that decodes each event in Python)"
    )
    total = point.report_total
    say(
        f"4. rating compute {point.last_day.year} ({point.rating_heads} heads): "
        f"{median(point.rating_s):.3f} s (runs {spread(point.rating_s)}); "
        f"report tasks 12/{point.last_day.year}: {median(point.report_s):.3f} s "
        f"(runs {spread(point.report_s)}; {total.get('total', 0):,} tasks in the period, "
        f"{total.get('overdue', 0):,} overdue)"
    )
    if point.escalation_s:
        say(
            f"5. escalation pass as of {point.last_day:%d/%m/%Y} over {point.tasks:,} tasks: "
            f"{median(point.escalation_s):.3f} s (runs {spread(point.escalation_s)}), "
            f"{point.escalation_steps:,} steps raised (one transaction per 200 tasks with steps)"
        )
        say(
            f"   next day's pass as a dry run (the scan every daily pass makes): "
            f"{median(point.scan_s):.3f} s (runs {spread(point.scan_s)}), "
            f"{point.scan_pending:,} steps pending"
        )


def print_final(out: dict[str, Any], settings: Settings) -> None:
    cli = out["cli"]
    n = settings.cli_repeats
    say(
        f"6. whole processes on the {out['points'][-1].years}-year database "
        f"(median of {n}, after one unrecorded run):"
    )
    if "note" in cli:
        say(f"     {cli['note']}")
    for run in cli["runs"]:
        say(f"   {run['label']}:")
        say(
            f"     nhiemvu --help                 {median(run['help']):.3f} s ({spread(run['help'])})"
        )
        if "show" in run:
            say(
                f"     task show {cli['task']} --json   {median(run['show']):.3f} s "
                f"({spread(run['show'])})"
            )
            say(
                f"     task progress {cli['task']} …    {median(run['progress']):.3f} s "
                f"({spread(run['progress'])})"
            )
    on_city = out["commands_on_city"]
    say(
        f"1. the side-by-side workload ({settings.side_tasks} tasks × 4 commands) on the "
        f"{out['points'][-1].years}-year city: {median(on_city):,.0f} commands/s "
        f"(runs {spread(on_city, '{:,.0f}')})"
        + (
            f"; on an empty database: {out['side']['nhiemvu']['commands_per_s']:,.0f}"
            if "side" in out
            else ""
        )
    )


def fit(xs: list[float], ys: list[float]) -> tuple[float, float | None]:
    """(least-squares slope of y on x, log-log exponent) — the exponent needs y > 0."""
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx if sxx else 0.0
    if len(xs) < 2 or any(y <= 0 for y in ys):
        return slope, None
    lx, ly = [math.log(x) for x in xs], [math.log(y) for y in ys]
    mlx, mly = statistics.fmean(lx), statistics.fmean(ly)
    slxx = sum((x - mlx) ** 2 for x in lx)
    exponent = sum((x - mlx) * (y - mly) for x, y in zip(lx, ly, strict=True)) / slxx
    return slope, exponent


def _per_year_s(point: Point, before: Point | None) -> float:
    years = point.years - (before.years if before else 0)
    return (point.segment.seconds + point.sample.seconds) / years


def _per_command_ms(sample: RunStats) -> float:
    values = [v for k, vs in sample.by_kind.items() if k != "escalate" for v in vs]
    return statistics.fmean(values) * 1000 if values else 0.0


def growth_rows(points: list[Point]) -> list[tuple[str, list[float], str]]:
    return [
        ("load, cumulative command seconds", [p.cumulative_command_s for p in points], "s"),
        (
            # The first year starts from an empty city (nothing carried over), so the
            # cumulative figure bends up until the city reaches its steady state.
            "load seconds per year of the segment",
            [_per_year_s(p, q) for p, q in zip(points, [None, *points[:-1]], strict=True)],
            "s",
        ),
        (
            "ms per command, one transaction each",
            [_per_command_ms(p.sample) for p in points],
            "ms",
        ),
        ("rebuild seconds", [median(p.rebuild_s) for p in points], "s"),
        ("rebuild peak memory (MB)", [p.rebuild_memory_mb for p in points], "MB"),
        ("rating compute seconds (last year)", [median(p.rating_s) for p in points], "s"),
        ("report tasks, one month, seconds", [median(p.report_s) for p in points], "s"),
        (
            "escalation pass seconds",
            [median(p.escalation_s) if p.escalation_s else 0.0 for p in points],
            "s",
        ),
        (
            "escalation scan (dry run) seconds",
            [median(p.scan_s) if p.scan_s else 0.0 for p in points],
            "s",
        ),
    ]


def print_growth(backend: str, points: list[Point]) -> dict[str, Any]:
    """Each cost against the years of history and against the size of the log. The
    goal is growth with the log: a later year carries more events than the first
    (completions and escalations of earlier tasks), so years overstate it."""
    years = [p.years for p in points]
    events = [p.events for p in points]
    say(f"\nGrowth with history, {backend} (years: {', '.join(map(str, years))})")
    say(
        f"  {'':<38}"
        + "".join(f"{y:>10}y" for y in years)
        + f"{'slope/yr':>12}{'b(years)':>10}{'b(log)':>9}"
    )
    say(f"  {'events in the log':<38}" + "".join(f"{e:>11,}" for e in events))
    results = {}
    for label, values, _unit in growth_rows(points):
        slope, by_years = fit(years, values) if len(years) > 1 else (0.0, None)
        by_log = fit(events, values)[1] if len(years) > 1 else None
        results[label] = (values, slope, by_log, by_years)
        shown = "".join(f"{v:>11,.3f}" for v in values)
        exponents = "".join(
            f"{b:>{w}.2f}" if b is not None else f"{'—':>{w}}"
            for b, w in ((by_years, 10), (by_log, 9))
        )
        say(f"  {label:<38}{shown}{slope:>12,.3f}{exponents}")
    say(
        "  (exponent b of cost ∝ x^b from a log-log fit, x = years of history or events in "
        "the log: 1 = linear; a per-command cost should stay flat, b ≈ 0)"
    )
    return results


def verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("PASS" if ok else "MISS")


def print_goals(results: dict[str, dict[str, Any]], settings: Settings) -> None:
    largest = settings.scale_points[-1]
    decade_note = "" if largest >= 10 else f" (measured at {largest} years, not a decade)"
    say("\nGOALS (issue 6)")
    rows: list[tuple[str, str, str, str]] = []
    for backend, out in results.items():
        points: list[Point] = out["points"]
        final = points[-1]
        if "side" in out:
            ratio = out["side"]["ratio_commands"]
            rows.append(
                (backend, f"commands/s ≥ {GOAL_RATIO:g}× eventsourcing's", f"{ratio:.2f}×",
                 verdict(ratio >= GOAL_RATIO))
            )  # fmt: skip
        if backend == "sqlite":
            eps = final.rebuild_eps
            rows.append(
                (backend, f"rebuild ≥ {GOAL_REBUILD_EPS:,} events/s",
                 f"{eps:,.0f}/s (reading the log alone {final.log_read_eps:,.0f}/s)",
                 verdict(eps >= GOAL_REBUILD_EPS))
            )  # fmt: skip
        mb = final.rebuild_memory_mb
        rows.append(
            (backend, f"rebuild peak memory < {GOAL_REBUILD_MB} MB{decade_note}",
             f"{mb:,.0f} MB", verdict(mb < GOAL_REBUILD_MB))
        )  # fmt: skip
        rating_s = median(final.rating_s)
        rows.append(
            (backend, f"rating of a city year ≤ {GOAL_RATING_S:g} s ({final.years}y history)",
             f"{rating_s:.3f} s", verdict(rating_s <= GOAL_RATING_S))
        )  # fmt: skip
        if final.escalation_s:
            esc = median(final.escalation_s)
            rows.append(
                (backend, f"escalation pass ≤ {GOAL_ESCALATION_S:g} s, month-end ({final.years}y)",
                 f"{esc:.3f} s", verdict(esc <= GOAL_ESCALATION_S))
            )  # fmt: skip
            scan = median(final.scan_s)
            rows.append(
                (backend, f"escalation pass ≤ {GOAL_ESCALATION_S:g} s, daily scan ({final.years}y)",
                 f"{scan:.3f} s", verdict(scan <= GOAL_ESCALATION_S))
            )  # fmt: skip
        cli = out["cli"]
        if "show" in cli:
            show = median(cli["show"])
            rows.append(
                (backend, f"task show ≤ {GOAL_SHOW_S:g} s, whole process (.pyc cached)", f"{show:.3f} s",
                 verdict(show <= GOAL_SHOW_S))
            )  # fmt: skip
        helped = median(cli["help"])
        rows.append(
            (backend, f"--help ≤ {GOAL_HELP_S:g} s, whole process (.pyc cached)", f"{helped:.3f} s",
             verdict(helped <= GOAL_HELP_S))
        )  # fmt: skip
        for label, (values, _, exponent, _by_years) in out.get("growth", {}).items():
            if label.startswith("ms per command"):
                continue  # shown for reading; "cumulative" carries the goal
            if exponent is None or (label.endswith("seconds") and max(values) < MIN_JUDGED_S):
                shown, ok = "too small" if exponent is not None else "—", None
            else:
                shown, ok = f"b = {exponent:.2f}", exponent <= GOAL_EXPONENT
            rows.append((backend, f"linear growth with the log: {label}", shown, verdict(ok)))
    width = max(len(r[1]) for r in rows) + 2
    for backend, goal, value, mark in rows:
        say(f"  {backend:<11}{goal:<{width}}{value:>14}  {mark}")
    national = results.get("postgresql") if settings.national else None
    if national is None:
        loaded, mark = "not run", verdict(None)
    else:  # the run got here: the load completed and every figure above was printed
        events = national["points"][-1].events
        loaded, mark = f"{events:,} events", verdict(events >= NATIONAL_EVENTS)
    goal = f"national-year load ({NATIONAL_EVENTS:,} events)"
    say(f"  {'postgresql':<11}{goal:<{width}}{loaded:>14}  {mark}")


# -- entry point ----------------------------------------------------------------------------------


def parse(argv: list[str] | None) -> Settings | None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.city_bench")
    parser.add_argument("--years", type=int, default=None, help="size of the city (default 10)")
    parser.add_argument("--tasks-per-year", type=int, default=None, help="default 20000")
    parser.add_argument("--agencies", type=int, default=None, help="default 100")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "all"], default="all")
    parser.add_argument("--scale-points", default=None, help="years, e.g. 1,3,10 (the default)")
    parser.add_argument("--quick", action="store_true", help="2,000 tasks/year, points 1,2")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rebuild-repeats", type=int, default=None, help="default: --repeats")
    parser.add_argument("--cli-repeats", type=int, default=5)
    parser.add_argument("--side-tasks", type=int, default=None, help="default 300 (quick 100)")
    parser.add_argument("--skip-side", action="store_true", help="no eventsourcing comparison")
    parser.add_argument("--seed", type=int, default=2023)
    parser.add_argument("--start-year", type=int, default=2020)
    parser.add_argument("--tracemalloc", action="store_true", help="also a tracemalloc rebuild")
    parser.add_argument("--profile", type=Path, default=None, metavar="DIR")
    parser.add_argument("--json", type=Path, default=None, metavar="FILE")
    parser.add_argument(
        "--national",
        action="store_true",
        help="PostgreSQL only: one national year (~10 million events); hours",
    )
    parser.add_argument(
        "--batch-size", type=int, default=2000, help="commands per Ledger.batch() (2000)"
    )
    args = parser.parse_args(argv)

    quick = args.quick
    tasks = args.tasks_per_year or (2_000 if quick else 20_000)
    agencies = args.agencies or 100
    if args.national:
        tasks = args.tasks_per_year or NATIONAL_TASKS  # ≈ NATIONAL_EVENTS; ~1,000 units
        agencies = args.agencies or 1_000
    if args.scale_points:
        points = sorted({int(p) for p in args.scale_points.split(",") if p.strip()})
    elif args.national:
        points = [1]
    else:
        points = [1, 2] if quick else [1, 3, 10]
    if args.years:
        years = args.years
    elif args.national:
        years = 1
    elif args.scale_points:
        years = max(points)
    else:
        years = 2 if quick else 10
    points = [p for p in points if 1 <= p <= years]
    if not points or points[-1] != years:
        points.append(years)
    backends = ["sqlite", "postgresql"] if args.backend == "all" else [args.backend]
    if args.national:
        backends = ["postgresql"]
    return Settings(
        years=years,
        tasks_per_year=tasks,
        agencies=agencies,
        scale_points=points,
        backends=backends,
        repeats=max(args.repeats, 1),
        rebuild_repeats=args.rebuild_repeats or max(args.repeats, 1),
        cli_repeats=args.cli_repeats,
        side_tasks=args.side_tasks or (100 if quick else 300),
        seed=args.seed,
        start_year=args.start_year,
        quick=quick,
        national=args.national,
        tracemalloc=args.tracemalloc,
        profile_dir=args.profile,
        json_path=args.json,
        skip_side=args.skip_side or args.national,
        batch_size=args.batch_size,
        sample_limit=NATIONAL_SAMPLE_COMMANDS if args.national else None,
    )


def cpu_reference() -> float:
    """The best of three timings of a fixed pure-Python loop: the same machine is
    twice as fast on one day as on another, and every figure here moves with it."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        sum(range(10_000_000))
        best = min(best, time.perf_counter() - started)
    return best


def code_version() -> str:
    """The commit measured, and tracked files changed since (read-only git commands)."""
    try:
        head = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        changed = subprocess.run(
            ["git", "-C", str(REPO), "diff", "--name-only", "HEAD"],
            capture_output=True, text=True, check=True,
        ).stdout.split()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown (no git)"
    return head + (f" + uncommitted changes to {', '.join(changed)}" if changed else "")


def main(argv: list[str] | None = None) -> None:
    settings = parse(argv)
    if settings is None:
        return
    import sqlalchemy

    say(
        f"nhiemvu city benchmark — {date.today():%d/%m/%Y}, Python {platform.python_version()}, "
        f"SQLAlchemy {sqlalchemy.__version__}, {os.cpu_count()} CPUs"
        + (" (--quick)" if settings.quick else "")
        + (" (--national)" if settings.national else "")
    )
    say(f"code: {code_version()}")
    say(
        f"CPU reference: a pure-Python loop of 10 million additions takes {cpu_reference():.2f} s "
        "here (compare runs on other days or machines by it)"
    )
    say(
        f"city: seed {settings.seed}, {settings.agencies} agencies, "
        f"{settings.tasks_per_year:,} tasks/year from {settings.start_year}, "
        f"{settings.years} year(s), scale points {settings.scale_points}; "
        f"figures are medians of {settings.repeats} unless said otherwise"
    )
    results: dict[str, dict[str, Any]] = {}
    for backend in settings.backends:
        if backend == "postgresql":
            problem = postgres_problem()
            if problem:
                say(f"\npostgresql: skipped, no server ({problem})")
                continue
            say(f"PostgreSQL server {postgres_server()}")
        out = bench_backend(backend, settings)
        if len(out["points"]) > 1:
            out["growth"] = print_growth(backend, out["points"])
        results[backend] = out
    if not settings.national:
        say(
            "\nnational-year load (PostgreSQL, ~10,000,000 events): not run "
            "(pass --national to run it; it takes hours)"
        )
    if results:
        print_goals(results, settings)
    if settings.json_path is not None:
        settings.json_path.write_text(json.dumps(results, default=_json_default, indent=2))


def _json_default(value: Any):
    if isinstance(value, Point):
        data = dict(value.__dict__)
        for key in ("segment", "sample"):
            stats = data.pop(key)
            data[key] = {
                "commands": stats.commands,
                "events": stats.events,
                "seconds": stats.seconds,
                "batches": stats.batches,
                "escalation_seconds": stats.escalation_seconds,
                "escalation_events": stats.escalation_events,
                "by_kind_median_ms": {k: median(v) * 1000 for k, v in stats.by_kind.items()},
                "by_kind_p99_ms": {
                    k: nearest_rank(v, 0.99) * 1000 for k, v in stats.by_kind.items()
                },
                "by_kind_max_ms": {k: max(v) * 1000 for k, v in stats.by_kind.items()},
                "full_collections_s": stats.full_collections_s,
            }
        return data
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


if __name__ == "__main__":
    main()
