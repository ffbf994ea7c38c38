"""Scores, ratings and reports through the CLI, on DOMAIN.md's worked example (2024).

SCT: head Phan Văn A until 30/04/2024, Trịnh Thị B from 01/05/2024; tasks K1–K7
and four documents exactly as DOMAIN.md lists them. Expected figures are DOMAIN.md's.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime

import pytest
from nhiemvu_cli import Nhiemvu, records_from_march_2023
from openpyxl import load_workbook

from workflow.dates import LOCAL_TZ

DIRECTIVE = "1/TB-UBND"


@pytest.fixture
def sct(db_url) -> Nhiemvu:
    nv = Nhiemvu(db_url)
    nv.ok("agency", "add", "SCT", "--name", "Sở Công Thương", "--kind", "so")
    nv.ok("agency", "head", "SCT", "--name", "Phan Văn A", "--from", "01/01/2020")
    nv.ok("agency", "head", "SCT", "--name", "Trịnh Thị B", "--from", "01/05/2024")
    nv.ok(
        "agency",
        "deputy",
        "SCT",
        "--name",
        "Lê Văn C",
        "--field",
        "thương mại",
        "--from",
        "01/01/2020",
    )
    nv.ok("directive", "add", DIRECTIVE, "--date", "01/11/2023", "--title", "Kết luận")

    def task(task_id, *deadline):
        nv.ok(
            "task",
            "assign",
            "--directive",
            DIRECTIVE,
            "--title",
            task_id,
            "--lead",
            "SCT",
            "--id",
            task_id,
            *deadline,
        )

    task("K1", "--deadline", "31/01/2024")
    nv.ok("task", "complete", "K1", "--on", "25/01/2024")
    task("K2", "--deadline", "15/12/2023")
    nv.ok("task", "complete", "K2", "--on", "10/02/2024")
    task("K3", "--deadline", "31/05/2024")
    nv.ok("task", "extend", "K3", "--to", "30/06/2024", "--on", "20/05/2024")
    nv.ok("task", "complete", "K3", "--on", "28/06/2024")
    task("K4", "--deadline", "31/07/2024")
    nv.ok("task", "extend", "K4", "--to", "31/08/2024", "--on", "05/08/2024")
    nv.ok("task", "complete", "K4", "--on", "20/08/2024")
    task("K5", "--deadline", "30/11/2024")
    task("K6", "--no-deadline")
    task("K7", "--deadline", "31/10/2024")
    nv.ok("task", "cancel", "K7", "--on", "01/10/2024", "--reason", "Không còn cần thiết")
    nv.ok(
        "reprimand",
        "issue",
        "--kind",
        "nhac-nho",
        "--doc",
        "10/UBND-TH",
        "--on",
        "20/03/2024",
        "--agency",
        "SCT",
    )
    nv.ok(
        "reprimand",
        "issue",
        "--kind",
        "phe-binh",
        "--doc",
        "20/UBND-TH",
        "--on",
        "10/09/2024",
        "--head",
        "SCT",
        "--field",
        "thương mại",
    )
    nv.ok(
        "reprimand",
        "issue",
        "--kind",
        "phe-binh",
        "--doc",
        "30/UBND-TH",
        "--on",
        "01/11/2024",
        "--person",
        "Lê Văn C",
    )
    nv.ok("commend", "--doc", "40/UBND-TH", "--on", "15/06/2024", "--agency", "SCT")
    return nv


def by_head(rows):
    return {r["head"]: r for r in rows}


def test_worked_example_ratings_of_heads(sct):
    heads = by_head(sct.json("rating", "compute", "--year", "2024"))
    a, b = heads["Phan Văn A"], heads["Trịnh Thị B"]
    assert (a["rated"], a["band"], a["rank"], a["days_in_office"]) == (False, "KXL", None, 121)
    assert (a["N"], a["on_time"], a["late"], a["T"], a["score"]) == (2, 1, 1, 52.5, 80.5)
    assert (a["reminders"], a["criticisms"], a["deductions"]) == (1, 0, 2.0)
    assert (b["rated"], b["band"], b["rank"], b["days_in_office"]) == (True, "HT", 1, 245)
    assert (b["N"], b["on_time"], b["late"], b["overdue"]) == (3, 1, 1, 1)
    assert (b["T"], b["G"], b["deductions"], b["bonus"], b["score"]) == (35.0, 30.0, 5.0, 2.0, 62.0)
    assert (b["criticisms"], b["commendations"]) == (1, 1)
    text = "\n".join(b["explanation"])
    assert "20/UBND-TH" in text and "10/09/2024" in text  # the deduction names its document
    assert "30/UBND-TH" not in text  # addressed to the deputy only: no deduction
    assert "qd44-2019-haiphong" in text


def test_worked_example_agency_score(sct):
    (row,) = sct.json("score", "--year", "2024", "--agency", "sct")
    assert (row["agency"], row["N"], row["on_time"], row["late"], row["overdue"]) == (
        "SCT",
        5,
        2,
        2,
        1,
    )
    assert (row["reminders"], row["criticisms"], row["commendations"]) == (1, 1, 1)
    assert (row["score"], row["band"]) == (67.0, "HT")


def test_heads_of_agencies_outside_qd44_s_scope_are_scored_but_not_rated(sct):
    sct.ok("agency", "add", "CATP", "--name", "Công an thành phố", "--kind", "khac")
    sct.ok("agency", "head", "CATP", "--name", "Lưu Quang Huy", "--from", "01/01/2020")
    heads = by_head(sct.json("rating", "compute", "--year", "2024"))
    assert set(heads) == {"Phan Văn A", "Trịnh Thị B"}
    assert heads["Trịnh Thị B"]["rank"] == 1
    scores = {r["agency"]: r for r in sct.json("score", "--year", "2024")}
    assert (scores["CATP"]["score"], scores["CATP"]["band"]) == (100.0, "HTXS")


def test_a_year_s_figures_name_the_agency_as_it_was_then(sct):
    sct.ok("agency", "rename", "SCT", "--name", "Sở Công Thương và Du lịch", "--on", "01/03/2025")
    assert {r["name"] for r in sct.json("rating", "compute", "--year", "2024")} == {
        "Sở Công Thương"
    }
    assert sct.json("score", "--year", "2024")[0]["name"] == "Sở Công Thương"
    assert sct.json("score", "--year", "2025")[0]["name"] == "Sở Công Thương và Du lịch"


def test_finalized_rating_survives_a_later_correction(sct):
    first = sct.json("rating", "finalize", "--year", "2024")
    assert first["revision"] == 1
    completion = next(e for e in sct.json("task", "history", "K1") if e["type"] == "task.completed")
    sct.ok("correct", completion["id"], "--reason", "Ghi nhầm: chưa có báo cáo hoàn thành")

    shown = by_head(sct.json("rating", "show", "--year", "2024")["ratings"])
    assert shown["Phan Văn A"]["score"] == 80.5  # the official result is unchanged
    recomputed = by_head(sct.json("rating", "compute", "--year", "2024"))
    # K1 is now overdue since 31/01 (A's tenure): T = 70 × 0.5 / 2 = 17.5, S = 17.5 + 30 − 2
    assert (recomputed["Phan Văn A"]["overdue"], recomputed["Phan Văn A"]["score"]) == (1, 45.5)

    again = sct.run("rating", "finalize", "--year", "2024")
    assert again.exit_code == 1 and "--reason" in again.stderr
    second = sct.json("rating", "finalize", "--year", "2024", "--reason", "Điều chỉnh K1")
    assert second["revision"] == 2
    latest = sct.json("rating", "show", "--year", "2024")
    assert latest["revision"] == 2 and latest["reason"] == "Điều chỉnh K1"
    assert by_head(latest["ratings"])["Phan Văn A"]["score"] == 45.5
    original = sct.json("rating", "show", "--year", "2024", "--revision", "1")
    assert by_head(original["ratings"])["Phan Văn A"]["score"] == 80.5


def test_show_names_the_revisions_there_are(sct):
    sct.ok("rating", "finalize", "--year", "2024")
    sct.ok("rating", "finalize", "--year", "2024", "--reason", "Điều chỉnh")
    missing = sct.run("rating", "show", "--year", "2024", "--revision", "3")
    assert missing.exit_code == 1
    assert "không có lần chốt 3: có các lần 1 đến 2" in missing.stderr
    assert "Chưa có kết quả" not in missing.stderr
    for revision in ("0", "-1"):
        refused = sct.run("rating", "show", "--year", "2024", "--revision", revision)
        assert refused.exit_code == 2, refused.output
        assert "từ 1 trở lên" in refused.stderr
    never = sct.run("rating", "show", "--year", "2023")
    assert never.exit_code == 1 and "Chưa có kết quả xếp loại năm 2023 được chốt" in never.stderr


def test_assessment_lowers_general_criteria(sct):
    sct.ok(
        "assess",
        "SCT",
        "--year",
        "2024",
        "--criterion",
        "phoi_hop",
        "--points",
        "7",
        "--reason",
        "Chậm phối hợp",
    )
    (row,) = sct.json("score", "--year", "2024", "--agency", "SCT")
    assert (row["G"], row["score"]) == (27.0, 64.0)
    bad = sct.run(
        "assess",
        "SCT",
        "--year",
        "2024",
        "--criterion",
        "phoi_hop",
        "--points",
        "11",
        "--reason",
        "x",
    )
    assert bad.exit_code == 1 and "0–10" in bad.stderr


def test_assessment_points_take_the_decimal_comma(sct):
    """People write 7,5; the point works too, and anything else is a usage error."""
    args = ("assess", "SCT", "--year", "2024", "--criterion", "phoi_hop", "--reason", "x")
    recorded = sct.ok(*args, "--points", "7,5")
    assert "phoi_hop = 7,5 điểm" in recorded.stdout
    (row,) = sct.json("score", "--year", "2024", "--agency", "SCT")
    assert row["G"] == 27.5
    sct.ok(*args, "--points", "6.5")
    (row,) = sct.json("score", "--year", "2024", "--agency", "SCT")
    assert row["G"] == 26.5
    refused = sct.fails(*args, "--points", "bảy", code=2)
    assert "'bảy' không phải là một số (ví dụ: 8 hoặc 7,5)" in refused.stderr
    # Finer than the rulebook's scores (2 decimals): shown 20,00 but summed 19,995.
    finer = sct.fails(*args, "--points", "9,995")
    assert "Số điểm 9,995 có nhiều chữ số thập phân hơn điểm của sổ quy tắc" in finer.stderr
    assert "tối đa 2 chữ số" in finer.stderr
    (row,) = sct.json("score", "--year", "2024", "--agency", "SCT")
    assert row["G"] == 26.5  # nothing recorded
    assert "phoi_hop = 0 điểm" in sct.ok(*args, "--points", "-0").stdout


def test_the_assessments_of_a_year_are_listed_with_those_the_score_counts(sct):
    """The rating shows only G's sum: the listing says which assessment it took (the
    latest of a criterion), why, who recorded it, and the id `correct` takes."""
    assess = ("assess", "SCT", "--year", "2024", "--criterion")
    first = sct.ok(*assess, "phoi_hop", "--points", "7", "--reason", "Chậm phối hợp")
    sct.ok("--actor", "Lê Thư Ký", *assess, "phoi_hop", "--points", "6,5", "--reason", "Lần 2")
    sct.ok(*assess, "tham_muu", "--points", "9", "--reason", "Tham mưu chậm")
    sct.ok(
        "assess",
        "SCT",
        "--year",
        "2023",
        "--criterion",
        "tham_muu",
        "--points",
        "1",
        "--reason",
        "x",
    )
    listed = sct.json("report", "assessments", "--year", "2024")
    assert [(a["criterion"], a["points"], a["counted"]) for a in listed] == [
        ("tham_muu", 9.0, True),  # the rulebook's order: tham mưu, then phối hợp
        ("phoi_hop", 7.0, False),
        ("phoi_hop", 6.5, True),
    ]
    assert listed[2]["actor"] == "Lê Thư Ký" and listed[2]["max_points"] == 10.0
    assert first.stdout.split()[-1] == listed[1]["event_id"]
    (row,) = sct.json("score", "--year", "2024", "--agency", "SCT")
    assert row["G"] == 30 - (10 - 9) - (10 - 6.5)  # what the listing says is counted

    table = sct.ok("report", "assessments", "--year", "2024", "--agency", "sct").stdout
    assert table.startswith("ĐÁNH GIÁ TIÊU CHÍ CHUNG NĂM 2024 CỦA SCT\n")
    assert "6,5 / 10" in table and "không — đã có đánh giá ghi sau" in table
    assert listed[2]["event_id"] in table

    # The counted one retracted, the earlier one counts again, in both places.
    sct.ok("correct", listed[2]["event_id"], "--reason", "Ghi nhầm")
    again = sct.json("report", "assessments", "--year", "2024", "--agency", "SCT")
    assert [(a["points"], a["counted"]) for a in again] == [(9.0, True), (7.0, True)]
    (row,) = sct.json("score", "--year", "2024", "--agency", "SCT")
    assert row["G"] == 30 - 1 - 3


def test_a_year_without_assessments_says_so_and_an_unknown_agency_is_refused(sct):
    none = sct.ok("report", "assessments", "--year", "2024").stdout
    assert none.startswith("Chưa có cơ quan nào được đánh giá tiêu chí chung năm 2024:")
    assert "mỗi tiêu chí được tính điểm tối đa" in none
    assert sct.json("report", "assessments", "--year", "2024") == []
    before = sct.event_count()
    refused = sct.fails("report", "assessments", "--year", "2024", "--agency", "SXX")
    assert refused.stderr.startswith("Lỗi: Không tìm thấy cơ quan 'SXX'")
    assert refused.stdout == "" and sct.event_count() == before


def test_assessments_of_a_year_the_agency_did_not_stand_in_are_refused(db_url):
    """Such a year has no score, and `assess` refuses it: the listing said none was
    recorded, each criterion counting in full, and to record one with `assess`."""
    nv = Nhiemvu(db_url)
    nv.ok("agency", "add", "SNV", "--name", "Sở Nội vụ", "--kind", "so")
    nv.ok("agency", "add", "SMT", "--name", "Sở MT", "--kind", "so", "--since", "01/03/2025")
    nv.ok("agency", "dissolve", "SNV", "--on", "15/04/2025", "--into", "SMT", "--reason", "QĐ")
    merged = nv.fails("report", "assessments", "--year", "2026", "--agency", "SNV")
    assert merged.stderr == (
        "Lỗi: SNV đã sáp nhập vào SMT từ ngày 15/04/2025: trong kỳ được hỏi (từ ngày "
        "01/01/2026) cơ quan không còn, nên không có đánh giá tiêu chí chung. Hãy xem đánh "
        "giá tiêu chí chung của cơ quan kế thừa (--agency SMT), hoặc một kỳ trước ngày đó.\n"
    )
    early = nv.fails("report", "assessments", "--year", "2024", "--agency", "SMT")
    assert early.stderr.startswith(
        "Lỗi: SMT được thành lập từ ngày 01/03/2025: trong kỳ được hỏi (đến ngày 31/12/2024)"
    )
    assert merged.stdout == early.stdout == ""
    # The years they stood in, even in part, are listed as before.
    for code in ("SNV", "SMT"):
        assert nv.json("report", "assessments", "--year", "2025", "--agency", code) == []


def test_reports_of_the_year(sct):
    reprimands = sct.json("report", "reprimands", "--year", "2024")
    assert (reprimands["reminder_docs"], reprimands["reminder_targets"]) == (1, 1)
    # head B + cascaded deputy C; the later document to C alone reaches no one new
    assert (reprimands["criticism_docs"], reprimands["criticism_targets"]) == (2, 2)
    assert reprimands["commendation_docs"] == 1
    assert reprimands["sentence"].startswith(
        "Trong năm 2024, Lãnh đạo Ủy ban nhân dân thành phố đã ban hành 01 văn bản nhắc nhở"
    )
    tasks = sct.json("report", "tasks", "--year", "2024")["total"]
    assert (tasks["done_on_time"], tasks["done_late"], tasks["overdue"]) == (2, 2, 1)
    assert (tasks["ongoing"], tasks["cancelled"], tasks["total"]) == (1, 1, 6)
    assert (tasks["overdue_rate_all"], tasks["overdue_rate_with_deadline"]) == (16.67, 20.0)


def test_reports_read_as_vietnamese_text(sct):
    """Fractions with the decimal comma, document kinds and dates as people write them;
    the JSON above keeps numbers, codes and ISO dates."""
    tasks = sct.ok("report", "tasks", "--year", "2024").stdout.splitlines()
    total = next(line for line in tasks if line.startswith("TỔNG CỘNG")).split()
    assert total[-2:] == ["16,67", "20,00"]
    text = sct.ok("report", "reprimands", "--year", "2024").stdout
    (first,) = [line for line in text.splitlines() if line.startswith("10/UBND-TH ")]
    (document,) = [
        d
        for d in sct.json("report", "reprimands", "--year", "2024")["reminder_documents"]
        if d["number"] == "10/UBND-TH"
    ]
    assert first.split() == ["10/UBND-TH", "Nhắc", "nhở", "20/03/2024", "SCT", document["event_id"]]
    assert "nhac_nho" not in text and "phe_binh" not in text and "2024-" not in text
    scores = sct.ok("score", "--year", "2024", "--agency", "SCT").stdout.splitlines()
    assert scores[0] == "ĐIỂM TRÁCH NHIỆM NĂM 2024 (số liệu đến ngày 31/12/2024)"
    (row,) = [line for line in scores if line.startswith("SCT ")]
    assert row.split()[:3] == ["SCT", "67,00", "HT"]
    quarter = sct.ok("score", "--quarter", "2024Q2", "--as-of", "15/05/2024").stdout
    assert quarter.startswith("ĐIỂM TRÁCH NHIỆM QUÝ II NĂM 2024 (số liệu đến ngày 15/05/2024")
    rating = sct.ok("rating", "compute", "--year", "2024", "--as-of", "30/06/2024").stdout
    assert rating.splitlines()[0] == (
        "XẾP LOẠI NGƯỜI ĐỨNG ĐẦU NĂM 2024 (số liệu đến ngày 30/06/2024, tạm tính; chưa chốt)"
    )


def test_a_finalized_rating_says_when_on_the_secretariat_s_clock(sct):
    finalized = sct.json("rating", "finalize", "--year", "2024")
    shown = sct.ok("rating", "show", "--year", "2024").stdout.splitlines()[0]
    local = datetime.fromisoformat(finalized["finalized_at"]).astimezone(LOCAL_TZ)
    assert f"chốt lần 1 lúc {local:%d/%m/%Y %H:%M} bởi tester" in shown
    assert "UTC" not in shown


def test_the_official_workbook_says_which_result_it_is(sct, tmp_path):
    """The finalized result's workbook names its revision, cut-off, time, actor and
    rulebook, as its screen does — not bare columns a later revision would share."""
    sct.ok("rating", "finalize", "--year", "2024")
    sct.ok("rating", "finalize", "--year", "2024", "--reason", "Điều chỉnh K1")
    path = tmp_path / "chinh-thuc.xlsx"
    heading = sct.ok("rating", "show", "--year", "2024", "--xlsx", str(path)).stdout
    sheet = load_workbook(path).worksheets[0]
    assert sheet["A1"].value == heading.splitlines()[0]
    assert sheet["A1"].value.startswith(
        "Kết quả xếp loại người đứng đầu năm 2024 (số liệu đến ngày 31/12/2024) — chốt lần 2 lúc"
    )
    assert sheet["A1"].value.endswith("bởi tester; lý do: Điều chỉnh K1")
    assert sheet["A2"].value.startswith("Sổ quy tắc: ")


def test_excel_exports_are_real_workbooks(sct, tmp_path):
    path = tmp_path / "xep-loai.xlsx"
    sct.ok("rating", "compute", "--year", "2024", "--xlsx", str(path))
    sheet = load_workbook(path).worksheets[0]
    assert sheet["A1"].value == (
        "Xếp loại người đứng đầu năm 2024 (số liệu đến ngày 31/12/2024; chưa chốt)"
    )
    headings = [c.value for c in next(r for r in sheet.iter_rows() if r[0].value == "Hạng")]
    assert "Người đứng đầu" in headings and "Điểm" in headings
    # What Excel's File › Info shows: the secretariat and the report, not "openpyxl".
    properties = load_workbook(path).properties
    assert (
        properties.creator
        == properties.lastModifiedBy
        == ("Văn phòng Ủy ban nhân dân thành phố Hải Phòng")
    )
    assert properties.title == sheet["A1"].value and properties.language == "vi-VN"
    ranks = {r[2]: r[0] for r in sheet.iter_rows(values_only=True) if r[1] == "SCT"}
    assert ranks == {"Trịnh Thị B": 1, "Phan Văn A": "KXL"}  # as on screen, not blank
    explained = [r for r in load_workbook(path)["Giải trình"].iter_rows(values_only=True) if r[0]]
    assert explained[0] == ("Cơ quan", "Người đứng đầu", "Nội dung")
    assert ("SCT", "Phan Văn A") in [r[:2] for r in explained]
    path = tmp_path / "diem.xlsx"  # an agency's score: no head to name
    sct.ok("score", "--year", "2024", "--xlsx", str(path))
    explained = [r for r in load_workbook(path)["Giải trình"].iter_rows(values_only=True) if r[0]]
    assert explained[0] == ("Cơ quan", "Nội dung")
    assert explained[1][0] == "SCT" and explained[1][1].startswith(
        "Cơ quan SCT, kỳ 01/01/2024–31/12/2024"
    )
    path = tmp_path / "nhiem-vu.xlsx"
    sct.ok("report", "tasks", "--year", "2024", "--xlsx", str(path))
    rows = list(load_workbook(path).worksheets[0].iter_rows(values_only=True))
    heading = next(i for i, r in enumerate(rows) if r[0] == "Cơ quan chủ trì")
    assert rows[heading][:2] == ("Cơ quan chủ trì", "Tên cơ quan")
    assert ("SCT", "Sở Công Thương") in [r[:2] for r in rows[heading + 1 :]]
    path = tmp_path / "van-ban.xlsx"
    sct.ok("report", "reprimands", "--year", "2024", "--xlsx", str(path))
    documents = load_workbook(path)["Văn bản"]
    dates = [row[2].value for row in documents.iter_rows(min_row=2)]
    assert len(dates) == 4 and all(hasattr(d, "year") for d in dates)  # dates, not text
    kinds = {row[1].value for row in documents.iter_rows(min_row=2)}
    assert kinds == {"Nhắc nhở", "Phê bình", "Biểu dương"}
    targets = [row[3].value for row in documents.iter_rows(min_row=2)]
    assert any("(Sở Công Thương)" in t for t in targets), targets  # names, not codes alone
    summary = load_workbook(path)["Tổng hợp"]
    groups = [row[0].value for row in summary.iter_rows() if isinstance(row[1].value, int)]
    assert groups == ["Nhắc nhở, rút kinh nghiệm", "Phê bình", "Biểu dương"]


@pytest.mark.parametrize(
    "command",
    [
        ["report", "tasks", "--year", "2024"],
        ["report", "reprimands", "--year", "2024"],
        ["score", "--year", "2024"],
        ["rating", "compute", "--year", "2024"],
        ["rating", "show", "--year", "2024"],
    ],
    ids=lambda command: " ".join(command[:-2]),
)
def test_a_workbook_is_not_written_over_a_file_already_there_unless_asked(sct, tmp_path, command):
    """The secretariat's filled-in tracking workbook named as --xlsx by a slip of the
    keyboard stays as it was; --replace writes over it, and either way the command
    says which file it wrote (off the JSON's stdout with --json)."""
    sct.ok("rating", "finalize", "--year", "2024")
    folder = tmp_path / "bao-cao"
    folder.mkdir()
    filled = folder / "so-theo-doi.xlsx"
    sct.ok("import", "template", "--sample", "--out", str(filled))
    kept = filled.read_bytes()
    assert "Theo dõi 2022" in load_workbook(filled).sheetnames
    refused = sct.fails(*command, "--xlsx", str(filled))
    assert refused.stderr == (
        f"Lỗi: Tệp '{filled}' đã có: không ghi đè (có thể là sổ đã điền hoặc báo cáo đã được "
        "sửa). Hãy chọn tên tệp khác, hoặc thêm --replace để ghi đè.\n"
    )
    assert refused.stdout == ""
    assert filled.read_bytes() == kept
    assert [p.name for p in folder.iterdir()] == [filled.name]

    replaced = sct.ok(*command, "--xlsx", str(filled), "--replace")
    assert replaced.stdout.endswith(f"\nĐã ghi tệp Excel {filled}.\n")
    assert "Theo dõi 2022" not in load_workbook(filled).sheetnames
    fresh = folder / "moi.xlsx"
    as_json = sct.ok(*command, "--json", "--xlsx", str(fresh))
    assert json.loads(as_json.stdout)
    assert as_json.stderr == f"Đã ghi tệp Excel {fresh}.\n"
    assert sorted(p.name for p in folder.iterdir()) == ["moi.xlsx", "so-theo-doi.xlsx"]

    alone = sct.fails(*command, "--replace", code=2)
    assert "--replace chỉ đi cùng --xlsx TỆP" in alone.stderr


def test_broken_rulebook_is_refused_naming_the_parameter(sct, tmp_path):
    from workflow.rulebook import default_rulebooks_dir

    text = (default_rulebooks_dir() / "rulebook_qd44_2019_haiphong.toml").read_text("utf-8")
    broken = tmp_path / "broken.toml"
    broken.write_text(text.replace("phe_binh = { value = 5,", "phe_binh = { value = -5,"), "utf-8")
    result = sct.run("rating", "compute", "--year", "2024", "--rulebook", str(broken))
    assert result.exit_code == 1
    assert "deductions.phe_binh" in result.stderr


def test_a_deadline_missed_before_a_reassignment_stays_with_the_head_who_missed_it(db_url):
    nv = Nhiemvu(db_url)
    for code in ("RA", "RB"):
        nv.ok("agency", "add", code, "--name", f"Sở {code}", "--kind", "so")
        nv.ok("agency", "head", code, "--name", f"Giám đốc {code}", "--from", "01/01/2022")
    nv.ok("directive", "add", "DX", "--date", "02/01/2023", "--title", "Kết luận")
    assign = ("task", "assign", "--directive", "DX", "--lead", "RA")
    nv.ok(*assign, "--title", "Trễ", "--id", "R1", "--deadline", "31/03/2023")
    nv.ok(*assign, "--title", "Đúng hạn", "--id", "R2", "--deadline", "31/07/2023")
    nv.ok("task", "reassign", "R1", "--lead", "RB", "--on", "15/06/2023", "--reason", "Chức năng")
    nv.ok("task", "reassign", "R2", "--lead", "RB", "--on", "15/06/2023", "--reason", "Chức năng")
    nv.ok("task", "complete", "R1", "--on", "20/06/2023")
    nv.ok("task", "complete", "R2", "--on", "20/07/2023")

    heads = by_head(nv.json("rating", "compute", "--year", "2023"))
    ra, rb = heads["Giám đốc RA"], heads["Giám đốc RB"]
    assert (ra["N"], ra["late"], ra["on_time"]) == (1, 1, 0)
    assert [t["task_id"] for t in ra["tasks"]] == ["R1"]
    assert (rb["N"], rb["late"], rb["on_time"]) == (1, 0, 1)
    # The year's agency scores and the first quarter's agree on who missed R1.
    year = {r["agency"]: r for r in nv.json("score", "--year", "2023")}
    (q1,) = nv.json("score", "--quarter", "2023Q1", "--agency", "RA")
    assert (year["RA"]["late"], year["RB"]["late"], q1["overdue"]) == (1, 0, 1)


def a_standing_duty(nv: Nhiemvu, code: str, year: int) -> None:
    """A task of `year` with no deadline, in no score: a year is finalized only once the
    ledger has tasks (before them every head would rank HTXS on no work)."""
    nv.ok("directive", "add", f"9/TB-{year}", "--date", f"02/01/{year}", "--title", "Kết luận")
    nv.ok("task", "assign", "--directive", f"9/TB-{year}", "--title", "Thường xuyên",
          "--lead", code, "--no-deadline")  # fmt: skip


def test_the_year_is_finalized_only_once_it_is_over(db_url):
    """31/12 is a day of the year: a task completed on it is completed in time, so a
    rating finalized that day would be final before its figures are."""
    from application import rating
    from application.app import App
    from workflow.errors import DomainError

    nv = Nhiemvu(db_url)
    nv.ok("agency", "add", "SXD", "--name", "Sở Xây dựng", "--kind", "so")
    nv.ok("agency", "head", "SXD", "--name", "Phạm Văn D", "--from", "01/01/2020")
    a_standing_duty(nv, "SXD", 2025)
    book = rating.choose_rulebook(date(2025, 12, 31))
    last_minute = datetime(2025, 12, 31, 16, 59, tzinfo=UTC)  # 23:59 in Hải Phòng
    app = App(db_url, "tester", now=lambda: last_minute)
    try:
        before = app.store.count()
        with pytest.raises(DomainError, match="Năm 2025 chưa kết thúc"):
            rating.finalize(app.ledger, 2025, book, None)
        assert app.store.count() == before
    finally:
        app.close()
    new_year = datetime(2025, 12, 31, 17, 0, tzinfo=UTC)  # 00:00 on 01/01/2026
    app = App(db_url, "tester", now=lambda: new_year)
    try:
        finalized = rating.finalize(app.ledger, 2025, book, None)
        assert (finalized["revision"], finalized["cutoff"]) == (1, "2025-12-31")
        assert app.store.count() == before + 1
    finally:
        app.close()


def test_a_provisional_rating_ignores_what_ends_a_tenure_after_its_cut_off(db_url):
    """As of 30/04 neither Q's appointment on 01/06 nor B's merger into C has happened:
    P and R are sitting heads, rated as an open tenure is — not cut to 151 days and
    left unrated, with nobody rated for A."""
    nv = Nhiemvu(db_url)
    for code, head in (("A", "Phạm P"), ("B", "Lê R"), ("C", "Vũ S")):
        nv.ok("agency", "add", code, "--name", f"Sở {code}", "--kind", "so")
        nv.ok("agency", "head", code, "--name", head, "--from", "01/01/2020")
    nv.ok("agency", "head", "A", "--name", "Đỗ Q", "--from", "01/06/2025")
    nv.ok("agency", "dissolve", "B", "--on", "01/06/2025", "--into", "C", "--reason", "Sáp nhập")
    early = nv.json("rating", "compute", "--year", "2025", "--as-of", "30/04/2025")
    assert sorted((r["agency"], r["head"], r["rated"], r["days_in_office"]) for r in early) == [
        ("A", "Phạm P", True, 365),
        ("B", "Lê R", True, 365),
        ("C", "Vũ S", True, 365),
    ]
    whole = nv.json("rating", "compute", "--year", "2025")
    assert sorted((r["agency"], r["head"], r["days_in_office"]) for r in whole) == [
        ("A", "Phạm P", 151),
        ("A", "Đỗ Q", 214),
        ("B", "Lê R", 151),
        ("C", "Vũ S", 365),
    ]


def test_what_happens_on_the_year_s_first_day_counts_in_its_rating(db_url):
    """A task carried over from December and completed on 01/01, and a reminder of
    01/01: both are the new year's, also in a rating as of that very day."""
    nv = Nhiemvu(db_url)
    nv.ok("agency", "add", "SCT", "--name", "Sở Công Thương", "--kind", "so")
    nv.ok("agency", "head", "SCT", "--name", "Phan Văn A", "--from", "01/01/2020")
    nv.ok("directive", "add", DIRECTIVE, "--date", "01/12/2023", "--title", "Kết luận")
    nv.ok(
        "task", "assign", "--directive", DIRECTIVE, "--title", "K2", "--lead", "SCT",
        "--id", "K2", "--deadline", "15/12/2023", "--assigned-on", "01/12/2023",
    )  # fmt: skip
    nv.ok("task", "complete", "K2", "--on", "01/01/2024")
    nv.ok(
        "reprimand", "issue", "--kind", "nhac-nho", "--doc", "1/UBND-TH", "--on", "01/01/2024",
        "--agency", "SCT",
    )  # fmt: skip
    for as_of in ("01/01/2024", "31/12/2024"):
        (a,) = nv.json("rating", "compute", "--year", "2024", "--as-of", as_of)
        assert (a["N"], a["late"], a["reminders"], a["deductions"]) == (1, 1, 1, 2.0), as_of
        assert a["tasks"][0]["carried_over"] is True


def test_an_agency_closed_before_the_period_has_no_score_in_it(db_url):
    """The table of a period leaves out an agency closed before it began; asked for by
    --agency, it is refused rather than scored 100 (HTXS) for having nothing to do."""
    nv = Nhiemvu(db_url)
    for code in ("SNV", "SKH", "STC"):
        nv.ok("agency", "add", code, "--name", f"Sở {code}", "--kind", "so")
    nv.ok("agency", "dissolve", "SNV", "--on", "15/04/2025", "--into", "SKH", "--reason", "QĐ")
    nv.ok("agency", "dissolve", "STC", "--on", "15/04/2025", "--reason", "QĐ")
    assert [r["agency"] for r in nv.json("score", "--year", "2026")] == ["SKH"]
    before = nv.event_count()
    merged = nv.fails("score", "--year", "2026", "--agency", "snv")
    assert merged.stderr == (
        "Lỗi: SNV đã sáp nhập vào SKH từ ngày 15/04/2025: trong kỳ được hỏi (từ ngày "
        "01/01/2026) cơ quan không còn, nên không có điểm. Hãy xem điểm của cơ quan kế thừa "
        "(--agency SKH), hoặc một kỳ trước ngày đó.\n"
    )
    dissolved = nv.fails("score", "--from", "15/04/2025", "--to", "30/04/2025", "--agency", "STC")
    assert "Hãy xem một kỳ trước ngày đó." in dissolved.stderr
    assert nv.event_count() == before
    # A period it stood in, a day of it at least, is scored as in the table.
    for args in (["--year", "2025"], ["--from", "14/04/2025", "--to", "30/04/2025"]):
        alone = nv.json("score", *args, "--agency", "SNV")
        assert alone == [r for r in nv.json("score", *args) if r["agency"] == "SNV"]


def test_a_task_report_of_an_agency_not_standing_in_the_period_is_refused(db_url):
    """As `score` refuses it: a period after its merger, or before its establishment,
    gave a table of zeros for it, as if it had had nothing to do."""
    nv = Nhiemvu(db_url)
    for code in ("SNV", "SKH"):
        nv.ok("agency", "add", code, "--name", f"Sở {code}", "--kind", "so")
    nv.ok("agency", "add", "SMT", "--name", "Sở MT", "--kind", "so", "--since", "01/03/2025")
    nv.ok("directive", "add", DIRECTIVE, "--date", "01/02/2025", "--title", "Kết luận")
    nv.ok("task", "assign", "--directive", DIRECTIVE, "--title", "Việc", "--lead", "SNV",
          "--id", "K1", "--deadline", "31/03/2025")  # fmt: skip
    nv.ok("task", "complete", "K1", "--on", "20/03/2025")
    nv.ok("agency", "dissolve", "SNV", "--on", "15/04/2025", "--into", "SKH", "--reason", "QĐ")
    before = nv.event_count()
    merged = nv.fails("report", "tasks", "--quarter", "2025Q3", "--agency", "snv")
    assert merged.stderr == (
        "Lỗi: SNV đã sáp nhập vào SKH từ ngày 15/04/2025: trong kỳ được hỏi (từ ngày "
        "01/07/2025) cơ quan không còn, nên không có số liệu nhiệm vụ. Hãy xem số liệu nhiệm "
        "vụ của cơ quan kế thừa (--agency SKH), hoặc một kỳ trước ngày đó.\n"
    )
    early = nv.fails("report", "tasks", "--month", "2025-02", "--agency", "SMT")
    assert "SMT được thành lập từ ngày 01/03/2025: trong kỳ được hỏi (đến ngày 28/02/2025)" in (
        early.stderr
    )
    assert nv.event_count() == before
    # A period it stood in, and every task up to a day (--as-of), are reported.
    (row,) = nv.json("report", "tasks", "--quarter", "2025Q1", "--agency", "SNV")["agencies"]
    assert (row["agency"], row["done_on_time"]) == ("SNV", 1)
    (row,) = nv.json("report", "tasks", "--as-of", "31/12/2025", "--agency", "SNV")["agencies"]
    assert (row["agency"], row["done_on_time"]) == ("SNV", 1)


def test_a_task_report_as_of_a_day_before_the_agency_opened_is_refused(db_url):
    """--as-of reports every task an agency led up to the day: one established after
    it led none, and its table of zeros read as an agency with nothing to do — `score`
    refuses that day, and so does the report of a period."""
    nv = Nhiemvu(db_url)
    nv.ok("agency", "add", "SMT", "--name", "Sở MT", "--kind", "so", "--since", "01/03/2025")
    nv.ok("directive", "add", DIRECTIVE, "--date", "02/03/2025", "--title", "Kết luận")
    nv.ok("task", "assign", "--directive", DIRECTIVE, "--title", "Việc", "--lead", "SMT",
          "--deadline", "31/03/2025")  # fmt: skip
    early = nv.fails("report", "tasks", "--as-of", "28/02/2025", "--agency", "SMT")
    assert early.stderr == (
        "Lỗi: SMT được thành lập từ ngày 01/03/2025: trong kỳ được hỏi (đến ngày 28/02/2025) "
        "cơ quan chưa có, nên không có số liệu nhiệm vụ. Hãy xem một kỳ từ ngày đó.\n"
    )
    assert early.stdout == ""
    nv.ok("report", "tasks", "--as-of", "01/03/2025", "--agency", "SMT")  # its first day
    (row,) = nv.json("report", "tasks", "--as-of", "02/03/2025", "--agency", "SMT")["agencies"]
    assert (row["agency"], row["in_progress"]) == ("SMT", 1)


def test_a_retraction_in_a_finalized_year_says_the_finalized_rating_stays(db_url):
    """A finalized rating is a record of its own: a retraction that changes the year's
    figures leaves it as it was, and says so, with how to finalize again; the rating
    computed afterwards says the year was finalized."""
    nv = Nhiemvu(db_url)
    nv.ok("agency", "add", "SXD", "--name", "Sở Xây dựng", "--kind", "so")
    nv.ok("agency", "head", "SXD", "--name", "Nguyễn Văn An", "--from", "01/01/2023")
    a_standing_duty(nv, "SXD", 2023)
    document = nv.json("reprimand", "issue", "--kind", "phe-binh", "--doc", "100/UBND-TH",
                       "--on", "10/09/2023", "--head", "SXD")["event_id"]  # fmt: skip
    assert "chưa chốt" in nv.ok("rating", "compute", "--year", "2023").stdout
    nv.ok("rating", "finalize", "--year", "2023")
    retracted = nv.ok("correct", document, "--reason", "Ghi nhầm")
    assert (
        "Đã chốt xếp loại năm 2023 (lần 1): kết quả đã chốt không tự đổi theo việc rút lại này."
    ) in retracted.stdout + retracted.stderr
    computed = nv.ok("rating", "compute", "--year", "2023").stdout
    assert "tính lại từ sổ; kết quả đã chốt (lần 1)" in computed
    assert "chưa chốt" not in computed
    # The finalized rating, shown, says it is no longer what the log gives.
    shown = nv.ok("rating", "show", "--year", "2023")
    assert "Lưu ý: Sổ đã đổi sau lần chốt này" in shown.stderr
    (changed,) = nv.json("rating", "show", "--year", "2023")["changed_since"]
    assert changed.startswith("SXD — Nguyễn Văn An: đã chốt ") and changed.endswith(
        ", nay 100,00 HTXS"
    )
    nv.ok("rating", "finalize", "--year", "2023", "--reason", "Rút lại văn bản 100/UBND-TH")
    assert nv.json("rating", "show", "--year", "2023")["changed_since"] == []
    assert "Lưu ý" not in nv.ok("rating", "show", "--year", "2023").stderr


def test_a_rulebook_edited_under_the_same_version_is_named_as_the_cause(
    db_url, tmp_path, monkeypatch
):
    """A finalised rating names its rulebook by id, version and content: the same file
    edited afterwards without a new version is not the book it was computed under, and
    `rating show` says so rather than blame the log. Comments do not count."""
    import workflow.rulebook as rulebook_module

    nv = Nhiemvu(db_url)
    nv.ok("agency", "add", "SXD", "--name", "Sở Xây dựng", "--kind", "so")
    nv.ok("agency", "head", "SXD", "--name", "Nguyễn Văn An", "--from", "01/01/2023")
    a_standing_duty(nv, "SXD", 2023)
    nv.ok("reprimand", "issue", "--kind", "phe-binh", "--doc", "100/UBND-TH", "--on", "10/09/2023",
          "--head", "SXD")  # fmt: skip
    finalized = nv.json("rating", "finalize", "--year", "2023")
    shipped = next(rulebook_module.default_rulebooks_dir().glob("rulebook_*.toml"))
    assert finalized["rulebook"]["digest"] == rulebook_module.load_rulebook(shipped).digest
    text = shipped.read_text(encoding="utf-8")
    folder = tmp_path / "rulebooks"
    folder.mkdir()
    monkeypatch.setattr(rulebook_module, "default_rulebooks_dir", lambda: folder)
    edited = folder / shipped.name

    edited.write_text("# Ghi chú của Văn phòng\n" + text, encoding="utf-8")
    assert nv.json("rating", "show", "--year", "2023")["rulebook_edited"] is False
    assert "Lưu ý" not in nv.ok("rating", "show", "--year", "2023").stderr

    assert "phe_binh = { value = 5," in text
    edited.write_text(text.replace("phe_binh = { value = 5,", "phe_binh = { value = 10,"), "utf-8")
    shown = nv.json("rating", "show", "--year", "2023")
    assert shown["rulebook_edited"] is True
    (changed,) = shown["changed_since"]
    assert changed.startswith("SXD — Nguyễn Văn An: đã chốt ")
    warning = nv.ok("rating", "show", "--year", "2023").stderr
    assert "đã bị sửa sau lần chốt này mà vẫn giữ phiên bản (tính lại thì khác — SXD" in warning
    assert "Sổ đã đổi sau lần chốt này" not in warning


def test_a_period_before_the_ledger_s_first_task_is_said_to_say_nothing(db_url):
    """Every agency has all its task points in a year before the records begin (no
    task due, none late): a score of 100 there says nothing of its work, and the
    command says so; in a year with tasks, nothing is said."""
    nv = records_from_march_2023(db_url)
    for command in (["score", "--year", "2019"], ["rating", "compute", "--year", "2019"]):
        early = nv.ok(*command)
        assert "Lưu ý: Kỳ này kết thúc trước khi sổ có nhiệm vụ (nhiệm vụ đầu tiên giao " \
            "ngày 10/03/2023)" in early.stderr, command  # fmt: skip
        assert nv.json(*command)  # JSON unchanged: the rows, the warning on stderr
    for command in (["score", "--year", "2023"], ["rating", "compute", "--year", "2023"]):
        assert "Lưu ý: Kỳ này" not in nv.ok(*command).stderr


def test_a_year_before_the_ledger_s_first_task_is_not_finalized(db_url):
    """Finalized, such a year recorded every head HTXS for good, on no work at all (no
    task due, none late) — most likely a year typed wrong. It is refused, nothing
    written; the year of the records is finalized as before."""
    nv = records_from_march_2023(db_url)
    refused = nv.fails("rating", "finalize", "--year", "2022")
    assert (
        "Lỗi: Năm 2022 kết thúc trước khi sổ có nhiệm vụ (nhiệm vụ đầu tiên giao ngày "
        "10/03/2023)" in refused.stderr
    )
    assert "Hãy kiểm tra lại năm (--year)." in refused.stderr
    assert (
        "Chưa có kết quả xếp loại năm 2022" in nv.fails("rating", "show", "--year", "2022").stderr
    )
    assert nv.json("rating", "finalize", "--year", "2023")["revision"] == 1


def test_a_year_is_not_finalized_on_a_ledger_without_tasks(db_url):
    """With no task at all, as before the first: the agencies and heads registered, the
    tasks not yet brought in, `rating finalize` recorded every head HTXS for good —
    `rating compute` warned of it, finalize did not refuse it."""
    nv = Nhiemvu(db_url)
    nv.ok("agency", "add", "SXD", "--name", "Sở Xây dựng", "--kind", "so")
    nv.ok("agency", "head", "SXD", "--name", "Lê Văn A", "--from", "01/01/2018")
    refused = nv.fails("rating", "finalize", "--year", "2023")
    assert refused.stderr == (
        "Lỗi: Năm 2023 kết thúc trước khi sổ có nhiệm vụ (chưa có nhiệm vụ nào): mọi người "
        "đứng đầu sẽ được đủ điểm nhiệm vụ vì không có nhiệm vụ nào đến hạn, không phải vì "
        "đã làm tốt; không chốt kết quả như vậy. Hãy kiểm tra lại năm (--year), hoặc ghi các "
        "nhiệm vụ của năm 2023 trước khi chốt.\n"
    )
    assert (
        "Chưa có kết quả xếp loại năm 2023" in nv.fails("rating", "show", "--year", "2023").stderr
    )
    a_standing_duty(nv, "SXD", 2023)
    assert nv.json("rating", "finalize", "--year", "2023")["revision"] == 1


def test_a_task_report_names_its_cut_off_once(sct, tmp_path):
    """The heading said the day twice when the period's label names it already: a
    period not over (tạm tính đến ngày …) and one --as-of (tính đến ngày …)."""

    def heading(*args):
        return sct.ok("report", "tasks", *args).stdout.splitlines()[0]

    assert heading("--year", "2024") == (
        "TÌNH HÌNH THỰC HIỆN NHIỆM VỤ NĂM 2024 (trạng thái tại ngày 31/12/2024)"
    )
    assert (
        heading("--as-of", "30/06/2024") == "TÌNH HÌNH THỰC HIỆN NHIỆM VỤ TÍNH ĐẾN NGÀY 30/06/2024"
    )
    this_year = datetime.now(LOCAL_TZ).year
    assert re.fullmatch(
        rf"TÌNH HÌNH THỰC HIỆN NHIỆM VỤ NĂM {this_year} \(TẠM TÍNH ĐẾN NGÀY \d\d/\d\d/{this_year}\)",
        heading("--year", str(this_year)),
    )
    path = tmp_path / "nhiem-vu.xlsx"
    sct.ok("report", "tasks", "--as-of", "30/06/2024", "--xlsx", str(path))
    note = load_workbook(path).worksheets[0]["A1"].value
    assert note == "Tình hình thực hiện nhiệm vụ tính đến ngày 30/06/2024"
    # The HTML report's message says a period not over is counted so far, as its page does.
    said = sct.ok("report", "html", "--year", str(this_year), "--out", str(tmp_path / "a.html"))
    assert f"Đã ghi báo cáo năm {this_year} (tạm tính đến ngày " in said.stdout
    said = sct.ok("report", "html", "--year", "2024", "--out", str(tmp_path / "b.html"))
    assert "Đã ghi báo cáo năm 2024 (số liệu đến ngày 31/12/2024) vào " in said.stdout
