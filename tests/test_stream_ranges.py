"""Reading the log a range of streams at a time (events.stream_ranges), on both engines.

One log, written once per test: task streams whose ids sort out of number order
as text (NV-9 after NV-10000), documents and other streams, their events
interleaved. Each example cuts the tasks into ranges, reads some of them — or every
other stream — between two positions, and must get exactly the events a filter of
the whole log keeps, in log order.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events import EventRegistry, EventStore, NewEvent
from events.database import make_engine
from events.sql import Raw
from events.stream_ranges import StreamRange, feed_ranges, stream_ranges

T0 = datetime(2026, 5, 4, 1, 0, tzinfo=UTC)
TASKS, DOCUMENTS = "task:", "document:"
TASK_NUMBERS = [1, 2, 9, 10, 11, 99, 100, 101, 999, 1000, 1001, 9999, 10000, 10001, 10002, 12345]
OTHER_STREAMS = ["agency:UBND", "directive:01/CT", "task-counter", "tasks:NV-5"]
_LOGS: dict[str, list[tuple[int, str]]] = {}  # the log written in each database


def registry() -> EventRegistry:
    registry = EventRegistry()
    registry.register("load.noted")
    return registry


def write_log(engine) -> list[tuple[int, str]]:
    """Every stream's events, interleaved at random (seeded); returns (position, stream)."""
    rng = random.Random(6)
    streams = [f"{TASKS}NV-{n}" for n in TASK_NUMBERS]
    streams += [f"{DOCUMENTS}{n:02d}/TB" for n in range(1, 5)] + OTHER_STREAMS
    pending = [stream for stream in streams for _ in range(rng.randint(1, 4))]
    rng.shuffle(pending)
    store = EventStore(engine, registry())
    for i, stream in enumerate(pending):
        with store.transaction() as tx:
            tx.append(stream, [NewEvent("load.noted", {"i": i}, T0)])
    with engine.connect() as connection:
        return [tuple(row) for row in connection.exec_driver_sql(
            "SELECT position, stream_id FROM events ORDER BY position"
        )]  # fmt: skip


def in_range(stream_id: str, streams: StreamRange) -> bool:
    # Ids of digits after one prefix: every collation orders them as Python does.
    return (
        stream_id.startswith(streams.prefix)
        and (streams.first is None or streams.first <= stream_id)
        and (streams.last is None or stream_id <= streams.last)
    )


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_a_range_read_gives_exactly_its_streams_events_in_log_order(db_url, data):
    engine = make_engine(db_url)
    try:
        if db_url not in _LOGS:  # the first example writes it; the others only read
            _LOGS[db_url] = write_log(engine)
        log = _LOGS[db_url]
        head = log[-1][0]
        store = EventStore(engine, registry())
        size = data.draw(st.integers(1, len(TASK_NUMBERS)), "tasks a range")
        multiple_of = data.draw(st.sampled_from([1, 2, 3]), "multiple of")
        excluding = data.draw(st.booleans(), "every other stream")
        with engine.connect() as connection:
            raw = Raw(connection)
            ranges = stream_ranges(raw, TASKS, size, multiple_of)
            documents = stream_ranges(raw, DOCUMENTS, 2**62)
            first = data.draw(st.integers(0, len(ranges) - 1), "first range")
            chosen = ranges[first : data.draw(st.integers(first + 1, len(ranges)), "end")]
            if data.draw(st.booleans(), "with the documents"):
                chosen += documents
            if excluding:
                chosen = [StreamRange(TASKS)]
            up_to = data.draw(st.integers(1, head), "up to")
            from_position = data.draw(st.none() | st.integers(1, head), "from")
            read = [
                (event.position, event.stream_id)
                for batch in feed_ranges(
                    store,
                    raw,
                    chosen,
                    data.draw(st.sampled_from([1, 3, 1000]), "batch"),
                    excluding,
                    up_to=up_to,
                    from_position=from_position,
                )
                for event in batch
            ]

        def kept(position: int, stream_id: str) -> bool:
            inside = any(in_range(stream_id, streams) for streams in chosen)
            return (
                inside != excluding
                and position <= up_to
                and (from_position is None or position >= from_position)
            )

        assert read == [(position, stream) for position, stream in log if kept(position, stream)]
        # The ranges cut the tasks into shares: every task in exactly one of them.
        tasks = {stream for _, stream in log if stream.startswith(TASKS)}
        for stream in tasks:
            assert sum(in_range(stream, streams) for streams in ranges) == 1, stream
        # …in equal shares (within one) of at most `size`, as many as a multiple of
        # `multiple_of` — unless there are fewer tasks than that.
        shares = [sum(in_range(stream, streams) for stream in tasks) for streams in ranges]
        wanted = math.ceil(math.ceil(len(tasks) / size) / multiple_of) * multiple_of
        assert len(shares) == min(wanted, len(tasks))
        assert max(shares) <= size and max(shares) - min(shares) <= 1
        # Each range knows where its earliest stream opens.
        for streams in ranges:
            opened = [p for p, stream in log if in_range(stream, streams)]
            assert streams.opened_at == min(opened)
    finally:
        engine.dispose()


def test_a_stream_is_planned_for_all_its_rows_and_only_in_its_transaction(postgres_server):
    """PostgreSQL plans a cursor for its first tenth unless told otherwise: a range
    of streams then came in position order, filtering the whole log (see
    Raw.stream). A stream reads every row; the setting must not outlive its
    transaction, on a connection kept for the next one."""
    setting = "SELECT current_setting('cursor_tuple_fraction')"
    engine = make_engine(postgres_server.new_database())
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SET cursor_tuple_fraction = 0.1")  # the session's
            connection.commit()
            with connection.begin():
                [[(inside,)]] = list(Raw(connection).stream(setting, {}, 10))
            after = connection.exec_driver_sql(setting).scalar()
    finally:
        engine.dispose()
    assert (inside, after) == ("1", "0.1")
