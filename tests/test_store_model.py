"""Random sequences of appends and reads, checked against a list in memory.

The model is what the store promises, written as plainly as possible: one
list of events in position order; a stream is the events with its id; an
append checks idempotency first (a retry is answered with what was stored),
then the expected version, and writes all of its events or none.

On SQLite every example gets its own database file. On PostgreSQL examples
share one database (creating one per example would dominate the run time):
each uses stream names of its own and positions relative to the head it
started from.
"""

from __future__ import annotations

import itertools
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from events import (
    ANY_VERSION,
    ConcurrencyError,
    EventRegistry,
    EventStore,
    IdempotencyConflict,
    InvalidEvent,
    NewEvent,
    RecordedEvent,
    UnknownEventType,
)
from events.database import make_engine
from events.verify import verify_chain

T0 = datetime(2026, 7, 1, 1, 0, tzinfo=UTC)
STREAM_NAMES = ["a", "b", "c"]
TYPES = ["m.one", "m.two"]

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
payloads = st.dictionaries(
    st.text(max_size=6),
    st.one_of(json_scalars, st.lists(json_scalars, max_size=3)),
    max_size=3,
)
new_events = st.builds(
    NewEvent,
    type=st.sampled_from(TYPES),
    data=payloads,
    occurred_at=st.integers(0, 10_000).map(lambda s: T0 + timedelta(seconds=s)),
)


def registry() -> EventRegistry:
    registry = EventRegistry()
    for name in TYPES:
        registry.register(name)
    return registry


@dataclass(frozen=True)
class Stored:
    """The model's view of one event: what the store must give back."""

    event_id: str
    stream_id: str
    stream_version: int
    type: str
    data: dict
    occurred_at: datetime
    actor: str


def observed(event: RecordedEvent) -> Stored:
    return Stored(
        event.event_id,
        event.stream_id,
        event.stream_version,
        event.type,
        event.data,
        event.occurred_at,
        event.actor,
    )


def test_store_behaves_like_the_model(backend, db_url, tmp_path, sqlite_template):
    shared_engine = make_engine(db_url) if backend == "postgresql" else None
    examples = itertools.count()

    class StoreModel(RuleBasedStateMachine):
        @initialize()
        def open_store(self):
            n = next(examples)
            if shared_engine is None:
                path = tmp_path / f"example-{n}.db"
                shutil.copy(sqlite_template, path)
                self.engine = make_engine(f"sqlite:///{path}")
            else:
                self.engine = shared_engine
            self.store = EventStore(self.engine, registry())
            self.prefix = f"ex{n}-"
            self.base = self.store.head_position()
            self.log: list[Stored] = []
            self.batches: list[tuple[str, list[NewEvent]]] = []

        # -- the model ------------------------------------------------------

        def stream(self, name: str) -> str:
            return self.prefix + name

        def version(self, stream_id: str) -> int:
            return sum(1 for e in self.log if e.stream_id == stream_id)

        def position(self, index: int) -> int:
            return self.base + index + 1

        def expected_outcome(self, stream_id, batch, expected):
            """("stored", [indexes]) | ("duplicate", [indexes]) | error class."""
            by_id = {e.event_id: i for i, e in enumerate(self.log)}
            existing = sorted(by_id[e.event_id] for e in batch if e.event_id in by_id)
            if existing:
                if len(existing) != len(batch):
                    return IdempotencyConflict
                if any(self.log[i].stream_id != stream_id for i in existing):
                    return IdempotencyConflict
                return "duplicate", existing
            current = self.version(stream_id)
            if expected != ANY_VERSION and expected != current:
                return ConcurrencyError
            first = len(self.log)
            for offset, new in enumerate(batch, start=1):
                self.log.append(
                    Stored(
                        new.event_id,
                        stream_id,
                        current + offset,
                        new.type,
                        new.data,
                        new.occurred_at,
                        "tester",
                    )
                )
            self.batches.append((stream_id, batch))
            return "stored", list(range(first, len(self.log)))

        def check_append(self, stream_id, batch, expected, rolled_back=False):
            log_before, batches_before = list(self.log), list(self.batches)
            outcome = self.expected_outcome(stream_id, batch, expected)
            try:
                if rolled_back:
                    with pytest.raises(_Rollback), self.store.transaction() as tx:
                        result = tx.append(stream_id, batch, expected, actor="tester")
                        raise _Rollback
                else:
                    result = self.store.append(stream_id, batch, expected, actor="tester")
            except (ConcurrencyError, IdempotencyConflict) as exc:
                assert outcome is type(exc), (outcome, exc)
                return
            assert isinstance(outcome, tuple), (outcome, result)
            kind, indexes = outcome
            assert result.duplicate == (kind == "duplicate")
            assert [observed(e) for e in result.events] == [self.log[i] for i in indexes]
            assert [e.position for e in result.events] == [self.position(i) for i in indexes]
            if rolled_back:
                self.log, self.batches = log_before, batches_before

        # -- rules ----------------------------------------------------------

        @rule(
            name=st.sampled_from(STREAM_NAMES),
            batch=st.lists(new_events, min_size=1, max_size=4),
            # Weighted towards appends that succeed, so that the log grows.
            how=st.sampled_from(["right", "right", "any", "any", "stale", "ahead", "no stream"]),
            rolled_back=st.sampled_from([False, False, False, True]),
        )
        def append(self, name, batch, how, rolled_back):
            stream_id = self.stream(name)
            current = self.version(stream_id)
            expected = {
                "right": current,
                "any": ANY_VERSION,
                "stale": max(current - 1, 0),
                "ahead": current + 1,
                "no stream": 0,
            }[how]
            self.check_append(stream_id, batch, expected, rolled_back)

        @precondition(lambda self: self.batches)
        @rule(
            data=st.data(),
            how=st.sampled_from(["same", "subset", "other stream", "with a new one", "merged"]),
            expected=st.sampled_from([ANY_VERSION, 0, 1, 5]),
        )
        def retry(self, data, how, expected):
            stream_id, batch = data.draw(st.sampled_from(self.batches))
            if how == "subset":
                batch = data.draw(
                    st.lists(st.sampled_from(batch), min_size=1, unique_by=lambda e: e.event_id)
                )
            elif how == "other stream":
                stream_id = self.stream(data.draw(st.sampled_from(STREAM_NAMES)))
            elif how == "with a new one":
                batch = [*batch, data.draw(new_events)]
            elif how == "merged":
                _, other = data.draw(st.sampled_from(self.batches))
                batch = list({e.event_id: e for e in [*batch, *other]}.values())
            self.check_append(stream_id, batch, expected)

        @rule(
            name=st.sampled_from(STREAM_NAMES),
            bad=st.sampled_from(["unknown type", "naive time", "tuple payload"]),
        )
        def invalid_append(self, name, bad):
            event, error = {
                "unknown type": (NewEvent("m.unknown", {}, T0), UnknownEventType),
                "naive time": (NewEvent("m.one", {}, T0.replace(tzinfo=None)), InvalidEvent),
                "tuple payload": (NewEvent("m.one", {"x": (1,)}, T0), InvalidEvent),
            }[bad]
            with pytest.raises(error):
                self.store.append(self.stream(name), [NewEvent("m.one", {}, T0), event])

        @rule(name=st.sampled_from(STREAM_NAMES))
        def read_stream(self, name):
            stream_id = self.stream(name)
            got = self.store.read_stream(stream_id)
            assert [observed(e) for e in got] == [e for e in self.log if e.stream_id == stream_id]
            assert [e.position for e in got] == [
                self.position(i) for i, e in enumerate(self.log) if e.stream_id == stream_id
            ]

        @rule(data=st.data(), batch_size=st.sampled_from([1, 2, 3, 1000]))
        def read_all(self, data, batch_size):
            start = data.draw(st.integers(0, len(self.log) + 1))
            got = list(
                self.store.read_all(from_position=self.base + start + 1, batch_size=batch_size)
            )
            assert [observed(e) for e in got] == self.log[start:]
            assert [e.position for e in got] == [
                self.position(i) for i in range(start, len(self.log))
            ]

        @invariant()
        def head_matches(self):
            if hasattr(self, "store"):
                assert self.store.head_position() == self.base + len(self.log)

        def teardown(self):
            if hasattr(self, "store"):
                result = verify_chain(self.engine)
                assert result.ok, result
                if shared_engine is None:
                    self.engine.dispose()

    try:
        run_state_machine_as_test(
            StoreModel,
            settings=settings(max_examples=40, stateful_step_count=40, deadline=None),
        )
    finally:
        if shared_engine is not None:
            shared_engine.dispose()


class _Rollback(Exception):
    pass
