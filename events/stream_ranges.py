"""Feeding a projection the log one range of streams at a time.

A projection whose rows each depend on one stream (and on a few streams every
range reads along) can be rebuilt a range of streams at a time: when a range's
feed ends, its rows are final, so they are written once and leave memory. A
single pass over a log holding more live streams than memory can hold must
instead write rows out early and read them back for each later event.

Ranges are bounded by stream ids read from the log itself and compared by the
database, in its own order (collation), and every range is also filtered by its
prefix: nothing here orders ids in Python, so no collation can split a stream
between two ranges or leave one out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import EventNotProjected

if TYPE_CHECKING:
    from .sql import Raw
    from .store import EventStore, ProjectedEvent


@dataclass(frozen=True)
class StreamRange:
    """The streams whose id begins with `prefix` and, when given, lies between
    `first` and `last` (both included) in the database's order; `opened_at`, when
    known, the position of the first event of the earliest of them: none of their
    events comes before it."""

    prefix: str
    first: str | None = None
    last: str | None = None
    opened_at: int | None = None


def _prefixed(prefix: str, name: str) -> str:
    # Not LIKE: `_` in a prefix would be a wildcard.
    return f"substr(stream_id, 1, {len(prefix)}) = :{name}"


def _first_events(prefix: str) -> str:
    return f"FROM events WHERE stream_version = 1 AND {_prefixed(prefix, 'prefix')}"


def count_streams(raw: Raw, prefix: str) -> int:
    """How many streams begin with `prefix`."""
    return raw.one(f"SELECT COUNT(*) {_first_events(prefix)}", {"prefix": prefix})[0]


def stream_ranges(
    raw: Raw, prefix: str, size: int, multiple_of: int = 1, streams: int | None = None
) -> list[StreamRange]:
    """The streams beginning with `prefix` (`streams` of them, if counted already),
    cut into ranges of at most `size` streams — and of equal shares, as many as a
    multiple of `multiple_of` (the processes that will fold them side by side, see
    events.rebuild_workers).

    The database orders the ids (the stream index gives them in order); Python only
    counts them off, the first ranges taking one more when the shares are not even.
    Not NTILE over the same rows: its window holds every row before the first tile
    comes out, and took 1.45 s of a city decade's rebuild, against 0.55 s, before any
    worker could start."""
    if streams is None:
        streams = count_streams(raw, prefix)
    if not streams:
        return []
    ranges = -(-streams // size)
    ranges = -(-ranges // multiple_of) * multiple_of
    share, longer = divmod(streams, ranges)
    # The number of streams seen when each range ends (the last one: whatever comes).
    ends = [share * (n + 1) + min(n + 1, longer) for n in range(ranges - 1)]
    found: list[StreamRange] = []
    first = last = opened_at = None
    seen = 0
    ordered = f"SELECT stream_id, position {_first_events(prefix)} ORDER BY stream_id"
    for rows in raw.stream(ordered, {"prefix": prefix}, _IDS_A_BATCH):
        for stream_id, position in rows:
            if first is None:
                first, opened_at = stream_id, position
            last, opened_at = stream_id, min(opened_at, position)
            seen += 1
            if len(found) < len(ends) and seen == ends[len(found)]:
                found.append(StreamRange(prefix, first, last, opened_at))
                first = None
    if first is not None:
        found.append(StreamRange(prefix, first, last, opened_at))
    return found


# Ids read at a time while ranges are cut.
_IDS_A_BATCH = 10_000


def feed_ranges(
    store: EventStore,
    raw: Raw,
    ranges: Sequence[StreamRange],
    batch_size: int,
    excluding: bool = False,
    up_to: int | None = None,
    from_position: int | None = None,
    payload_bytes: bool = False,
) -> Iterator[list[ProjectedEvent]]:
    """The events of the streams in `ranges` — of every other stream, `excluding` —
    in log order from position `from_position` up to `up_to`, in batches, from one
    query (`payload_bytes`: see EventStore.feed_select)."""
    params: dict[str, Any] = {}
    terms = []
    for n, streams in enumerate(ranges):
        term = []
        if streams.first is not None:
            term.append(f"stream_id >= :first{n}")
            params[f"first{n}"] = streams.first
        if streams.last is not None:
            term.append(f"stream_id <= :last{n}")
            params[f"last{n}"] = streams.last
        # The prefix last: SQLite tests the terms in their order, and most rows of a
        # scan fail a comparison sooner than the call (0.15 s against 0.2 s a scan).
        term.append(_prefixed(streams.prefix, f"prefix{n}"))
        params[f"prefix{n}"] = streams.prefix
        terms.append(f"({' AND '.join(term)})")
    condition = " OR ".join(terms) or "1 = 0"
    if excluding:
        condition = f"NOT ({condition})"
    sqlite = store.dialect.sqlite
    # SQLite: the ranges' positions are found in the stream index alone (it holds
    # the rowid), and their rows then read in position order — neither a scan of
    # the whole log nor a sort of whole rows. Half the city decade's task ranges,
    # rows only: 0.8 s of CPU, against 1.2 s through the index and a sort, and
    # 0.8–1.3 s by scans as the log is cut in 4 to 12 ranges. Every other stream
    # is a scan, which a NOT cannot narrow. PostgreSQL reads the index ranges.
    by_positions = sqlite and not excluding
    # `+position` where the stream index finds the rows: not a bound on the
    # position's own index, which SQLite would scan instead (the rowid), and
    # PostgreSQL without statistics AND's with the stream index's range, a bitmap of
    # much of the log for every range (a tenth of a national year: 17.0–17.5 s
    # against 17.2–18.0 s).
    position = "position" if excluding else "+position"
    if up_to is not None:
        condition = f"({condition}) AND {position} <= :up_to"
        params["up_to"] = up_to
    if from_position is not None:
        # A range of late streams skips the beginning of the log.
        condition = f"({condition}) AND {position} >= :from_position"
        params["from_position"] = from_position
    if by_positions:
        condition = f"position IN (SELECT position FROM events WHERE {condition})"
    source = "events NOT INDEXED" if sqlite and excluding else "events"
    sql = f"{store.feed_select(source, payload_bytes)} WHERE {condition} ORDER BY position"
    for rows in raw.stream(sql, params, batch_size):
        yield store.projected(rows)


def feed_part(
    store: EventStore, raw: Raw, session: Any, part: RebuildPart, batch_size: int, up_to: int
) -> None:
    """Feed `session` its part's events up to position `up_to`, then flush it (the
    rebuild's process and its workers alike).

    A session that says it `takes_payload_bytes` is fed, on SQLite, each payload's
    text as its UTF-8 bytes: a rebuild keeps the payloads as text in the rows it
    writes, and as bytes they are neither decoded by the driver, nor encoded again
    by the JSON parser, the pickler of a worker's messages and the driver that
    stores them (a city decade's rebuild: 0.6–1.0 s of CPU less, 3–4 % of its time)."""
    read = feed_ranges(
        store,
        raw,
        part.streams,
        batch_size,
        part.excluding,
        up_to=up_to,
        from_position=part.from_position,
        payload_bytes=getattr(session, "takes_payload_bytes", False),
    )
    try:
        for batch in read:
            try:
                for event in batch:
                    session.apply(event)
            except SHAPE_ERRORS as exc:
                raise EventNotProjected(exc, event) from exc
            session.end_batch()
        session.flush()  # a session may fold what it was fed only as it writes it
    except SHAPE_ERRORS as exc:
        raise EventNotProjected(exc) from exc
    finally:
        read.close()  # its cursor, now: not once the connection is gone


# What folding a payload of an unexpected shape raises (a missing key, a date that is
# not one…): said of the event, not as a traceback from deep in the domain.
SHAPE_ERRORS = (KeyError, ValueError, TypeError, AttributeError, IndexError)


@dataclass(frozen=True)
class RebuildPart:
    """A share of a rebuild: the streams fed to it (every stream but those,
    `excluding`), in log order, and how to open its session over a Raw (`open`); the
    session is flushed when its feed ends.

    `detachable`: the session reads nothing from the database and writes only rows
    that no other part writes, so it may be fed in another process and its writes
    replayed in the rebuild's transaction (events.rebuild_workers); `open` is then
    pickled (a class or a module's function, or a partial of one).

    `from_position`: the events before it are not fed — the caller knows that none
    of them changes what the part writes."""

    open: Callable[[Any], Any]
    streams: Sequence[StreamRange]
    excluding: bool = False
    detachable: bool = False
    from_position: int | None = None
