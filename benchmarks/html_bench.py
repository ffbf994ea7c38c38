"""Render time of `nhiemvu report html --year 2023` for a city-sized year.

    python -m benchmarks.html_bench [--agencies 100] [--tasks 3000] [--keep FILE.db]
    python -m benchmarks.html_bench --city-years 3 [--tasks 20000]

`--city-years N` renders instead the last year of N years of the synthetic city of
benchmarks/workload.py (20,000 tasks a year unless --tasks says otherwise, loaded
through the batch API), so the page is measured on a real-size year with the
history of the years before it.

Builds a synthetic 2023 ledger in a temporary SQLite file through the same
Ledger commands the secretariat uses (a fixed clock in January 2024): agencies
with their heads (some replaced during the year), directives, tasks with every
deadline form the ledger accepts, completions on time and late, extensions,
cancellations, and reminder/criticism/commendation documents. Then renders the
year's page three times and prints the median, with the split between reading
the ledger, drawing the charts and filling the template. The first render of a
process also pays for importing matplotlib and Jinja2; it is printed apart, and
so is what a user waits for: `nhiemvu report html` as a whole process (start-up,
imports, render, writing the file). Figures only: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from application import html_report
from application.app import App
from application.ledger import DeadlineInput
from benchmarks.city_bench import NHIEMVU, cli_environments, cpu_reference, wall
from events.migrate import upgrade
from workflow.dates import LOCAL_TZ
from workflow.documents import Addressees

YEAR = 2023
NOW = datetime(2024, 1, 15, 9, 0, tzinfo=LOCAL_TZ)  # after the year: every 2023 date is past
REPEATS = 3
KINDS = (("so", 55), ("quan-huyen", 15), ("don-vi-su-nghiep", 25), ("khac", 5))
NAMES = {
    "so": "Sở số {n}",
    "quan-huyen": "Ủy ban nhân dân quận, huyện số {n}",
    "don-vi-su-nghiep": "Đơn vị sự nghiệp công lập số {n}",
    "khac": "Cơ quan số {n}",
}
SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô")
GIVEN = ("Văn An", "Thị Bình", "Minh Cường", "Thị Dung", "Quang Hải", "Thu Hằng", "Đức Long")


def _person(rng: random.Random) -> str:
    return f"{rng.choice(SURNAMES)} {rng.choice(GIVEN)} {rng.randint(1, 999)}"


def _day(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randint(0, (end - start).days))


def build_city_year(url: str, n_agencies: int, n_tasks: int, seed: int = YEAR) -> dict[str, int]:
    """The synthetic ledger; returns how many of each thing it recorded."""
    rng = random.Random(seed)
    app = App(url, "benchmark", now=lambda: NOW)
    ledger = app.ledger
    counts = {"agencies": 0, "tasks": 0, "completed": 0, "documents": 0, "events": 0}
    try:
        codes = []
        weights = [w for _, w in KINDS]
        for n in range(1, n_agencies + 1):
            kind = rng.choices([k for k, _ in KINDS], weights)[0]
            code = f"CQ{n:03d}"
            ledger.register_agency(code, NAMES[kind].format(n=n), kind)
            ledger.appoint_head(code, _person(rng), date(YEAR - 1, 1, 1))
            if rng.random() < 0.1:  # a change of head during the year
                ledger.appoint_head(
                    code, _person(rng), _day(rng, date(YEAR, 3, 1), date(YEAR, 10, 31))
                )
            codes.append(code)
        counts["agencies"] = len(codes)

        directives = []
        for n in range(1, 41):
            issued = _day(rng, date(YEAR - 1, 10, 1), date(YEAR, 11, 30))
            number = f"{n * 37}/TB-UBND"
            ledger.register_directive(
                number, issued, f"Kết luận của Chủ tịch UBND thành phố số {n}", "Thông báo", None
            )
            directives.append((number, issued))

        for _ in range(n_tasks):
            number, issued = rng.choice(directives)
            assigned = _day(rng, issued, min(issued + timedelta(days=20), date(YEAR, 12, 20)))
            roll = rng.random()
            if roll < 0.65:
                deadline = DeadlineInput("date", assigned + timedelta(days=rng.randint(10, 120)))
            elif roll < 0.75:
                quarter = (assigned.month - 1) // 3 + 1
                deadline = DeadlineInput("period", f"{assigned.year}Q{quarter}")
            elif roll < 0.8:
                deadline = DeadlineInput("working_days", rng.randint(5, 30))
            else:
                deadline = DeadlineInput("none")
            leads = rng.sample(codes, 2 if rng.random() < 0.1 else 1)
            result = ledger.assign_task(
                number,
                f"Nhiệm vụ {counts['tasks'] + 1}: tham mưu, báo cáo UBND thành phố",
                leads,
                deadline,
                clause=f"{rng.randint(1, 5)}.{rng.randint(1, 9)}",
                assigned_on=assigned,
            )
            counts["tasks"] += 1
            task_id = result.key
            due_text = result.events[0].data["deadline"]["due"]
            due = date.fromisoformat(due_text) if due_text else None
            _follow_up(ledger, rng, task_id, assigned, due, counts)

        for n in range(1, 201):
            kind = rng.choices(
                ("nhac_nho", "rut_kinh_nghiem", "phe_binh", "bieu_duong"), (50, 25, 15, 10)
            )[0]
            targets = rng.sample(codes, rng.randint(1, 3))
            addressees = (
                Addressees((), tuple(targets[:1]))  # criticism of the head
                if kind == "phe_binh" and rng.random() < 0.5
                else Addressees(tuple(targets))
            )
            ledger.issue_document(
                kind,
                f"{1000 + n}/UBND-TH",
                _day(rng, date(YEAR, 1, 10), date(YEAR, 12, 31)),
                addressees,
            )
            counts["documents"] += 1
        counts["events"] = app.store.count()
    finally:
        app.close()
    return counts


def _follow_up(ledger, rng, task_id, assigned, due, counts) -> None:
    """What happened to a task during the year: done, late, extended, cancelled or open."""
    year_end = date(YEAR, 12, 31)
    roll = rng.random()
    if roll < 0.04:
        ledger.cancel(
            task_id, _day(rng, assigned, min(assigned + timedelta(30), year_end)), "Không còn cần"
        )
        return
    # The first day a completion may be recorded on: not before an extension recorded.
    earliest = assigned
    if due is not None and roll < 0.10 and assigned < min(due, year_end):
        # Approved before the deadline: the new date counts for scoring too.
        on = earliest = _day(rng, assigned, min(due, year_end))
        due = due + timedelta(days=rng.randint(15, 45))
        ledger.approve_extension(task_id, due, on, "Cần thêm thời gian lấy ý kiến")
    if roll > 0.85:
        return  # still open at the end of the year
    if due is None:
        done = _day(rng, assigned, min(assigned + timedelta(150), year_end))
    elif rng.random() < 0.75:
        done = _day(rng, earliest, due)  # on time
    else:
        done = due + timedelta(days=rng.randint(1, 60))  # late
    if done <= year_end:
        ledger.complete(task_id, done, f"{rng.randint(1, 999)}/BC")
        counts["completed"] += 1


def city_span(years: int, tasks: int) -> tuple[int, datetime]:
    """The workload city's last year, and a "now" just after it."""
    from .workload import CityConfig

    last = CityConfig(tasks_per_year=tasks).start_year + years - 1
    return last, datetime(last + 1, 1, 15, 9, 0, tzinfo=LOCAL_TZ)


def build_city(url: str, years: int, tasks: int) -> None:
    """`years` of the workload city through the batch API."""
    from .workload import City, CityConfig, Runner

    config = CityConfig(tasks_per_year=tasks)
    last, _ = city_span(years, tasks)
    runner = Runner(url)
    try:
        started = time.perf_counter()
        stats = runner.run(City(config).commands_until(date(last, 12, 31)), batch_size=2000)
        print(
            f"Built {years} year(s) of the city in {time.perf_counter() - started:.1f} s: "
            f"{stats.events:,} events, {tasks:,} tasks a year."
        )
    finally:
        runner.close()


def render_once(url: str, year: int = YEAR, now: datetime = NOW) -> dict[str, float]:
    """One `report html --year` render (read the ledger, draw, fill the template), timed."""
    app = App(url, "benchmark", now=lambda: now)
    try:
        window = html_report.report_window(now.date(), year=year)
        cpu = time.process_time()
        start = time.perf_counter()
        with app.engine.connect() as connection:
            figures = html_report.gather(connection, window)
        gathered = time.perf_counter()
        page = html_report.render(figures, now)
        rendered = time.perf_counter()
        cpu = time.process_time() - cpu
        # The charts once more on their own, to split the render time.
        html_report.status_chart(figures["tasks"]["agencies"])
        html_report.trend_chart(figures["trend"])
        charts = time.perf_counter() - rendered
    finally:
        app.close()
    return {
        "total": rendered - start,
        "cpu": cpu,
        "read ledger": gathered - start,
        "charts": charts,
        "template": max(rendered - gathered - charts, 0.0),
        "size_kb": len(page.encode("utf-8")) / 1024,
    }


def whole_process(url: str, year: int, directory: Path) -> list[float]:
    """Wall times of `nhiemvu report html --year` as a process, with a bytecode cache."""
    out = directory / "report.html"
    command = [str(NHIEMVU), "--db", url, "report", "html", "--year", str(year), "--out", str(out)]
    _, env = cli_environments(directory / "pycache")[0]
    wall(command, 1, env)  # writes the bytecode cache, warms the disk
    times, _ = wall(command, REPEATS, env)
    if not out.stat().st_size:
        raise RuntimeError(f"{' '.join(command)} wrote an empty page")
    return times


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.html_bench")
    parser.add_argument("--agencies", type=int, default=100)
    parser.add_argument("--tasks", type=int, default=None, help="3000 (20000 with --city-years)")
    parser.add_argument(
        "--keep", metavar="FILE.db", help="build the ledger in this file and keep it"
    )
    parser.add_argument("--city-years", type=int, default=None, metavar="N")
    args = parser.parse_args(argv)

    year, now = YEAR, NOW
    with tempfile.TemporaryDirectory(prefix="nhiemvu-html-bench-") as directory:
        path = Path(args.keep) if args.keep else Path(directory) / "city.db"
        url = f"sqlite:///{path}"
        if args.city_years:
            year, now = city_span(args.city_years, args.tasks or 20_000)
            if not (args.keep and path.exists()):  # a kept city is measured again as it is
                upgrade(url)
                build_city(url, args.city_years, args.tasks or 20_000)
        elif not (args.keep and path.exists()):
            upgrade(url)
            started = time.perf_counter()
            counts = build_city_year(url, args.agencies, args.tasks or 3000)
            built = time.perf_counter() - started
            print(
                f"Built a {YEAR} ledger in {built:.1f} s: {counts['agencies']} agencies, "
                f"{counts['tasks']} tasks ({counts['completed']} completed), "
                f"{counts['documents']} documents, {counts['events']} events."
            )
        cold = render_once(url, year, now)
        runs = [render_once(url, year, now) for _ in range(REPEATS)]
        # A process reports as of today: a year not over yet would be another page.
        processes = whole_process(url, year, Path(directory)) if year < date.today().year else []
    median = statistics.median(r["total"] for r in runs)
    middle = sorted(runs, key=lambda r: r["total"])[REPEATS // 2]
    print(f"report html --year {year} (SQLite), render time:")
    print(f"  (CPU reference: 10 million additions in {cpu_reference():.2f} s here)")
    print(f"  first render in the process (imports matplotlib, Jinja2): {cold['total']:.2f} s")
    spread = ", ".join(f"{r['total']:.2f}" for r in runs)
    print(f"  median of {REPEATS}: {median:.2f} s  ({spread})")
    cpu = statistics.median(r["cpu"] for r in runs)
    print(f"  CPU time, median (less sensitive to a busy machine): {cpu:.2f} s")
    print(
        f"  of which: reading the ledger {middle['read ledger']:.2f} s, "
        f"charts {middle['charts']:.2f} s, template {middle['template']:.2f} s; "
        f"page {middle['size_kb']:.0f} KB"
    )
    if not processes:
        print(f"  whole process: not timed ({year} is not over yet, the page would differ)")
        return
    process_spread = ", ".join(f"{t:.2f}" for t in processes)
    print(
        f"  whole process `nhiemvu report html --year {year}`, median of {REPEATS}: "
        f"{statistics.median(processes):.2f} s  ({process_spread})"
    )


if __name__ == "__main__":
    main()
