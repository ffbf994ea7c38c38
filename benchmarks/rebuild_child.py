"""One rebuild of the projection from scratch, in a fresh process:
`python -m benchmarks.rebuild_child URL [--tracemalloc]` prints one JSON line — the
events, the seconds, the memory of this process and of each process it started
(the rebuild's workers), and the time of the same reads of the log with nothing
applied. Run by the city benchmark for figure 3, and by hand on a copy of a
database.

A module of its own, importing little: the rebuild's workers are spawned, and each
imports the main module again — the city benchmark's imports cost a worker 0.2 s
more than the command line's.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import threading
import time
from pathlib import Path


def current_rss_kib() -> int:
    """Resident set size now, in KiB."""
    return memory_status().get("VmRSS") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def peak_rss_kib() -> int:
    """Peak RSS of this process image, in KiB. Not ru_maxrss: on Linux it survives
    exec, so a child spawned by a big parent reports the parent's size at fork."""
    return memory_status().get("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def process_status(pid: int | str) -> dict[str, int]:
    """VmRSS, VmHWM… of a process (Linux /proc), in KiB; empty once it has gone."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    keys = ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem")
    return {line.split(":")[0]: int(line.split()[1]) for line in lines if line.startswith(keys)}


def memory_status() -> dict[str, int]:
    """This process's memory figures (see process_status)."""
    return process_status("self")


def child_pids() -> list[int]:
    """The processes this one's threads started and have not yet reaped (Linux /proc).
    Read from each thread's `children` (15 µs), not by scanning every process's
    `stat`: the scan took a tenth of the rebuild's process, which it was measuring."""
    found = []
    for thread in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{thread}/children") as children:
                found.extend(int(pid) for pid in children.read().split())
        except OSError:  # the thread has ended
            continue
    return found


class WorkersMemory:
    """The peak RSS (VmHWM) of each process this one starts while it runs — a
    rebuild's worker processes —, read every few milliseconds until each ends.
    Their sum, added to this process's own peak, bounds the rebuild's memory from
    above (as if every process peaked at once)."""

    def __init__(self, every_s: float = 0.02) -> None:
        self.peaks_kib: dict[int, int] = {}
        self._every_s = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> WorkersMemory:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._stop.wait(self._every_s):
            for pid in child_pids():
                peak = process_status(pid).get("VmHWM")
                if peak is not None:
                    self.peaks_kib[pid] = max(peak, self.peaks_kib.get(pid, 0))


def rebuild_child(url: str, trace: bool) -> None:
    """Runs in a fresh process: one full rebuild; prints one JSON line."""
    import tracemalloc

    from application.app import App
    from events.memory import collector_paused
    from events.projections import REBUILD_BATCH, rebuild

    app = App(url, "benchmark")
    before = current_rss_kib()
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    with WorkersMemory() as workers:
        count = rebuild(app.store, app.ledger.projection)
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if trace else None
    after = peak_rss_kib()
    # The ceiling of any rebuild that decodes every event in Python: the same
    # reads of the log, with nothing applied.
    started = time.perf_counter()
    with collector_paused():  # as the rebuild runs
        read = sum(len(batch) for batch in app.store.feed_batches(1, REBUILD_BATCH))
    read_seconds = time.perf_counter() - started
    app.close()
    print(
        json.dumps(
            {
                "events": count,
                "seconds": elapsed,
                "read_events": read,
                "read_seconds": read_seconds,
                "rss_before_kib": before,
                "peak_rss_after_kib": after,
                "workers_peak_rss_kib": sorted(workers.peaks_kib.values()),
                "tracemalloc_peak_bytes": peak,
                "status_after_kib": memory_status(),
            }
        )
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.rebuild_child")
    parser.add_argument("url", help="the database, rebuilt in place: give it a copy")
    parser.add_argument("--tracemalloc", action="store_true", help="also trace allocations")
    args = parser.parse_args(argv)
    rebuild_child(args.url, args.tracemalloc)


if __name__ == "__main__":
    main()
