"""`nhiemvu letters`: draft urging letters, read back with python-docx, on both backends."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner
from docx.oxml.ns import qn

from application.app import App
from application.ledger import DeadlineInput
from application.letters import COLUMN_WIDTHS, HEADING_WIDTHS, SIGNATURE_WIDTHS, file_name
from workflow.dates import document_date

REPO = Path(__file__).resolve().parents[1]

from cli import cli  # noqa: E402

AS_OF = "2024-04-15"
D = date.fromisoformat


def run(db_url: str, *args: str):
    return CliRunner().invoke(cli, ["--db", db_url, "--actor", "tester", *args])


@pytest.fixture
def ledger_url(db_url):
    """SXD: two overdue (one shared with STC), one in time, one done late, one cancelled.
    STC: the shared one, and one overdue whose extension to 30/04 came late (it counts as
    overdue in scoring, but the leader gave until then). SCT: only done on time."""
    app = App(db_url, "tester")
    ledger = app.ledger
    for code, name in (("SXD", "Sở Xây dựng"), ("STC", "Sở Tài chính"), ("SCT", "Sở Công Thương")):
        ledger.register_agency(code, name, "so")
    ledger.register_directive("129/TB-UBND", D("2024-01-10"), "Kết luận", "Thông báo", None)
    ledger.register_directive("02/CT-UBND", D("2024-01-15"), "Chỉ thị", "Chỉ thị", None)

    def task(task_id, title, leads, deadline, directive="129/TB-UBND", clause=None):
        ledger.assign_task(
            directive,
            title,
            leads,
            DeadlineInput("date", D(deadline)),
            clause=clause,
            assigned_on=D("2024-01-20"),
            task_id=task_id,
        )

    task("A1", "Rà soát quy hoạch chung xây dựng", ["SXD"], "2024-03-31", clause="2.3")
    task("A2", "Báo cáo tiến độ nhà ở xã hội", ["SXD", "STC"], "2024-04-05", "02/CT-UBND", "1.a")
    task("A3", "Kiểm tra an toàn công trình", ["SXD"], "2024-04-30", clause="2.4")  # in time
    task("A4", "Sửa đổi quy chế", ["SXD"], "2024-03-15", clause="2.5")
    ledger.complete("A4", D("2024-03-20"), "15/BC-SXD")  # done late
    task("A5", "Lập đề án cũ", ["SXD"], "2024-03-01", clause="2.6")
    ledger.cancel("A5", D("2024-03-10"), "Không còn phù hợp")
    task("B1", "Cân đối vốn đầu tư công", ["STC"], "2024-03-20", clause="3.1")
    ledger.approve_extension("B1", D("2024-04-30"), D("2024-03-25"), "Xin gia hạn")  # late
    task("C1", "Xúc tiến thương mại", ["SCT"], "2024-03-31", clause="4.1")
    ledger.complete("C1", D("2024-03-30"), None)
    app.close()
    return db_url


def read(path: Path):
    document = docx.Document(str(path))
    text = "\n".join(p.text for p in document.paragraphs)
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in document.tables]
    task_table = next(t for t in tables if t[0][0] == "STT")
    return text, tables, task_table


def test_one_letter_per_agency_with_exactly_its_overdue_tasks(ledger_url, tmp_path):
    out = tmp_path / "thu"
    result = run(ledger_url, "letters", "--as-of", "15/04/2024", "--out", str(out), "--json")
    assert result.exit_code == 0, result.stderr
    written = json.loads(result.stdout)
    assert written == [
        {"agency": "STC", "file": str(out / "STC_don-doc_2024-04-15.docx"), "tasks": ["A2"]},
        {"agency": "SXD", "file": str(out / "SXD_don-doc_2024-04-15.docx"), "tasks": ["A1", "A2"]},
    ]
    assert sorted(p.name for p in out.iterdir()) == [
        "STC_don-doc_2024-04-15.docx",
        "SXD_don-doc_2024-04-15.docx",
    ]

    text, tables, rows = read(out / "SXD_don-doc_2024-04-15.docx")
    assert rows == [
        ["STT", "Văn bản chỉ đạo", "Mục", "Nội dung nhiệm vụ", "Thời hạn", "Số ngày quá hạn"],
        ["1", "129/TB-UBND", "2.3", "Rà soát quy hoạch chung xây dựng", "31/03/2024", "15"],
        ["2", "02/CT-UBND", "1.a", "Báo cáo tiến độ nhà ở xã hội", "05/04/2024", "10"],
    ]
    assert "Kính gửi: Sở Xây dựng." in text
    assert "tính đến ngày 15/04/2024, Sở Xây dựng còn 2 nhiệm vụ" in text
    assert "báo cáo kết quả thực hiện" in text
    # The issuing body and the motto side by side; the number and the place-and-date
    # on the row below, so on one line (Nghị định 30/2020/NĐ-CP).
    (body, motto), (number, place) = tables[0]
    assert body.startswith("ỦY BAN NHÂN DÂN\nTHÀNH PHỐ HẢI PHÒNG\nVĂN PHÒNG")
    assert motto.startswith("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc")
    assert number == "Số: …/VP-TH\nV/v đôn đốc thực hiện nhiệm vụ quá hạn"
    assert place == "Hải Phòng, ngày 15 tháng 4 năm 2024"
    signature = tables[-1][0]
    assert signature[0].startswith("Nơi nhận:")
    assert "CHÁNH VĂN PHÒNG" in signature[1]


def test_a_late_extension_moves_the_urging_as_it_moves_escalation(ledger_url, tmp_path):
    """B1 (deadline 20/03, extended on 25/03 to 30/04) is overdue for scoring, but the
    leader gave until 30/04: it is not urged before then, and after it by that date."""
    out = tmp_path / "thu"
    on_15 = run(ledger_url, "letters", "--as-of", "15/04/2024", "--agency", "STC", "--json",
                "--out", str(out))  # fmt: skip
    assert [letter["tasks"] for letter in json.loads(on_15.stdout)] == [["A2"]]
    on_5_may = run(ledger_url, "letters", "--as-of", "05/05/2024", "--agency", "STC",
                   "--out", str(out))  # fmt: skip
    assert on_5_may.exit_code == 0, on_5_may.stderr
    _, _, rows = read(out / "STC_don-doc_2024-05-05.docx")
    assert [r[3] for r in rows[1:]] == ["Báo cáo tiến độ nhà ở xã hội", "Cân đối vốn đầu tư công"]
    assert rows[2][4:] == ["30/04/2024", "5"]
    escalated = run(ledger_url, "escalate", "--as-of", "05/05/2024", "--dry-run", "--json")
    steps = {(s["task"], s["step"]) for s in json.loads(escalated.stdout)}
    assert ("B1", "overdue_1") in steps


def test_a_future_cut_off_is_refused(ledger_url, tmp_path):
    out = tmp_path / "thu"
    result = run(ledger_url, "letters", "--as-of", "31/12/2099", "--out", str(out))
    assert result.exit_code == 1
    assert "ở tương lai" in result.stderr and "--as-of" in result.stderr
    assert not out.exists()


def test_a_file_name_stays_in_its_folder_whatever_the_code():
    assert file_name("../BQL", D("2024-04-15")) == "_BQL_don-doc_2024-04-15.docx"
    assert file_name("UB/HP", D("2024-04-15")) == "UB_HP_don-doc_2024-04-15.docx"
    assert file_name("UBND-HA", D("2024-04-15")) == "UBND-HA_don-doc_2024-04-15.docx"


def test_one_agency_only(ledger_url, tmp_path):
    out = tmp_path / "thu"
    result = run(ledger_url, "letters", "--as-of", AS_OF, "--agency", "sxd", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == str(out / "SXD_don-doc_2024-04-15.docx")
    assert [p.name for p in out.iterdir()] == ["SXD_don-doc_2024-04-15.docx"]
    _, _, rows = read(out / "SXD_don-doc_2024-04-15.docx")
    assert [r[0] for r in rows] == ["STT", "1", "2"]


def test_an_agency_without_overdue_tasks_gets_no_letter(ledger_url, tmp_path):
    out = tmp_path / "thu"
    result = run(ledger_url, "letters", "--as-of", AS_OF, "--agency", "SCT", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    assert (
        result.stdout
        == "SCT không có nhiệm vụ chủ trì quá hạn tại ngày 15/04/2024; không lập công văn.\n"
    )
    assert not out.exists()


def test_before_anything_was_overdue_no_letters(ledger_url, tmp_path):
    out = tmp_path / "thu"
    result = run(ledger_url, "letters", "--as-of", "2024-03-01", "--out", str(out), "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == []
    assert not out.exists()


def test_unknown_agency_is_refused(ledger_url, tmp_path):
    out = tmp_path / "thu"
    result = run(ledger_url, "letters", "--as-of", AS_OF, "--agency", "SXF", "--out", str(out))
    assert result.exit_code == 1
    assert "Lỗi:" in result.stderr and "SXD" in result.stderr  # suggests the near match
    assert not out.exists() or list(out.iterdir()) == []


def test_as_of_and_out_are_required(ledger_url, tmp_path):
    assert run(ledger_url, "letters", "--out", str(tmp_path)).exit_code == 2
    assert run(ledger_url, "letters", "--as-of", AS_OF).exit_code == 2


def test_leads_are_those_of_the_cut_off_date(ledger_url, tmp_path):
    app = App(ledger_url, "tester")
    app.ledger.reassign("A1", ["SCT"], D("2024-04-20"), "Chuyển chức năng")
    app.close()
    out = tmp_path / "thu"
    before = run(ledger_url, "letters", "--as-of", AS_OF, "--agency", "SXD", "--out", str(out))
    assert before.exit_code == 0, before.stderr
    _, _, rows = read(out / "SXD_don-doc_2024-04-15.docx")
    assert [r[3] for r in rows[1:]] == [
        "Rà soát quy hoạch chung xây dựng",
        "Báo cáo tiến độ nhà ở xã hội",
    ]
    after = run(ledger_url, "letters", "--as-of", "2024-04-25", "--out", str(out), "--json")
    assert after.exit_code == 0, after.stderr
    tasks = {letter["agency"]: letter["tasks"] for letter in json.loads(after.stdout)}
    assert tasks == {"SCT": ["A1"], "STC": ["A2"], "SXD": ["A2"]}


def test_the_layout_holds_in_any_word_processor(ledger_url, tmp_path):
    """Column widths are in the table grid (LibreOffice lays out from it) as well as in
    the cells (Word), and the issuing body and the motto are each ruled underneath."""
    out = tmp_path / "thu"
    run(ledger_url, "letters", "--as-of", AS_OF, "--agency", "SXD", "--out", str(out))
    document = docx.Document(str(out / "SXD_don-doc_2024-04-15.docx"))
    heading, tasks, signature = document.tables
    for table, widths in ((heading, HEADING_WIDTHS), (tasks, COLUMN_WIDTHS),
                          (signature, SIGNATURE_WIDTHS)):  # fmt: skip
        grid = [round(column.width.cm, 2) for column in table.columns]
        assert grid == list(widths)
        for row in table.rows:
            assert [round(cell.width.cm, 2) for cell in row.cells] == list(widths)
    ruled = [
        cell.text.split("\n")[-2]
        for cell in heading.rows[0].cells
        if cell.paragraphs[-1]._p.find(qn("w:pPr") + "/" + qn("w:pBdr")) is not None
    ]
    assert ruled == ["VĂN PHÒNG", "Độc lập - Tự do - Hạnh phúc"]


def test_a_draft_in_the_folder_is_not_overwritten_unless_asked(ledger_url, tmp_path):
    out = tmp_path / "thu"
    run(ledger_url, "letters", "--as-of", AS_OF, "--agency", "STC", "--out", str(out))
    edited = out / "STC_don-doc_2024-04-15.docx"
    edited.write_bytes(b"edited by hand")
    again = run(ledger_url, "letters", "--as-of", AS_OF, "--out", str(out))
    assert again.exit_code == 1
    assert "đã có dự thảo STC_don-doc_2024-04-15.docx (có thể đã được sửa)" in again.stderr
    assert "--replace" in again.stderr
    # Nothing of the set is written: not SXD's letter either.
    assert sorted(p.name for p in out.iterdir()) == [edited.name]
    assert edited.read_bytes() == b"edited by hand"
    replaced = run(ledger_url, "letters", "--as-of", AS_OF, "--out", str(out), "--replace")
    assert replaced.exit_code == 0, replaced.stderr
    assert read(edited)[2][1][3] == "Báo cáo tiến độ nhà ở xã hội"
    assert (out / "SXD_don-doc_2024-04-15.docx").exists()


def _fails_on_call(number, monkeypatch, module, name, error):
    """`module.name` raising `error` on its call `number`: a run stopped part-way."""
    real, calls = getattr(module, name), []

    def flaky(*args, **kwargs):
        calls.append(args)
        if len(calls) == number:
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, flaky)


def test_a_run_stopped_part_way_leaves_no_draft(ledger_url, tmp_path, monkeypatch):
    """Ctrl-C after SXD's letter was made: had it stayed in the folder, the run again
    would refuse it as a draft someone may have edited."""
    from application import letters

    _fails_on_call(2, monkeypatch, letters, "build_letter", KeyboardInterrupt())
    out = tmp_path / "cong-van" / "thu"
    stopped = run(ledger_url, "letters", "--as-of", AS_OF, "--out", str(out))
    assert stopped.exit_code == 1
    assert stopped.stderr == (
        f"Đã dừng: không lập dự thảo nào, thư mục '{out}' giữ nguyên như trước. Chạy lại "
        "lệnh để lập cả bộ.\n"
    )
    assert stopped.stdout == ""
    assert not (tmp_path / "cong-van").exists()  # the folders it made, too
    monkeypatch.undo()
    again = run(ledger_url, "letters", "--as-of", AS_OF, "--out", str(out))
    assert again.exit_code == 0, again.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "STC_don-doc_2024-04-15.docx",
        "SXD_don-doc_2024-04-15.docx",
    ]


def test_a_replacing_run_that_fails_part_way_keeps_the_drafts_there(
    ledger_url, tmp_path, monkeypatch
):
    """--replace too: all the drafts replaced, or none — failing while the letters are
    made, or while they are moved into place (the first moved is taken back)."""
    from application import files, letters

    out = tmp_path / "thu"
    out.mkdir()
    drafts = {name: f"edited {name}".encode() for name in (
        "STC_don-doc_2024-04-15.docx", "SXD_don-doc_2024-04-15.docx")}  # fmt: skip
    for name, data in drafts.items():
        (out / name).write_bytes(data)
    (out / "ghi-chu.txt").write_text("not a draft", "utf-8")
    replace = ["letters", "--as-of", AS_OF, "--out", str(out), "--replace"]

    _fails_on_call(2, monkeypatch, letters, "build_letter", RuntimeError("the disk"))
    failed = run(ledger_url, *replace)
    assert isinstance(failed.exception, RuntimeError)
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.suffix == ".docx"} == drafts
    assert sorted(p.name for p in out.iterdir()) == [*drafts, "ghi-chu.txt"]
    monkeypatch.undo()

    # STC's letter in place, SXD's draft being moved aside.
    _fails_on_call(3, monkeypatch, files.os, "replace", OSError(28, "No space left"))
    failed = run(ledger_url, *replace)
    assert failed.exit_code == 1
    assert failed.stderr == (
        f"Lỗi: Không ghi được tệp '{out / 'SXD_don-doc_2024-04-15.docx'}': ổ đĩa đã đầy.\n"
    )
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.suffix == ".docx"} == drafts
    assert sorted(p.name for p in out.iterdir()) == [*drafts, "ghi-chu.txt"]
    monkeypatch.undo()

    for name in drafts:
        (out / name).unlink()
    # STC's letter in place, SXD's being moved there.
    _fails_on_call(2, monkeypatch, files.os, "replace", KeyboardInterrupt())
    stopped = run(ledger_url, "letters", "--as-of", AS_OF, "--out", str(out))
    assert stopped.exit_code == 1 and "không lập dự thảo nào" in stopped.stderr
    assert sorted(p.name for p in out.iterdir()) == ["ghi-chu.txt"]


def test_no_letter_for_an_agency_closed_by_the_cut_off(ledger_url, tmp_path):
    app = App(ledger_url, "tester")
    app.ledger.dissolve_agency("STC", D("2024-04-10"), "Sáp nhập", into="SXD")
    app.close()
    out = tmp_path / "thu"
    result = run(ledger_url, "letters", "--as-of", AS_OF, "--agency", "STC", "--out", str(out))
    assert result.exit_code == 1
    assert result.stderr == (
        "Lỗi: STC đã sáp nhập vào SXD từ ngày 10/04/2024: không lập công văn gửi cơ quan "
        "không còn vào ngày 15/04/2024. Các nhiệm vụ của cơ quan đã chuyển sang SXD: "
        "`--agency SXD`.\n"
    )
    assert not out.exists()


@pytest.mark.parametrize(
    ("day", "text"),
    [
        (D("2023-01-19"), "ngày 19 tháng 01 năm 2023"),
        (D("2024-02-05"), "ngày 05 tháng 02 năm 2024"),
        (D("2024-03-05"), "ngày 05 tháng 3 năm 2024"),
        (D("2023-04-05"), "ngày 05 tháng 4 năm 2023"),
        (D("2023-12-31"), "ngày 31 tháng 12 năm 2023"),
    ],
)
def test_a_document_date_pads_days_and_only_the_first_two_months(day, text):
    assert document_date(day) == text


FULL_DISK = """
import contextlib, sys
from application import files

@contextlib.contextmanager
def on_a_full_disk(self, name):
    with open("/dev/full", "wb") as handle:
        yield handle

files.Staging.file = on_a_full_disk
import cli
cli.main()
"""


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")
def test_a_full_disk_is_said_once_with_no_traceback(ledger_url, tmp_path):
    """A draft half written when the disk filled up left its zip open, and Python
    printed a traceback of it at exit, after the refusal in words."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", FULL_DISK, "--db", ledger_url, "letters", "--as-of", AS_OF,
         "--out", str(tmp_path / "thu")],
        cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert "đĩa đã đầy" in done.stderr
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr
    assert not (tmp_path / "thu").exists()


def test_a_draft_s_properties_name_the_secretariat_and_the_letter(ledger_url, tmp_path):
    """What Word shows of a draft (File › Info, a folder's Authors column) is the
    secretariat's letter: python-docx's template said "python-docx", "generated by
    python-docx", created 23/12/2013."""
    out = tmp_path / "thu"
    assert run(ledger_url, "letters", "--as-of", "15/04/2024", "--out", str(out)).exit_code == 0
    properties = docx.Document(str(out / file_name("SXD", D(AS_OF)))).core_properties
    assert properties.author == "Văn phòng Ủy ban nhân dân thành phố Hải Phòng"
    assert properties.last_modified_by == properties.author
    assert properties.title == "V/v đôn đốc thực hiện nhiệm vụ quá hạn"
    assert properties.subject == "Kính gửi: Sở Xây dựng"
    assert (properties.comments, properties.language) == ("", "vi-VN")
    # The letter's day in Hải Phòng (00:00 there is 17:00 the day before in UTC).
    assert properties.created == properties.modified == datetime(2024, 4, 14, 17, 0, tzinfo=UTC)
