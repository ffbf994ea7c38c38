"""Recompute the hash chain of the whole log and find the first broken link."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from .chain import LINK_BATCH, BrokenLink, walk_chain
from .database import read_snapshot
from .errors import HeadMissing
from .feeds import head_row
from .serialization import GENESIS_HASH
from .sql import Raw

_EDITED = "mã băm không khớp: nội dung sự kiện đã bị sửa ngoài hệ thống"
_BEYOND_HEAD = "dòng ở sau đầu sổ (event_log_head): được chèn trực tiếp vào cơ sở dữ liệu"


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    broken_position: int | None = None
    reason: str | None = None
    last_hash: str | None = None  # of the last event checked, when the chain holds
    anchor_position: int | None = None  # where the expected hash was found


def verify_chain(
    engine: Engine,
    batch_size: int = LINK_BATCH,
    progress: Callable[[int], None] | None = None,
    expect_hash: str | None = None,
) -> VerifyResult:
    """Walk the stored rows (raw, not upcast) and check positions, hashes and the head.

    The head and the rows are read in one snapshot, so an append made meanwhile is
    either wholly seen or not at all, and never taken for a head out of step.
    `progress` gets the number of events checked, a batch at a time.

    The chain is not keyed: someone who edits an event and computes every hash after
    it again leaves a chain that holds. `expect_hash`, a hash noted outside the
    database (printed by verify and export), must then be one of its links: a log
    rewritten before the event it was noted at no longer holds it."""
    prev_hash, checked, anchor = GENESIS_HASH, 0, None
    wanted = None if expect_hash is None else expect_hash.strip().lower()
    with read_snapshot(engine) as connection:
        raw = Raw(connection)
        try:
            head_position, head_hash = head_row(raw, "last_position, last_hash")
        except HeadMissing:
            return VerifyResult(False, 0, None, "đầu sổ (event_log_head) không còn dòng nào")
        try:
            for link in walk_chain(raw, batch_size=batch_size):
                prev_hash, checked = link.hash, checked + 1
                if link.hash == wanted:
                    anchor = checked
                if progress is not None and checked % batch_size == 0:
                    progress(batch_size)
        except BrokenLink as broken:
            reason = _EDITED if broken.kind == "hash" else broken.sequence_detail
            if broken.position > head_position:
                reason = _BEYOND_HEAD
            return VerifyResult(False, checked, broken.position, reason)
    if progress is not None and checked % batch_size:
        progress(checked % batch_size)
    if head_position != checked or head_hash != prev_hash:
        return VerifyResult(
            False,
            checked,
            checked + 1 if head_position > checked else checked,
            "đầu sổ (event_log_head) không khớp với sự kiện cuối: sổ đã bị cắt bớt hoặc sửa",
        )
    if wanted is not None and anchor is None:
        return VerifyResult(
            False,
            checked,
            None,
            f"không có sự kiện nào mang mã băm đối chiếu {wanted} (--expect-hash): sổ đã bị "
            "viết lại từ trước sự kiện mang mã đó, cả các mã băm, hoặc mã băm ghi lại bị sai",
        )
    return VerifyResult(
        True, checked, last_hash=prev_hash if checked else None, anchor_position=anchor
    )
