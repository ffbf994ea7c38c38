"""Recompute the hash chain of the whole log and find the first broken link."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .schema import events as events_table
from .schema import log_head
from .serialization import GENESIS_HASH, event_digest, hashed_fields

VERIFY_BATCH = 5000


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    broken_position: int | None = None
    reason: str | None = None


def verify_chain(engine: Engine, batch_size: int = VERIFY_BATCH) -> VerifyResult:
    """Walk the stored rows (raw, not upcast) and check positions, hashes and the head."""
    prev_hash = GENESIS_HASH
    expected_position = 1
    checked = 0
    with engine.connect() as connection:
        after = 0
        while True:
            rows = (
                connection.execute(
                    sa.select(events_table)
                    .where(events_table.c.position > after)
                    .order_by(events_table.c.position)
                    .limit(batch_size)
                )
                .mappings()
                .all()
            )
            if not rows:
                break
            for row in rows:
                position = row["position"]
                if position != expected_position:
                    return VerifyResult(
                        False,
                        checked,
                        expected_position,
                        f"thiếu sự kiện ở vị trí {expected_position} (vị trí kế tiếp là {position})",
                    )
                if event_digest(prev_hash, hashed_fields(row)) != row["hash"]:
                    return VerifyResult(
                        False,
                        checked,
                        position,
                        "mã băm không khớp: nội dung sự kiện đã bị sửa ngoài hệ thống",
                    )
                prev_hash = row["hash"]
                expected_position += 1
                checked += 1
            after = rows[-1]["position"]
        head = connection.execute(sa.select(log_head)).mappings().one()
    if head["last_position"] != checked or head["last_hash"] != prev_hash:
        return VerifyResult(
            False,
            checked,
            checked + 1 if head["last_position"] > checked else checked,
            "đầu sổ (event_log_head) không khớp với sự kiện cuối: sổ đã bị cắt bớt hoặc sửa",
        )
    return VerifyResult(True, checked)
