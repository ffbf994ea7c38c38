"""`nhiemvu import xlsx` of a tracking workbook into a city year, on each backend.

A city year is built through the commands (benchmarks.workload) on each backend;
its tasks are written out as a tracking workbook of the importer's columns. The
importer names a row's task from its directive, clause, title and leads, so every
row is a task new to the ledger (and a likely twin of the one the city has: the
check for those runs too) — the heaviest import of its size. For each size, on a
copy of the city each time: the dry run, then the import itself; median of
`--repeats`, with rows/s, so that the cost's growth with the size shows (it must
be linear: one transaction holds every row).

    python -m benchmarks.import_bench [--tasks 20000] [--rows 2000,4000,20000]
        [--repeats 3] [--backend all]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from benchmarks.city_bench import PostgresCity, SqliteCity, reachable_backends

HEADINGS = [
    "STT", "Số văn bản", "Ngày văn bản", "Mục", "Nội dung nhiệm vụ", "Đơn vị chủ trì",
    "Đơn vị phối hợp", "Ngày giao", "Thời hạn", "Ngày hoàn thành", "Số văn bản báo cáo",
]  # fmt: skip


def build_city(target, tasks: int) -> None:
    from benchmarks.workload import City, CityConfig, Runner

    city = City(CityConfig(tasks_per_year=tasks))
    runner = Runner(target.url)
    runner.run(city.commands_until(date(CityConfig.start_year, 12, 31)), batch_size=2000)
    runner.close()


def write_workbook(url: str, rows: int, path: Path) -> None:
    """The city's first `rows` tasks as the secretariat's tracking workbook."""
    from openpyxl import Workbook

    from application import queries
    from application.task_list import list_tasks
    from events.database import make_engine, read_snapshot
    from workflow.dates import format_date

    def day(text: str | None) -> str | None:
        return format_date(date.fromisoformat(text)) if text else None

    engine = make_engine(url)
    book = Workbook()
    sheet = book.active
    sheet.title = "Nhiệm vụ"
    sheet.append(HEADINGS)
    try:
        with read_snapshot(engine) as connection:
            issued = {d["number"]: d["issued_on"] for d in queries.list_directives(connection)}
            as_of = date(2099, 1, 1)
            for n, task in enumerate(list_tasks(connection, as_of, limit=rows), start=1):
                sheet.append([
                    n, task["directive"], day(issued.get(task["directive"])), task["clause"],
                    task["title"], "; ".join(task["leads"]), "; ".join(task["coordinators"]),
                    day(task["assigned_on"]), day(task["original_deadline"]),
                    day(task["completed_on"]), task["completion_doc"],
                ])  # fmt: skip
    finally:
        engine.dispose()
    book.save(path)


def import_seconds(url: str, path: Path, dry_run: bool) -> float:
    from application.app import App
    from application.xlsx_import import import_workbook

    app = App(url, "benchmark")
    try:
        started = time.perf_counter()
        report = import_workbook(app, path, dry_run=dry_run)
        seconds = time.perf_counter() - started
    finally:
        app.close()
    if report.count("invalid"):
        raise SystemExit(f"{path.name}: rows refused; the benchmark measures valid rows")
    return seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=20_000, help="tasks in the city year")
    parser.add_argument("--rows", default="2000,4000,20000", help="workbook sizes, rows")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "all"), default="all")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.rows.split(",")]
    backends = reachable_backends(args.backend)

    with tempfile.TemporaryDirectory(prefix="nhiemvu-import-") as directory:
        folder = Path(directory)
        print(f"A city year of {args.tasks:,} tasks; workbooks of {args.rows} rows")
        print(f"{'backend':12s} {'rows':>7s} {'dry run s':>10s} {'import s':>9s} {'rows/s':>8s}")
        for backend in backends:
            city = SqliteCity(folder) if backend == "sqlite" else PostgresCity()
            try:
                build_city(city, args.tasks)
                for size in sizes:
                    book = folder / f"book-{size}.xlsx"
                    if not book.exists():
                        write_workbook(city.url, size, book)
                    times = {"dry": [], "real": []}
                    for _ in range(args.repeats):
                        for kind in times:
                            with city.copy() as url:
                                times[kind].append(import_seconds(url, book, kind == "dry"))
                    dry, real = (statistics.median(times[k]) for k in ("dry", "real"))
                    print(f"{backend:12s} {size:7,d} {dry:10.2f} {real:9.2f} {size / real:8,.0f}")
                    runs = {k: ", ".join(f"{s:.2f}" for s in v) for k, v in times.items()}
                    print(f"{'':12s} runs: dry {runs['dry']}; import {runs['real']}")
            finally:
                city.drop()


if __name__ == "__main__":
    main()
