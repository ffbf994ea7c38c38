"""Appends to the log until killed; run by tests/test_store_crash.py.

    python tests/crash_writer.py URL RUN [--hold]

Every transaction ("batch") writes k events whose payloads say "i of k in
batch B", sometimes split over two appends to two streams, so the test can
tell a complete batch from a torn one. After its first commit the writer
prints READY. With --hold it instead opens one transaction, appends a batch,
prints HOLDING and waits inside the transaction to be killed.
"""

from __future__ import annotations

import random
import sys
import time
from datetime import UTC, datetime

from events import EventRegistry, EventStore, NewEvent
from events.database import make_engine

T0 = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)
STREAMS = [f"crash-{n}" for n in range(4)]
SIZES = (1, 1, 2, 3, 5, 10, 50)


def registry() -> EventRegistry:
    registry = EventRegistry()
    registry.register("crash.noted")
    return registry


def batch_events(batch: str, k: int) -> list[NewEvent]:
    return [NewEvent("crash.noted", {"batch": batch, "i": i, "k": k}, T0) for i in range(1, k + 1)]


def write_batch(store: EventStore, rng: random.Random, batch: str) -> None:
    events = batch_events(batch, rng.choice(SIZES))
    streams = rng.sample(STREAMS, 2)
    split = rng.randrange(1, len(events)) if len(events) > 1 and rng.random() < 0.3 else 0
    with store.transaction() as tx:
        if split:
            tx.append(streams[0], events[:split])
            tx.append(streams[1], events[split:])
        else:
            tx.append(streams[0], events)


def main() -> None:
    url, run = sys.argv[1], sys.argv[2]
    hold = "--hold" in sys.argv[3:]
    store = EventStore(make_engine(url), registry())
    rng = random.Random(run)
    if hold:
        with store.transaction() as tx:
            tx.append(STREAMS[0], batch_events(f"{run}-held", 7))
            print("HOLDING", flush=True)
            time.sleep(3600)
        return
    counter = 0
    while True:
        write_batch(store, rng, f"{run}-{counter}")
        if counter == 0:
            print("READY", flush=True)
        counter += 1


if __name__ == "__main__":
    main()
