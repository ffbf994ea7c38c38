"""Projection tables changed behind the store's back: said so, and mended from the log.

The log is guarded by its triggers and its hash chain; the projection tables are
derived, so someone with direct access can edit them. A checkpoint moved back made
every command apply events again (a unique violation, or facts counted twice), the
rebuild that mends it included.
"""

from __future__ import annotations

import json

import pytest
from nhiemvu_cli import Nhiemvu, run_sql
from projection_rows import snapshot

OUT_OF_STEP = "Lỗi: Các bảng dẫn xuất không khớp với sổ sự kiện ("
MEND = "hãy chạy `nhiemvu projections rebuild` để dựng lại các bảng đó từ sổ."


def small_ledger(db_url: str) -> Nhiemvu:
    nv = Nhiemvu(db_url)
    nv.ok("agency", "add", "SXD", "--name", "Sở Xây dựng", "--kind", "so")
    nv.ok("agency", "head", "SXD", "--name", "Nguyễn Văn An", "--from", "01/01/2023")
    nv.ok("directive", "add", "1/KH-UBND", "--date", "02/01/2023", "--title", "Kế hoạch")
    nv.ok("task", "assign", "--directive", "1/KH-UBND", "--title", "Việc", "--lead", "SXD",
          "--deadline", "31/03/2023")  # fmt: skip
    nv.ok("task", "progress", "NV-00001", "--percent", "50", "--on", "01/03/2023")
    nv.ok("reprimand", "issue", "--kind", "nhac-nho", "--doc", "5/UBND", "--on", "10/04/2023",
          "--agency", "SXD")  # fmt: skip
    return nv


def move_checkpoint(nv: Nhiemvu, position: int) -> None:
    run_sql(
        nv.db_url, f"UPDATE projection_checkpoints SET position = {position} WHERE name = 'ledger'"
    )


@pytest.mark.parametrize(
    ("position", "detail"),
    [
        # The agency's head applied again: its facts hold it already.
        (1, "cơ quan SXD đã có sự kiện ở vị trí 2 mà mốc đã dựng nói là chưa"),
        # The task's progress applied again: its row is at that version already.
        (4, "nhiệm vụ NV-00001 đã có sự kiện #2 ở vị trí 5 mà mốc đã dựng nói là chưa"),
        # The document issued again: its row is there (the database's unique key).
        (5, "proj_documents"),
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


MATCH = "Các bảng dẫn xuất khớp với sổ sự kiện: "
MISMATCH = "Các bảng dẫn xuất KHÔNG khớp với sổ sự kiện ("
TAMPERING = [
    # The auditor's case: a task counted done that the log says is not.
    "UPDATE proj_tasks SET completed_on = '2023-03-15', closed_on = '2023-03-15' "
    "WHERE task_id = 'NV-00001'",
    "DELETE FROM proj_documents WHERE number = '5/UBND'",
    "INSERT INTO proj_directives (number, issued_on, title) VALUES ('9/QĐ-UBND', '2023-01-05', 'Giả')",
]


def stored_state(nv: Nhiemvu) -> tuple:
    """Everything a verify must leave as it found it: the projection rows, the
    checkpoints and the log's length."""
    engine = nv.engine()
    try:
        with engine.connect() as connection:
            checkpoints = connection.exec_driver_sql(
                "SELECT name, position FROM projection_checkpoints ORDER BY name"
            ).all()
        return snapshot(engine), checkpoints, nv.event_count()
    finally:
        engine.dispose()


def tables_of(report: dict) -> dict[str, dict]:
    return {table["table"]: table for table in report["tables"]}


def test_verify_names_the_rows_edited_behind_the_stores_back_and_changes_nothing(db_url):
    nv = small_ledger(db_url)
    assert nv.ok("projections", "verify").stdout.startswith(MATCH)
    assert nv.json("projections", "verify")["ok"] is True
    run_sql(nv.db_url, *TAMPERING)
    tampered = stored_state(nv)

    said = nv.fails("projections", "verify").stderr
    assert said.startswith(MISMATCH) and MEND in said
    assert "proj_tasks: 1 dòng sai lệch — NV-00001 (completed_on, closed_on)" in said
    assert "proj_documents: 1 dòng thiếu — 5/UBND" in said
    assert "proj_directives: 1 dòng thừa — 9/QĐ-UBND" in said
    assert "projection_checkpoints" not in said
    # Edited by hand, or built wrong by nhiemvu itself: it cannot tell, and says both.
    assert "khi bị sửa trực tiếp, ngoài chương trình; nếu không ai sửa, đó là lỗi" in said
    assert "`nhiemvu projections verify --json` để báo lỗi, rồi hãy chạy" in said
    assert stored_state(nv) == tampered

    checked = nv.run("projections", "verify", "--json")
    assert checked.exit_code == 1
    report = json.loads(checked.stdout)
    assert (report["ok"], report["head"], report["checkpoint_at_head"]) == (False, 6, True)
    tables = tables_of(report)
    assert tables["proj_tasks"]["different"] == {
        "count": 1,
        "rows": [{"key": {"task_id": "NV-00001"}, "columns": ["completed_on", "closed_on"]}],
    }
    assert tables["proj_documents"]["missing"] == {"count": 1, "keys": [{"number": "5/UBND"}]}
    assert tables["proj_directives"]["extra"] == {"count": 1, "keys": [{"number": "9/QĐ-UBND"}]}
    unmatched = {name for name, table in tables.items() if not table["ok"]}
    assert unmatched == {"proj_directives", "proj_documents", "proj_tasks"}
    assert stored_state(nv) == tampered

    nv.ok("projections", "rebuild")
    assert nv.ok("projections", "verify").stdout.startswith(MATCH)


def test_verify_lists_a_handful_of_rows_and_counts_the_rest(db_url):
    nv = small_ledger(db_url)
    for n in range(2, 10):
        nv.ok("directive", "add", f"{n}/KH-UBND", "--date", "02/01/2023", "--title", "Kế hoạch")
    run_sql(nv.db_url, "UPDATE proj_directives SET title = 'Sửa'")
    said = nv.fails("projections", "verify").stderr
    assert "proj_directives: 9 dòng sai lệch — " in said
    assert ", và 4 dòng nữa" in said and said.count("(title)") == 5


@pytest.mark.parametrize(
    ("position", "said"),
    [
        (
            3,
            "mốc đã dựng ở vị trí 3, trước đầu sổ (6): 3 sự kiện cuối sẽ bị coi là chưa "
            "đưa vào các bảng",
        ),
        (9, "mốc đã dựng ở vị trí 9, vượt đầu sổ (6)"),
    ],
)
def test_verify_says_a_checkpoint_away_from_the_head(db_url, position, said):
    """Its tables match a rebuild, but the checkpoint says otherwise: commands would
    apply events again (moved back) or miss some (moved ahead)."""
    nv = small_ledger(db_url)
    move_checkpoint(nv, position)
    kept = stored_state(nv)
    refused = nv.fails("projections", "verify").stderr
    assert f"projection_checkpoints: {said}" in refused and MEND in refused
    assert not [line for line in refused.splitlines() if line.startswith("  proj_")]
    report = json.loads(nv.run("projections", "verify", "--json").stdout)
    assert (report["checkpoint"], report["checkpoint_at_head"]) == (position, False)
    assert all(table["ok"] for table in report["tables"])
    assert stored_state(nv) == kept
    nv.ok("projections", "rebuild")
    nv.ok("projections", "verify")


def test_the_projection_built_command_by_command_is_what_a_rebuild_writes(db_url):
    """The demo's year, then a pass of escalation, an assessment, a rating sealed and a
    retraction: every projection table gets rows, each written by the commands as they
    came, and the product itself checks them against a rebuild."""
    nv = Nhiemvu(db_url)
    nv.ok("demo")
    nv.ok("escalate", "--as-of", "31/12/2023")
    nv.ok("assess", "SXD", "--year", "2023", "--criterion", "tham_muu", "--points", "8",
          "--reason", "Tham mưu tốt")  # fmt: skip
    nv.ok("rating", "finalize", "--year", "2023")
    nv.ok("correct", "NV-00014#2", "--reason", "Ghi nhầm")
    report = nv.json("projections", "verify")
    assert report["ok"] is True
    assert all(table["rows"] for table in report["tables"]), report["tables"]
    assert nv.ok("projections", "verify").stdout.startswith(MATCH)
