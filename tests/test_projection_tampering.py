"""Projection tables changed behind the store's back: said so, and mended from the log.

The log is guarded by its triggers and its hash chain; the projection tables are
derived, so someone with direct access can edit them. A checkpoint moved back made
every command apply events again (a unique violation, or facts counted twice), the
rebuild that mends it included.
"""

from __future__ import annotations

import pytest
from nhiemvu_cli import Nhiemvu
from projection_rows import snapshot

OUT_OF_STEP = "Lỗi: Các bảng dẫn xuất không khớp với sổ sự kiện ("
MEND = "hãy chạy `nhiemvu projections rebuild` để dựng lại các bảng đó từ sổ."


def small_ledger(db_url: str) -> Nhiemvu:
    nv = Nhiemvu(db_url)
    nv.ok("agency", "add", "SXD", "--name", "Sở Xây dựng", "--kind", "so")
    nv.ok("directive", "add", "1/KH-UBND", "--date", "02/01/2023", "--title", "Kế hoạch")
    nv.ok("task", "assign", "--directive", "1/KH-UBND", "--title", "Việc", "--lead", "SXD",
          "--deadline", "31/03/2023")  # fmt: skip
    nv.ok("task", "progress", "NV-00001", "--percent", "50", "--on", "01/03/2023")
    nv.ok("reprimand", "issue", "--kind", "nhac-nho", "--doc", "5/UBND", "--on", "10/04/2023",
          "--agency", "SXD")  # fmt: skip
    return nv


def move_checkpoint(nv: Nhiemvu, position: int) -> None:
    engine = nv.engine()
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(
                f"UPDATE projection_checkpoints SET position = {position} WHERE name = 'ledger'"
            )
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("position", "detail"),
    [
        # The task's progress applied again: its row is at that version already.
        (3, "nhiệm vụ NV-00001 đã có sự kiện #2 ở vị trí 4 mà mốc đã dựng nói là chưa"),
        # The document issued again: its row is there (the database's unique key).
        (4, "proj_documents"),
    ],
)
def test_a_checkpoint_moved_back_is_said_and_the_rebuild_mends_it(db_url, position, detail):
    nv = small_ledger(db_url)
    engine = nv.engine()
    kept = snapshot(engine)
    engine.dispose()
    move_checkpoint(nv, position)
    for command in (["task", "show", "NV-00001"], ["task", "progress", "NV-00001", "--percent",
                                                    "60", "--on", "02/03/2023"]):  # fmt: skip
        refused = nv.fails(*command)
        assert refused.stderr.startswith(OUT_OF_STEP) and MEND in refused.stderr
        assert detail in refused.stderr
    # What mends it, and what checks or saves the log, work all the same.
    nv.ok("events", "verify")
    nv.ok("events", "export", "--out", "-")
    nv.ok("projections", "rebuild")
    engine = nv.engine()
    assert snapshot(engine) == kept
    engine.dispose()
    assert nv.json("task", "show", "NV-00001")["progress"] == 50
