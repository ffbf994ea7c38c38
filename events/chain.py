"""Walking the stored log along its hash chain, for `events verify` and `events export`.

Each link is checked as it is read: positions follow one another from 1, and each
hash is the digest of the previous one and the event's canonical body. The body is
built from the stored payload and metadata *texts*: the append stores the very
canonical text it hashed, so an untouched row hashes without decoding any JSON
(a third of the time a link took when each row was decoded and encoded again).
Only when that digest differs is the row decoded and encoded canonically — a text
written by other means (an old version, a hand-made INSERT) may hold the same
content in another form — and only when that differs too is the link broken.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from .serialization import (
    GENESIS_HASH,
    canonical_body,
    canonical_json,
    chain_digest,
    format_instant,
)
from .sql import Raw, loads

LINK_BATCH = 5000


class Link(NamedTuple):
    """One stored event in canonical form: instants as `format_instant` writes them,
    payload and metadata as canonical JSON text. Fields in the export's order."""

    position: int
    event_id: str
    stream_id: str
    stream_version: int
    event_type: str
    schema_version: int
    occurred_at: str
    recorded_at: str
    actor: str
    causation_id: str | None
    correlation_id: str | None
    payload: str
    metadata: str
    hash: str


class BrokenLink(Exception):
    """The chain breaks at `position`: `kind` is "gap" (an event missing, `found` is
    the next position stored), "order" (a position repeated or out of order) or
    "hash" (the row's content or hash was changed)."""

    def __init__(self, position: int, kind: str, found: int | None = None) -> None:
        super().__init__(position, kind, found)
        self.position = position
        self.kind = kind
        self.found = found

    @property
    def sequence_detail(self) -> str:
        """What is wrong with the positions, for a "gap" or an "order" break."""
        if self.kind == "gap":
            return (
                f"thiếu sự kiện ở vị trí {self.position} "
                f"(sự kiện tiếp theo mang vị trí {self.found})"
            )
        return f"vị trí {self.found} lặp lại hoặc sai thứ tự (mong đợi vị trí {self.position})"


def walk_chain(raw: Raw, up_to: int | None = None, batch_size: int = LINK_BATCH) -> Iterator[Link]:
    """Every stored event from position 1 (up to `up_to`), checked; BrokenLink at the
    first break. One statement streamed: the links come from one snapshot."""
    text = (
        "payload, metadata"
        if raw.dialect.sqlite
        else "CAST(payload AS text), CAST(metadata AS text)"
    )
    sql = (
        "SELECT position, event_id, stream_id, stream_version, event_type, schema_version, "
        f"occurred_at, recorded_at, actor, causation_id, correlation_id, {text}, hash "
        "FROM events"
        + (" WHERE position <= :up_to" if up_to is not None else "")
        + " ORDER BY position"
    )
    instant = _instant_text(raw)
    prev_hash, expected = GENESIS_HASH, 1
    for rows in raw.stream(sql, {"up_to": up_to}, batch_size):
        for row in rows:
            position = row[0]
            if position != expected:
                raise BrokenLink(expected, "gap" if position > expected else "order", position)
            link = Link(*row[:6], instant(row[6]), instant(row[7]), *row[8:])
            if chain_digest(prev_hash, _body(link)) != link.hash:
                link = _canonical(link)
                if link is None or chain_digest(prev_hash, _body(link)) != link.hash:
                    raise BrokenLink(position, "hash")
            yield link
            prev_hash, expected = link.hash, expected + 1


def _body(link: Link) -> str:
    return canonical_body(
        link._asdict(), link.payload, link.metadata, link.occurred_at, link.recorded_at
    )


def _canonical(link: Link) -> Link | None:
    """The link with its payload and metadata encoded canonically (see the module);
    None when either is not JSON at all (SQLite stores any text)."""
    try:
        payload, metadata = loads(link.payload), loads(link.metadata)
    except ValueError:
        return None
    return link._replace(payload=canonical_json(payload), metadata=canonical_json(metadata))


def _instant_text(raw: Raw):
    """Stored instant → `format_instant` text. SQLite stores `2023-03-31 17:00:00.000000`
    (naive UTC), which needs only two characters changed."""
    to_instant = raw.dialect.to_instant

    def text(value) -> str:
        if isinstance(value, str) and len(value) == 26 and value[10] == " ":
            return f"{value[:10]}T{value[11:]}Z"
        return format_instant(to_instant(value))

    return text
