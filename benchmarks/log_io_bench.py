"""Moving and checking the whole log: `events import`, `events verify`, `events export`.

A city year is built once on SQLite through the commands (benchmarks.workload) and
exported; then, on each backend, median of `--repeats` on fresh databases:

- import of the file (checked line by line, inserted, without the rebuild that the
  CLI runs after it: that is figure 3 of city_bench),
- verify of the imported log (the whole hash chain, and the head),
- export of it again (the file must come out byte for byte the same).

    python -m benchmarks.log_io_bench [--tasks 20000] [--repeats 3] [--backend all]
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from benchmarks.city_bench import PostgresCity, SqliteCity, reachable_backends


def build_city_log(directory: Path, tasks: int) -> tuple[Path, int]:
    """One city year through the commands, exported: (file, events)."""
    from benchmarks.workload import City, CityConfig, Runner
    from events.database import make_engine
    from events.transfer import export_log

    city_db = SqliteCity(directory)
    city = City(CityConfig(tasks_per_year=tasks))
    runner = Runner(city_db.url)
    runner.run(city.commands_until(date(CityConfig.start_year, 12, 31)), batch_size=2000)
    runner.close()
    path = directory / "city.jsonl"
    engine = make_engine(city_db.url)
    try:
        with path.open("wb") as out:
            count = export_log(engine, out).count
    finally:
        engine.dispose()
    return path, count


def measure(url: str, log: Path) -> dict[str, float]:
    from events.catalog import REGISTRY
    from events.database import make_engine
    from events.transfer import export_log, import_log
    from events.verify import verify_chain

    engine = make_engine(url)
    try:
        started = time.perf_counter()
        with log.open("rb") as source:
            import_log(engine, source, REGISTRY)
        imported = time.perf_counter() - started
        started = time.perf_counter()
        verified = verify_chain(engine)
        verify_s = time.perf_counter() - started
        out = io.BytesIO()
        started = time.perf_counter()
        export_log(engine, out)
        export_s = time.perf_counter() - started
    finally:
        engine.dispose()
    if not verified.ok or out.getvalue() != log.read_bytes():
        raise SystemExit(f"{url}: the log did not verify, or the export differs from the file")
    return {"import": imported, "verify": verify_s, "export": export_s}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=20_000, help="tasks in the city year")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "all"), default="all")
    args = parser.parse_args(argv)
    backends = reachable_backends(args.backend)

    with tempfile.TemporaryDirectory(prefix="nhiemvu-log-io-") as directory:
        source = Path(directory) / "source"
        source.mkdir()
        log, events = build_city_log(source, args.tasks)
        print(f"A city year: {events:,} events, {log.stat().st_size / 2**20:.1f} MB of JSON Lines")
        print(
            f"{'backend':12s} {'import s':>9s} {'verify s':>9s} {'export s':>9s} {'verify ev/s':>12s}"
        )
        for backend in backends:
            runs = []
            for n in range(args.repeats):
                if backend == "sqlite":
                    folder = Path(directory) / f"{backend}-{n}"
                    folder.mkdir()
                    target = SqliteCity(folder)
                else:
                    target = PostgresCity()
                try:
                    runs.append(measure(target.url, log))
                finally:
                    target.drop()
            med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            print(
                f"{backend:12s} {med['import']:9.2f} {med['verify']:9.2f} {med['export']:9.2f} "
                f"{events / med['verify']:12,.0f}"
            )


if __name__ == "__main__":
    main()
