"""Canonical encoding of events: JSON payloads, UTC timestamps and the hash chain."""

from __future__ import annotations

import hashlib
import json
import math
from datetime import UTC, datetime
from json.encoder import encode_basestring
from typing import Any

from .errors import InvalidEvent

GENESIS_HASH = "0" * 64


def require_aware(value: datetime, what: str) -> datetime:
    if not isinstance(value, datetime):
        raise InvalidEvent(f"{what} phải là một thời điểm (datetime), nhận được {value!r}.")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidEvent(
            f"{what} thiếu múi giờ ({value.isoformat()}). "
            "Hãy cho thời điểm kèm múi giờ, ví dụ Asia/Ho_Chi_Minh."
        )
    return value


def to_utc(value: datetime) -> datetime:
    """Normalise to UTC, attaching UTC to the naive values SQLite hands back."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def format_instant(value: datetime) -> str:
    """The one textual form of an instant used in hashes and exports:
    `2023-03-31T17:00:00.000000Z` (isoformat is faster than strftime)."""
    return to_utc(value).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_instant(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


# The longest stream id and actor the log's columns hold (events.schema): PostgreSQL
# refuses longer, SQLite would keep them, so appends refuse them on both.
STREAM_ID_LENGTH = 200
ACTOR_LENGTH = 200

# The integers a stored document may hold: those that events.sql.loads (orjson)
# reads back as integers, from the lowest signed to the highest unsigned 64-bit one.
STORED_INTEGERS = range(-(2**63), 2**64)


def check_json_data(value: Any, path: str = "payload") -> None:
    """Refuse anything that would not survive a JSON round trip unchanged."""
    if value is None or isinstance(value, (bool, str)):
        return
    if isinstance(value, int):
        if value not in STORED_INTEGERS:
            raise InvalidEvent(
                f"{path}: số nguyên {value} vượt quá 64 bit, không lưu được nguyên vẹn."
            )
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidEvent(f"{path}: số không hữu hạn ({value}) không lưu được dưới dạng JSON.")
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            check_json_data(item, f"{path}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidEvent(f"{path}: khóa {key!r} phải là chuỗi.")
            check_json_data(item, f"{path}.{key}")
        return
    raise InvalidEvent(
        f"{path}: giá trị kiểu {type(value).__name__} không lưu được dưới dạng JSON ({value!r})."
    )


# Sorted keys at every depth, no spaces, UTF-8 text unescaped. json.dumps with
# options builds a new encoder on every call; this one is built once.
canonical_json = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


def event_digest(prev_hash: str, fields: dict[str, Any]) -> str:
    """SHA-256 of the previous hash and the canonical encoding of one event's fields."""
    return chain_digest(prev_hash, canonical_json(fields))


def chain_digest(prev_hash: str, body: str) -> str:
    return hashlib.sha256((prev_hash + "\n" + body).encode("utf-8")).hexdigest()


def _text(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)


def event_body(row: dict[str, Any], payload_json: str, metadata_json: str) -> str:
    """`canonical_json(hashed_fields(row))`, built around payload and metadata already
    in canonical form — the append stores those very texts, so each is encoded once.
    Keys in sorted order; tests check it against the general form."""
    occurred, recorded = format_instant(row["occurred_at"]), format_instant(row["recorded_at"])
    return canonical_body(row, payload_json, metadata_json, occurred, recorded)


def canonical_body(
    row: dict[str, Any], payload_json: str, metadata_json: str, occurred_at: str, recorded_at: str
) -> str:
    """`event_body` with the instants already as `format_instant` writes them."""
    return (
        f'{{"actor":{_text(row["actor"])},"causation_id":{_text(row["causation_id"])},'
        f'"correlation_id":{_text(row["correlation_id"])},"event_id":{_text(row["event_id"])},'
        f'"event_type":{_text(row["event_type"])},"metadata":{metadata_json},'
        f'"occurred_at":"{occurred_at}","payload":{payload_json},'
        f'"position":{int(row["position"])},"recorded_at":"{recorded_at}",'
        f'"schema_version":{int(row["schema_version"])},"stream_id":{_text(row["stream_id"])},'
        f'"stream_version":{int(row["stream_version"])}}}'
    )


def hashed_fields(row: dict[str, Any]) -> dict[str, Any]:
    """The stored fields of an event that the chain protects, in canonical form."""
    return {
        "position": row["position"],
        "event_id": row["event_id"],
        "stream_id": row["stream_id"],
        "stream_version": row["stream_version"],
        "event_type": row["event_type"],
        "schema_version": row["schema_version"],
        "occurred_at": format_instant(row["occurred_at"]),
        "recorded_at": format_instant(row["recorded_at"]),
        "actor": row["actor"],
        "causation_id": row["causation_id"],
        "correlation_id": row["correlation_id"],
        "payload": row["payload"],
        "metadata": row["metadata"],
    }
