"""`nhiemvu import xlsx` / `import template`: the secretariat's tracking workbook.

Workbooks are built in each test with openpyxl, the way people fill them:
headings in any case, with or without diacritics, with the common variants;
dates as date cells or as text; deadlines as quarters or "thường xuyên".
What was written is checked through `task list --json` and the event count —
a refused import must leave the log exactly as it was.

Business dates are in 2023, well before the wall clock, so the ledger's
"not in the future" rule never depends on when the suite runs.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from application.xlsx_import import (
    COLUMNS,
    SAMPLE_FILE,
    SAMPLE_FIRST_ROW,
    SAMPLE_ROWS,
    TEMPLATE_FILE,
    fold_header,
    parse_deadline,
    task_id_for,
    write_sample,
)

AGENCIES = [
    ("SXD", "Sở Xây dựng"),
    ("STC", "Sở Tài chính"),
    ("SKHDT", "Sở Kế hoạch và Đầu tư"),
    ("STNMT", "Sở Tài nguyên và Môi trường"),
    ("UBND-NQ", "Ủy ban nhân dân quận Ngô Quyền"),
    ("CTHUE", "Cục Thuế thành phố Hải Phòng"),
]
STANDARD = (
    "STT",
    "Số văn bản",
    "Ngày văn bản",
    "Trích yếu",
    "Nội dung nhiệm vụ",
    "Đơn vị chủ trì",
    "Đơn vị phối hợp",
    "Thời hạn",
    "Tình trạng",
    "Ngày hoàn thành",
    "Ghi chú",
)
from nhiemvu_cli import Nhiemvu as CliTool  # noqa: E402

TB129 = (
    "129/TB-UBND",
    date(2023, 4, 5),
    "Kết luận của Chủ tịch UBND thành phố tại Phiên họp thường kỳ tháng 3/2023",
)
CT02 = (
    "02/CT-UBND",
    "19/01/2023",
    "Về nhiệm vụ, giải pháp chủ yếu chỉ đạo, điều hành thực hiện Kế hoạch phát triển kinh "
    "tế - xã hội năm 2023",
)


class Nhiemvu(CliTool):
    """The shared CLI helper, plus the tasks as `task list --json` gives them."""

    def tasks(self) -> dict[str, dict]:
        rows = self.json("task", "list", "--as-of", "31/12/2023")
        return {r["id"]: r for r in rows}

    def import_json(self, path: Path, *flags: str, code: int = 0) -> dict:
        result = self.run("import", "xlsx", str(path), *flags, "--json")
        assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
        return json.loads(result.stdout)


@pytest.fixture
def nv(db_url) -> Nhiemvu:
    nv = Nhiemvu(db_url)
    for code, name in AGENCIES:
        nv.ok("agency", "add", code, "--name", name, "--kind", "so")
    return nv


def workbook(path: Path, headers, rows, title_rows: int = 0, sheet: str = "Nhiệm vụ") -> Path:
    book = Workbook()
    ws = book.active
    ws.title = sheet
    for r in range(title_rows):
        ws.cell(row=r + 1, column=1, value="SỔ THEO DÕI NHIỆM VỤ" if r == 0 else None)
    for col, heading in enumerate(headers, start=1):
        ws.cell(row=title_rows + 1, column=col, value=heading)
    for offset, values in enumerate(rows, start=title_rows + 2):
        for col, value in enumerate(values, start=1):
            cell = ws.cell(row=offset, column=col, value=value)
            if isinstance(value, date):
                cell.number_format = "DD/MM/YYYY"
    book.save(path)
    return path


def row(
    title,
    leads,
    deadline,
    status=None,
    completed=None,
    coordinators=None,
    directive=TB129,
    note=None,
    stt=None,
):
    number, issued, summary = directive
    return (
        stt,
        number,
        issued,
        summary,
        title,
        leads,
        coordinators,
        deadline,
        status,
        completed,
        note,
    )


# -- headers -------------------------------------------------------------------------------

VARIANTS = {
    "no-diacritics-upper": (
        "STT",
        "SO VB",
        "NGAY VAN BAN",
        "TRICH YEU",
        "NOI DUNG NHIEM VU",
        "CO QUAN CHU TRI",
        "DON VI PHOI HOP",
        "HAN HOAN THANH",
        "KET QUA",
        "NGAY HOAN THANH",
        "GHI CHU",
    ),
    "spacing-and-hints": (
        " stt ",
        "Số  hiệu\nvăn bản",
        "Ngày ban hành (dd/mm/yyyy)",
        "  Trích yếu ",
        "Nội dung",
        "Đơn vị   thực hiện",
        "Cơ quan phối hợp",
        "Thời hạn hoàn thành",
        "Tình trạng",
        "Ngày hoàn thành",
        "Ghi chú",
    ),
    "lower-case": (
        "tt",
        "số văn bản",
        "ngày vb",
        "trích yếu nội dung",
        "nhiệm vụ",
        "chủ trì",
        "phối hợp",
        "thời hạn",
        "trạng thái",
        "ngày hoàn thành",
        "ghi chú",
    ),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_tolerant_headers(nv, tmp_path, variant):
    path = workbook(
        tmp_path / "book.xlsx",
        (*VARIANTS[variant], "Người theo dõi"),
        [
            (
                *row(
                    "Rà soát các dự án chậm tiến độ",
                    "Sở Xây dựng",
                    "Quý II/2023",
                    "Đã hoàn thành",
                    date(2023, 6, 20),
                    coordinators="STC",
                ),
                "chị Lan",
            )
        ],
        title_rows=2,
    )
    report = nv.import_json(path)
    assert report["header_row"] == 3
    assert report["created"] == 1 and report["invalid"] == 0
    assert any("Người theo dõi" in c for c in report["ignored_columns"])
    (task,) = nv.tasks().values()
    assert task["leads"] == ["SXD"] and task["coordinators"] == ["STC"]
    assert task["deadline"] == "2023-06-30" and task["status"] == "done_on_time"


def test_header_folding():
    assert fold_header("  ĐƠN VỊ\nCHỦ TRÌ (ghi mã) ") == "don vi chu tri"
    names = {fold_header(n) for c in COLUMNS for n in (c.header, *c.aliases)}
    for heading in (
        "Số VB",
        "Số hiệu văn bản",
        "Cơ quan chủ trì",
        "Đơn vị thực hiện",
        "Hạn hoàn thành",
        "Thời hạn hoàn thành",
        "Ngày hoàn thành",
        "Kết quả",
    ):
        assert fold_header(heading) in names


def test_missing_required_column_is_an_error(nv, tmp_path):
    headers = tuple(h for h in STANDARD if h != "Đơn vị chủ trì")
    path = workbook(tmp_path / "book.xlsx", headers, [("1", "129/TB-UBND")])
    result = nv.run("import", "xlsx", str(path))
    assert result.exit_code == 1
    assert "Lỗi:" in result.stderr and "'Đơn vị chủ trì'" in result.stderr
    assert nv.event_count() == len(AGENCIES)


def test_sheet_is_found_or_chosen(nv, tmp_path):
    path = workbook(
        tmp_path / "book.xlsx",
        STANDARD,
        [row("Việc ở trang thứ hai", "SXD", "30/06/2023")],
        sheet="Nhiệm vụ 2023",
    )
    book = load_workbook(path)
    notes = book.create_sheet("Ghi chú chung", 0)
    notes["A1"] = "Trang này không có bảng nhiệm vụ"
    book.save(path)

    report = nv.import_json(path, "--dry-run")
    assert report["sheet"] == "Nhiệm vụ 2023" and report["would_create"] == 1
    assert nv.import_json(path, "--dry-run", "--sheet", "NHIEM VU 2023")["would_create"] == 1
    result = nv.run("import", "xlsx", str(path), "--sheet", "Năm 2022")
    assert result.exit_code == 1
    assert "Tệp không có trang 'Năm 2022'" in result.stderr and "'Nhiệm vụ 2023'" in result.stderr


def test_not_a_workbook_is_an_error(nv, tmp_path):
    path = tmp_path / "so.xlsx"
    path.write_text("Số văn bản;Nội dung\n129/TB-UBND;Việc\n", encoding="utf-8")
    result = nv.run("import", "xlsx", str(path))
    assert result.exit_code == 1 and "Lỗi: Không đọc được tệp" in result.stderr
    result = nv.run("import", "xlsx", str(tmp_path / "khong-co.xlsx"))
    assert result.exit_code == 1 and "Không tìm thấy tệp" in result.stderr


def test_a_workbook_imported_again_after_a_later_year_took_its_number_adds_nothing(nv, tmp_path):
    """Rows naming 02/CT-UBND by its number alone, with no date: imported under the
    2023 directive, then again once a 2024 one has the number — the same tasks, found
    again, not new ones under the 2024 directive. A row giving the day the task was
    given takes the directive in force that day, as `task assign` does."""
    headers = ["Số văn bản", "Mục", "Nội dung nhiệm vụ", "Đơn vị chủ trì", "Thời hạn"]
    nv.ok("directive", "add", "02/CT-UBND", "--date", "19/01/2023", "--title", "Chỉ thị 2023")
    rows = [("02/CT-UBND", "3", "Rà soát thủ tục", "SXD", "Thường xuyên"),
            ("02/CT-UBND", "4", "Tổng kết chuyển đổi số", "STC", "Quý IV/2024")]  # fmt: skip
    path = workbook(tmp_path / "book.xlsx", headers, rows)
    first = nv.import_json(path)["rows"]
    nv.ok("directive", "add", "02/CT-UBND", "--date", "15/01/2024", "--title", "Chỉ thị 2024")
    again = nv.import_json(path)["rows"]
    assert [r["status"] for r in again] == ["exists", "exists"]
    assert [r["task"] for r in again] == [r["task"] for r in first]
    given = workbook(tmp_path / "given.xlsx", [*headers, "Ngày giao"],
                     [("02/CT-UBND", "5", "Việc mới", "SXD", "Thường xuyên", "01/03/2023")])  # fmt: skip
    (new,) = nv.import_json(given)["rows"]
    assert nv.json("task", "show", new["task"])["directive"] == "02/CT-UBND"


def test_a_formula_the_file_holds_no_value_of_is_refused_not_read_as_empty(nv, tmp_path):
    """openpyxl writes formulas without their values, as some programs do: the deadline
    and the completion date were read as empty (no deadline, still open)."""
    path = workbook(tmp_path / "book.xlsx", STANDARD,
                    [row("Việc", "SXD", "=DATE(2023,6,30)", "Đã hoàn thành", "=DATE(2023,6,20)")])  # fmt: skip
    refused = nv.fails("import", "xlsx", str(path))
    assert "Trang 'Nhiệm vụ' có ô chứa công thức mà tệp không lưu kết quả (H2, J2)" in (
        refused.stderr
    )


def test_a_workbook_without_formulas_is_read_once(nv, tmp_path, monkeypatch):
    """Looking for formulas without values read the whole workbook a second time
    (5 s of a city year's 20,000 rows); a book that has none is read once."""
    import openpyxl

    loads = []
    real = openpyxl.load_workbook

    def counted(*args, **kwargs):
        loads.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(openpyxl, "load_workbook", counted)
    path = workbook(tmp_path / "book.xlsx", STANDARD, [row("Việc", "SXD", "30/06/2023")])
    assert nv.import_json(path)["created"] == 1
    assert len(loads) == 1


def test_formulas_are_found_in_any_spelling_of_their_element(tmp_path):
    import zipfile

    from application.xlsx_import.sheet import _holds_formulas

    plain = workbook(tmp_path / "plain.xlsx", STANDARD, [row("Việc", "SXD", "30/06/2023")])
    assert not _holds_formulas(plain)
    assert _holds_formulas(
        workbook(tmp_path / "f.xlsx", STANDARD, [row("Việc", "SXD", "=DATE(2023,6,30)")])
    )
    for element in ('<x:f t="shared" ref="H2:H3" si="0"/>', "<f>A1+1</f>", '<f t="array">1</f>'):
        variant = tmp_path / "variant.xlsx"
        with zipfile.ZipFile(plain) as source, zipfile.ZipFile(variant, "w") as target:
            for item in source.infolist():
                data = source.read(item.filename)
                if item.filename == "xl/worksheets/sheet1.xml":
                    data = data.replace(b"</sheetData>", f"{element}</sheetData>".encode())
                target.writestr(item, data)
        assert _holds_formulas(variant), element
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(variant, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode().replace("</sheetData>", "<f>A1+1</f></sheetData>")
                data = text.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
            target.writestr(item, data)
    assert _holds_formulas(variant), "UTF-16"
    # A part named by its relationships, in capitals: still looked at.
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(variant, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", b"<f>A1+1</f></sheetData>")
            target.writestr(item.filename.replace("sheet1.xml", "SHEET1.XML"), data)
    assert _holds_formulas(variant), "SHEET1.XML"


def test_a_damaged_workbook_is_an_error_not_a_traceback(nv, tmp_path):
    import zipfile

    good = workbook(tmp_path / "good.xlsx", STANDARD, [row("Việc", "SXD", "30/06/2023")])
    damaged = tmp_path / "damaged.xlsx"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(damaged, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            target.writestr(item, data[:-100] if item.filename.endswith("sheet1.xml") else data)
    refused = nv.fails("import", "xlsx", str(damaged))
    assert "Lỗi: Không đọc được tệp" in refused.stderr and "Traceback" not in refused.output


def test_a_hidden_sheet_gives_way_to_the_visible_active_one(nv, tmp_path):
    path = workbook(tmp_path / "book.xlsx", STANDARD, [row("Việc năm cũ", "SXD", "30/06/2023")],
                    sheet="Năm 2022 (cũ)")  # fmt: skip
    book = load_workbook(path)
    book.active.sheet_state = "hidden"
    current = book.create_sheet("Năm 2023")
    current.append(STANDARD)
    current.append(row("Việc năm nay", "SXD", "30/09/2023"))
    book.active = 1
    book.save(path)
    (imported,) = nv.import_json(path)["rows"]
    assert nv.tasks()[imported["task"]]["title"] == "Việc năm nay"


def test_headings_that_say_co_quan_don_vi_are_read(nv, tmp_path):
    headers = [
        "Số văn bản", "Ngày văn bản", "Trích yếu", "Nội dung nhiệm vụ",
        "Cơ quan, đơn vị chủ trì", "Cơ quan, đơn vị phối hợp", "Thời gian hoàn thành",
    ]  # fmt: skip
    number, issued, summary = TB129
    rows = [(number, issued, summary, "Việc", "SXD", "STC", "30/06/2023")]
    (imported,) = nv.import_json(workbook(tmp_path / "book.xlsx", headers, rows))["rows"]
    task = nv.tasks()[imported["task"]]
    assert (task["leads"], task["coordinators"], task["deadline"]) == (
        ["SXD"],
        ["STC"],
        "2023-06-30",
    )


# -- good rows ---------------------------------------------------------------------------


def test_good_rows_create_directives_tasks_and_completions(nv, tmp_path):
    path = workbook(
        tmp_path / "book.xlsx",
        STANDARD,
        [
            row(
                "Báo cáo kết quả giải ngân vốn đầu tư công",
                "Sở Kế hoạch và Đầu tư",
                date(2023, 4, 30),
                "Đã hoàn thành",
                date(2023, 4, 28),
            ),
            row("Đề xuất phương án thu gom rác thải", "stnmt", "31/5/2023", "đang thực hiện"),
            row("Rà soát quỹ đất sạch", "Sở XD", "quý 2 năm 2023"),
            row("Chống thất thu thuế trên địa bàn", "Cục Thuế thành phố", "Thường xuyên"),
            row(
                "Xây dựng kế hoạch chỉnh trang đô thị",
                "Các Sở: Xây dựng, Tài chính",
                "trước ngày 15/6/2023",
                "Đã hoàn thành ngày 10/06/2023 (Báo cáo số 88/BC-SXD)",
                coordinators="UBND quận Ngô Quyền; STNMT",
            ),
            row(
                "Xây dựng kế hoạch hành động thực hiện Chỉ thị",
                "UBND-NQ",
                "Quý I/2023",
                "Hoàn thành quá hạn",
                "05/04/2023",
                directive=CT02,
            ),
        ],
    )
    before = nv.event_count()
    report = nv.import_json(path)
    assert [r["status"] for r in report["rows"]] == ["created"] * 6
    assert report["created"] == 6 and report["existing"] == 0 and report["invalid"] == 0
    assert [r["row"] for r in report["rows"]] == [2, 3, 4, 5, 6, 7]
    # 2 directives, 6 assignments, 3 completions
    assert nv.event_count() == before + 11

    tasks = nv.tasks()
    by_row = {r["row"]: tasks[r["task"]] for r in report["rows"]}
    assert all(r["task"].startswith("XL-") for r in report["rows"])
    assert by_row[2]["status"] == "done_on_time" and by_row[2]["completed_on"] == "2023-04-28"
    assert by_row[3]["leads"] == ["STNMT"] and by_row[3]["deadline"] == "2023-05-31"
    assert by_row[3]["status"] == "overdue"
    assert by_row[4]["leads"] == ["SXD"]
    assert (by_row[4]["deadline_kind"], by_row[4]["deadline_spec"]) == ("period", "2023Q2")
    assert by_row[4]["deadline"] == "2023-06-30"
    assert by_row[5]["leads"] == ["CTHUE"] and by_row[5]["deadline"] is None
    assert by_row[5]["status"] == "ongoing"
    assert by_row[6]["leads"] == ["SXD", "STC"]
    assert by_row[6]["coordinators"] == ["UBND-NQ", "STNMT"]
    assert by_row[6]["deadline"] == "2023-06-14"  # "trước ngày 15/6" = by the 14th
    assert by_row[6]["completed_on"] == "2023-06-10"
    assert by_row[6]["completion_doc"] == "88/BC-SXD"
    assert by_row[7]["directive"] == "02/CT-UBND" and by_row[7]["status"] == "done_late"
    assert by_row[7]["assigned_on"] == "2023-01-19"

    directives = {d["number"]: d for d in nv.json("directive", "list")}
    assert directives["129/TB-UBND"]["issued_on"] == "2023-04-05"
    assert directives["129/TB-UBND"]["kind"] == "Thông báo"  # inferred from "TB"
    assert directives["129/TB-UBND"]["tasks"] == 5
    assert directives["02/CT-UBND"]["kind"] == "Chỉ thị"


def test_a_name_the_agency_had_before_a_rename_still_finds_it(nv, tmp_path):
    nv.ok("agency", "rename", "SKHDT", "--name", "Sở Tài chính - Kế hoạch", "--on", "01/03/2025")
    path = workbook(
        tmp_path / "book.xlsx",
        STANDARD,
        [
            row("Giải ngân vốn đầu tư công", "Sở Kế hoạch và Đầu tư", "30/4/2023"),
            row("Quyết toán dự án hoàn thành", "Sở Tài chính - Kế hoạch", "31/5/2023"),
        ],
    )
    report = nv.import_json(path)
    assert report["created"] == 2 and report["invalid"] == 0
    assert [t["leads"] for t in nv.tasks().values()] == [["SKHDT"], ["SKHDT"]]

    # Once another agency bears the old name, the name means the one that bore it on
    # the row's day: SKHDT in 2023, the new agency from the day it was established.
    nv.ok("agency", "add", "SKHDT2", "--name", "Sở Kế hoạch và Đầu tư", "--kind", "so",
          "--since", "01/03/2025")  # fmt: skip
    again = workbook(
        tmp_path / "again.xlsx",
        STANDARD,
        [
            row("Thẩm định dự án nhóm B", "Sở Kế hoạch và Đầu tư", "30/6/2023"),
            row("Thẩm định dự án nhóm C", "Sở Kế hoạch và Đầu tư", "30/6/2025", directive=TB2025),
        ],
    )
    rows = nv.import_json(again)["rows"]
    assert [nv.task(r["task"])["leads"] for r in rows] == [["SKHDT"], ["SKHDT2"]]
    assert [r["warnings"] for r in rows] == [[], []]


TB2025 = ("15/TB-UBND", date(2025, 3, 20), "Kết luận về sắp xếp tổ chức bộ máy")


def test_a_name_passes_on_a_rename_on_the_day_of_the_rename(nv, tmp_path):
    """The 2025 reorganisation: the Sở Tài chính merged into the Sở Kế hoạch và Đầu tư,
    which took its name. A row of before names the agencies as they were then; a row of
    after naming the name given up finds the agency, and says it bears another now."""
    nv.ok("agency", "dissolve", "STC", "--on", "01/03/2025", "--into", "SKHDT", "--reason", "QĐ")
    nv.ok("agency", "rename", "SKHDT", "--name", "Sở Tài chính", "--on", "01/03/2025")
    done = ("Đã hoàn thành", "20/4/2023")  # before STC closed: it may lead the task
    path = workbook(
        tmp_path / "book.xlsx",
        STANDARD,
        [
            row("Quyết toán ngân sách", "Sở Tài chính", "30/4/2023", *done),
            row("Giải ngân vốn đầu tư công", "Sở Kế hoạch và Đầu tư", "30/4/2023", *done),
            row("Sắp xếp trụ sở", "Sở Tài chính", "30/6/2025", directive=TB2025),
            row("Bàn giao hồ sơ", "Sở Kế hoạch và Đầu tư", "30/6/2025", directive=TB2025),
        ],
    )
    before = nv.event_count()
    dry = nv.import_json(path, "--dry-run")
    assert [r["status"] for r in dry["rows"]] == ["would_create"] * 4
    assert nv.event_count() == before
    report = nv.import_json(path)
    assert report["created"] == 4
    assert [nv.task(r["task"])["leads"] for r in report["rows"]] == [
        ["STC"], ["SKHDT"], ["SKHDT"], ["SKHDT"]
    ]  # fmt: skip
    former = (
        "Cột 'Đơn vị chủ trì': 'Sở Kế hoạch và Đầu tư' là tên cũ của cơ quan SKHDT: từ ngày "
        "01/03/2025 cơ quan mang tên 'Sở Tài chính'. Dòng được ghi cho SKHDT; nếu ý là cơ quan "
        "khác, hãy ghi tên hoặc mã của cơ quan đó."
    )
    assert [r["warnings"] for r in dry["rows"]] == [[], [], [], [former]]
    assert [r["warnings"] for r in report["rows"]] == [[], [], [], [former]]


def test_a_name_taken_again_after_a_dissolution_is_the_old_agency_s_before(nv, tmp_path):
    nv.ok("agency", "add", "SDL", "--name", "Sở Du lịch", "--kind", "so")
    nv.ok("agency", "dissolve", "SDL", "--on", "01/07/2024", "--reason", "Quyết định 7/QĐ-UBND")
    nv.ok("agency", "add", "SDL-2025", "--name", "Sở Du lịch", "--kind", "so",
          "--since", "01/01/2025")  # fmt: skip
    tb2024 = ("9/TB-UBND", "10/03/2024", "Kết luận về phát triển du lịch")
    path = workbook(
        tmp_path / "book.xlsx",
        STANDARD,
        [
            row("Lễ hội hoa phượng", "Sở Du lịch", "31/5/2024", "Đã hoàn thành", "20/5/2024",
                coordinators="Sở Xây dựng", directive=tb2024),
            row("Tuyến du lịch đảo", "Sở Xây dựng", "30/6/2025", coordinators="Sở Du lịch",
                directive=TB2025),
        ],
    )  # fmt: skip
    before = nv.event_count()
    assert nv.import_json(path, "--dry-run")["would_create"] == 2
    assert nv.event_count() == before
    first, second = nv.import_json(path)["rows"]
    assert nv.task(first["task"])["leads"] == ["SDL"]
    assert nv.task(second["task"])["coordinators"] == ["SDL-2025"]


def test_a_group_heading_in_the_number_s_column_is_no_directive(nv, tmp_path):
    """Headings written in the 'Số văn bản' column: a group's name is not a directive
    for the rows below (they are refused, not filed under 'LĨNH VỰC XÃ HỘI'); a
    directive's heading with its date and trích yếu after the number gives all three."""
    blank = (None,) * 6
    heading = "Kế hoạch số 2200/KH-UBND ngày 10/4/2023 về chuyển đổi số"
    path = workbook(
        tmp_path / "book.xlsx",
        STANDARD,
        [
            ("I", heading, None, None, None, *blank),
            ("1", None, None, None, "Số hóa hồ sơ", "SXD", None, "30/06/2023", None, None, None),
            ("II", "LĨNH VỰC XÃ HỘI", None, None, None, *blank),
            ("2", None, None, None, "Việc dưới nhóm", "STC", None, "30/06/2023", None, None, None),
        ],
    )
    first, second = nv.import_json(path, "--skip-invalid")["rows"]
    assert first["status"] == "created" and first["directive"] == "2200/KH-UBND"
    (directive,) = nv.json("directive", "list")
    assert (directive["issued_on"], directive["title"]) == ("2023-04-10", "về chuyển đổi số")
    assert second["status"] == "invalid" and "Thiếu số văn bản" in second["errors"][0]


def test_directive_heading_rows_and_blank_numbers_mean_the_directive_above(nv, tmp_path):
    """Books that do not merge cells: the directive on its own line, its tasks below
    with the number left blank; group headings in between."""
    number, issued, summary = TB129
    path = workbook(
        tmp_path / "book.xlsx",
        STANDARD,
        [
            ("I", None, None, "LĨNH VỰC KINH TẾ", None, None, None, None, None, None, None),
            ("1", number, issued, summary, None, None, None, None, None, None, None),
            ("1.1", None, None, None, "Việc thứ nhất", "SXD", None, "30/06/2023", None, None, None),
            (
                "1.2",
                None,
                None,
                None,
                "Việc thứ hai",
                "STC",
                None,
                "Quý III/2023",
                None,
                None,
                None,
            ),
            ("2", *CT02, "Việc của chỉ thị", "STNMT", None, "Quý I/2023", None, None, None),
            (
                "2.1",
                None,
                None,
                None,
                "Việc tiếp theo của chỉ thị",
                "STC",
                None,
                "Năm 2023",
                None,
                None,
                None,
            ),
            (
                "3",
                "05/KH-UBND",
                None,
                None,
                "Việc thiếu thời hạn và chủ trì",
                None,
                None,
                None,
                None,
                None,
                None,
            ),
        ],
    )
    report = nv.import_json(path, "--skip-invalid")
    assert report["skipped_rows"] == [2, 3]
    statuses = {r["row"]: (r["status"], r["directive"]) for r in report["rows"]}
    assert statuses == {
        4: ("created", "129/TB-UBND"),
        5: ("created", "129/TB-UBND"),
        6: ("created", "02/CT-UBND"),
        7: ("created", "02/CT-UBND"),
        8: ("invalid", "05/KH-UBND"),
    }
    assert "Thiếu đơn vị chủ trì" in " ".join(report["rows"][-1]["errors"])
    assert {t["directive"] for t in nv.tasks().values()} == {"129/TB-UBND", "02/CT-UBND"}


def test_existing_directive_is_used_not_registered_again(nv, tmp_path):
    nv.ok(
        "directive",
        "add",
        "129/TB-UBND",
        "--date",
        "05/04/2023",
        "--title",
        TB129[2],
        "--kind",
        "Thông báo kết luận",
    )
    before = nv.event_count()
    path = workbook(
        tmp_path / "book.xlsx",
        STANDARD,
        [
            row("Việc có cùng văn bản", "SXD", "30/06/2023"),
            row(
                "Văn bản ghi sai ngày",
                "SXD",
                "30/06/2023",
                directive=("129/TB-UBND", "06/04/2023", TB129[2]),
            ),
        ],
    )
    report = nv.import_json(path, "--skip-invalid")
    first, second = report["rows"]
    assert first["status"] == "created" and first["actions"] == ["giao nhiệm vụ"]
    assert second["status"] == "invalid"
    assert "05/04/2023" in second["errors"][0] and "06/04/2023" in second["errors"][0]
    assert nv.event_count() == before + 1
    directives = {d["number"]: d for d in nv.json("directive", "list")}
    assert directives["129/TB-UBND"]["kind"] == "Thông báo kết luận"


# -- bad rows ------------------------------------------------------------------------------


def mixed_book(path: Path) -> Path:
    return workbook(
        path,
        STANDARD,
        [
            row("Việc hợp lệ thứ nhất", "SXD", "30/06/2023"),  # row 2
            row("Việc của cơ quan chưa đăng ký", "Sở Du lịch", "30/06/2023"),  # 3
            row("Việc có ngày không có thật", "STC", "31/06/2023"),  # 4
            row("Việc có hạn trước ngày văn bản", "STC", "01/03/2023"),  # 5
            row(
                "Việc hoàn thành trước khi giao",
                "STC",
                "30/06/2023",
                "Đã hoàn thành",
                date(2023, 4, 1),
            ),  # 6
            row(None, "STC", "30/06/2023"),  # 7: no title
            row("Việc hợp lệ thứ hai", "Sở Tài chánh, STNMT", "Quý III/2023"),  # 8: typo
            row("Việc hợp lệ thứ ba", "STNMT", "Quý III/2023", "Đã hoàn thành"),  # 9: no date
            row("Việc hợp lệ thứ tư", "UBND quận Ngô Quyền", "Thường xuyên"),  # 10
        ],
    )


EXPECTED_ERRORS = {
    3: ["Sở Du lịch"],
    4: ["'Thời hạn'", "31/06/2023", "không tồn tại"],
    5: ["01/03/2023", "trước ngày giao", "05/04/2023"],
    6: ["Ngày hoàn thành 01/04/2023 trước ngày giao nhiệm vụ 05/04/2023"],
    7: ["Thiếu nội dung nhiệm vụ", "'Nội dung nhiệm vụ'"],
    8: ["Sở Tài chánh", "Có phải ý bạn là", "Sở Tài chính (STC)"],
    9: ["không có ngày hoàn thành", "'Ngày hoàn thành'"],
}


def check_invalid_rows(report: dict) -> None:
    invalid = {r["row"]: r for r in report["rows"] if r["status"] == "invalid"}
    assert sorted(invalid) == sorted(EXPECTED_ERRORS)
    for number, fragments in EXPECTED_ERRORS.items():
        text = " ".join(invalid[number]["errors"])
        for fragment in fragments:
            assert fragment in text, (number, fragment, text)
    assert report["invalid"] == len(EXPECTED_ERRORS)


def test_any_invalid_row_means_nothing_is_written(nv, tmp_path):
    path = mixed_book(tmp_path / "mixed.xlsx")
    before = nv.event_count()
    report = nv.import_json(path, code=1)
    check_invalid_rows(report)
    assert {r["row"]: r["status"] for r in report["rows"] if r["status"] != "invalid"} == {
        2: "would_create",
        10: "would_create",
    }
    assert report["created"] == 0 and report["written"] is False
    assert nv.event_count() == before
    assert nv.tasks() == {}
    assert nv.json("directive", "list") == []

    human = nv.run("import", "xlsx", str(path))
    assert human.exit_code == 1
    for number in EXPECTED_ERRORS:
        assert f"Dòng {number}: " in human.stdout
    assert "Lỗi: có 7 dòng không hợp lệ nên không ghi gì cả" in human.stderr
    assert nv.event_count() == before


def test_dry_run_writes_nothing(nv, tmp_path):
    good = workbook(
        tmp_path / "good.xlsx",
        STANDARD,
        [
            row("Việc hợp lệ", "SXD", "30/06/2023", "Đã hoàn thành", date(2023, 6, 1)),
            row("Việc hợp lệ khác", "STC", "Quý III/2023"),
        ],
    )
    before = nv.event_count()
    report = nv.import_json(good, "--dry-run")
    assert [r["status"] for r in report["rows"]] == ["would_create", "would_create"]
    assert report["rows"][0]["actions"] == [
        "ghi văn bản 129/TB-UBND",
        "giao nhiệm vụ",
        "ghi hoàn thành ngày 01/06/2023",
    ]
    assert nv.event_count() == before
    # The dry run predicted the ids the real import uses.
    real = nv.import_json(good)
    assert [r["task"] for r in real["rows"]] == [r["task"] for r in report["rows"]]
    assert nv.event_count() == before + 4

    mixed = nv.import_json(mixed_book(tmp_path / "mixed.xlsx"), "--dry-run", code=1)
    check_invalid_rows(mixed)
    assert nv.event_count() == before + 4


def test_skip_invalid_writes_only_the_good_rows(nv, tmp_path):
    path = mixed_book(tmp_path / "mixed.xlsx")
    before = nv.event_count()
    report = nv.import_json(path, "--skip-invalid")
    check_invalid_rows(report)
    created = {r["row"]: r["task"] for r in report["rows"] if r["status"] == "created"}
    assert sorted(created) == [2, 10]
    assert report["written"] is True and report["created"] == 2
    assert nv.event_count() == before + 3  # the directive and two tasks
    assert set(nv.tasks()) == set(created.values())


def test_reimport_creates_nothing_new(nv, tmp_path):
    rows = [
        row("Việc một", "SXD", "30/06/2023", "Đã hoàn thành", date(2023, 6, 1)),
        row("Việc hai", "Sở Tài chính", "Quý III/2023"),
    ]
    path = workbook(tmp_path / "book.xlsx", STANDARD, rows)
    first = nv.import_json(path)
    assert first["created"] == 2
    count = nv.event_count()

    again = nv.import_json(path)
    assert [r["status"] for r in again["rows"]] == ["exists", "exists"]
    assert [r["task"] for r in again["rows"]] == [r["task"] for r in first["rows"]]
    assert again["created"] == 0 and again["existing"] == 2
    assert all(not r["warnings"] for r in again["rows"])
    assert nv.event_count() == count
    assert "Đã có" in nv.ok("import", "xlsx", str(path)).stdout

    # The book updated a month later: same tasks, one now completed, one new row.
    done = "Đã hoàn thành (Báo cáo số 15/BC-STC)"
    rows[1] = row("Việc hai", "stc", "Quý III/2023", done, date(2023, 9, 20))
    rows.append(row("Việc ba", "STNMT", "Quý IV/2023"))
    updated = nv.import_json(workbook(tmp_path / "book2.xlsx", STANDARD, rows))
    assert [r["status"] for r in updated["rows"]] == ["exists", "exists", "created"]
    task = updated["rows"][1]["task"]
    assert (
        f'`nhiemvu task complete {task} --on 20/09/2023 --doc "15/BC-STC"`'
        in updated["rows"][1]["warnings"][0]
    )
    assert nv.event_count() == count + 1


def test_a_row_whose_task_was_retracted_is_said_so_and_the_rest_imports(nv, tmp_path):
    rows = [row("Việc một", "SXD", "30/06/2023"), row("Việc hai", "STC", "30/09/2023")]
    first = nv.import_json(workbook(tmp_path / "book.xlsx", STANDARD, rows))
    retracted = first["rows"][0]["task"]
    nv.ok("correct", f"{retracted}#1", "--reason", "Nhập nhầm dòng")
    rows.append(row("Việc ba", "STNMT", "31/12/2023"))
    again = nv.import_json(workbook(tmp_path / "book2.xlsx", STANDARD, rows))
    assert [r["status"] for r in again["rows"]] == ["exists", "exists", "created"]
    assert "đã được nhập trước đây rồi rút lại" in again["rows"][0]["warnings"][0]
    assert retracted not in nv.tasks()


def test_duplicate_row_in_one_file_is_invalid(nv, tmp_path):
    path = workbook(
        tmp_path / "book.xlsx",
        STANDARD,
        [
            row("Việc lặp lại", "SXD", "30/06/2023"),
            row("Việc  lặp lại", "Sở Xây dựng", "30/06/2023"),
        ],
    )
    report = nv.import_json(path, code=1)
    assert report["rows"][1]["status"] == "invalid"
    assert "Trùng với dòng 2" in report["rows"][1]["errors"][0]


def test_task_ids_are_stable():
    a = task_id_for("129/TB-UBND", "2.3", "Rà soát  quỹ đất", ["SXD", "STC"])
    assert a == task_id_for("129/TB-UBND", "2.3", "rà soát quỹ đất", ["STC", "SXD"])
    assert a != task_id_for("129/TB-UBND", "2.4", "Rà soát quỹ đất", ["SXD", "STC"])
    assert a.startswith("XL-") and len(a) == 13


@pytest.mark.parametrize(
    "cell, kind, value",
    [
        (date(2023, 3, 31), "date", date(2023, 3, 31)),
        (datetime(2023, 3, 31, 0, 0), "date", date(2023, 3, 31)),
        ("31/03/2023", "date", date(2023, 3, 31)),
        ("2023-03-31", "date", date(2023, 3, 31)),
        ("trong ngày 31/3/2023", "date", date(2023, 3, 31)),
        ("Trước ngày 15/02/2023", "date", date(2023, 2, 14)),
        # In words, as seed 001 writes it, with or without diacritics.
        ("Trước ngày 15 tháng 02 năm 2023", "date", date(2023, 2, 14)),
        ("Hoàn thành trong ngày 20 tháng 4 năm 2023", "date", date(2023, 4, 20)),
        ("TRƯỚC NGÀY 1 THÁNG 3 NĂM 2024", "date", date(2024, 2, 29)),
        ("truoc ngay 15 thang 2 nam 2023", "date", date(2023, 2, 14)),
        ("ngày 30 tháng 6/2023", "date", date(2023, 6, 30)),
        # Before a period: the day before it begins.
        ("Trước tháng 6/2023", "date", date(2023, 5, 31)),
        ("Trước quý III/2023", "date", date(2023, 6, 30)),
        ("trước Quý I năm 2024", "date", date(2023, 12, 31)),
        ("Trước năm 2024", "date", date(2023, 12, 31)),
        ("Quý II/2023", "period", "2023Q2"),
        ("quý 2 năm 2023", "period", "2023Q2"),
        ("Hoàn thành trong quý IV năm 2023", "period", "2023Q4"),
        ("QUY III/2023", "period", "2023Q3"),
        ("tháng 10/2023", "period", "2023-10"),
        ("Năm 2023", "period", "2023"),
        ("10 ngày làm việc", "working_days", 10),
        ("Thường xuyên", "none", None),
        ("thuong xuyen", "none", None),
    ],
)
def test_deadline_forms(cell, kind, value):
    deadline, warnings = parse_deadline(cell)
    assert (deadline.kind, deadline.value) == (kind, value)
    assert warnings == []


@pytest.mark.parametrize(
    ("cell", "kept", "said"),
    [
        ("31/3/2024; 30/6/2024", ("date", date(2024, 3, 31)), "31/03/2024"),
        ("Trước ngày 15/02/2023, báo cáo lại trước ngày 30/3/2023", ("date", date(2023, 2, 14)),
         "14/02/2023"),
        ("Quý I và Quý II/2024", ("period", "2024Q1"), "quý I năm 2024"),
        ("Trước ngày 15 tháng 02 năm 2023; báo cáo ngày 30 tháng 3 năm 2023",
         ("date", date(2023, 2, 14)), "14/02/2023"),
        ("Trước quý II và quý III/2024", ("date", date(2024, 3, 31)), "31/03/2024"),
    ],
)  # fmt: skip
def test_a_cell_of_several_deadlines_keeps_the_first_and_says_so(cell, kept, said):
    deadline, warnings = parse_deadline(cell)
    assert (deadline.kind, deadline.value) == kept
    assert warnings == [
        f"Ô thời hạn '{cell}' ghi nhiều thời hạn; ghi thời hạn đầu tiên ({said}). Nếu nhiệm vụ "
        "có nhiều mốc, hãy tách mỗi mốc thành một dòng."
    ]


@pytest.mark.parametrize("cell", ["31/06/2023", "sớm", "Quý V/2023"])
def test_unreadable_deadlines_are_refused(cell):
    from workflow.errors import DomainError

    with pytest.raises(DomainError):
        parse_deadline(cell)


@pytest.mark.parametrize(
    "cell", [date(9999, 12, 31), datetime(1899, 12, 31), 2958465, "31/12/9999"]
)
def test_a_date_cell_of_a_year_no_command_accepts_is_refused(cell):
    """A date cell or an Excel serial number is held to the years a typed date is
    (1900–9998): a deadline near 31/12/9999 overflowed the escalation's dates."""
    from workflow.errors import DomainError

    with pytest.raises(DomainError, match="nằm ngoài khoảng cho phép 1900–9998"):
        parse_deadline(cell)


# -- template and sample -------------------------------------------------------------------


def test_template_is_accepted_by_the_importer(nv, tmp_path):
    path = tmp_path / "mau.xlsx"
    result = nv.run("import", "template", "--out", str(path))
    assert result.exit_code == 0 and "Đã ghi tệp mẫu" in result.stdout
    book = load_workbook(path)
    assert book.sheetnames == ["Nhiệm vụ", "Hướng dẫn"]
    ws = book["Nhiệm vụ"]
    headers = [c.value for c in ws[1]]
    assert headers[:3] == ["STT", "Số văn bản", "Ngày văn bản"]
    date_column = headers.index("Ngày văn bản") + 1
    assert ws.cell(row=2, column=date_column).number_format == "DD/MM/YYYY"
    assert ws.cell(row=3, column=date_column).number_format == "DD/MM/YYYY"
    notes = "\n".join(str(c.value) for r in book["Hướng dẫn"].iter_rows() for c in r if c.value)
    assert "Thường xuyên" in notes and "Đơn vị chủ trì" in notes

    # As written: the example row is skipped, nothing else to do.
    report = nv.import_json(path)
    assert report["rows"] == [] and report["skipped_rows"] == [2]
    assert report["ignored_columns"] == []

    # Filled in by a user: accepted.
    values = {
        "Số văn bản": "129/TB-UBND",
        "Ngày văn bản": date(2023, 4, 5),
        "Trích yếu": TB129[2],
        "Nội dung nhiệm vụ": "Việc điền vào mẫu",
        "Đơn vị chủ trì": "SXD",
        "Thời hạn": "Quý II/2023",
        "STT": 1,
    }
    for key, value in values.items():
        ws.cell(row=3, column=headers.index(key) + 1, value=value)
    book.save(path)
    report = nv.import_json(path)
    assert [r["status"] for r in report["rows"]] == ["created"]

    # The example row itself is a valid task (given at the meeting before the notice).
    ws.cell(row=2, column=1, value=2)
    book.save(path)
    report = nv.import_json(path)
    assert [r["status"] for r in report["rows"]] == ["created", "exists"]
    warnings = " ".join(report["rows"][0]["warnings"])
    assert "trước ngày ban hành" in warnings
    assert "Trích yếu khác với văn bản 129/TB-UBND" in warnings  # row 3 registered it
    example = nv.tasks()[report["rows"][0]["task"]]
    assert (example["assigned_on"], example["deadline"]) == ("2023-03-27", "2023-03-31")
    assert example["leads"] == ["STC"] and example["status"] == "done_on_time"


def test_shipped_workbooks_match_their_generators(tmp_path):
    """application/data/ is regenerated by `python -m application.xlsx_import`."""
    from application.xlsx_import import write_template

    for shipped, generate in ((SAMPLE_FILE, write_sample), (TEMPLATE_FILE, write_template)):
        fresh = generate(tmp_path / shipped.name)
        a, b = load_workbook(shipped), load_workbook(fresh)
        assert a.sheetnames == b.sheetnames
        for name in a.sheetnames:
            assert [[c.value for c in r] for r in a[name].iter_rows()] == [
                [c.value for c in r] for r in b[name].iter_rows()
            ], (shipped.name, name)


def test_sample_workbook_against_the_demo_agencies(db_url, tmp_path):
    """The sample's good rows import into a ledger with the demo's agencies; its three
    wrong rows are refused for the reasons written next to them."""
    from application.demo import load_data

    nv = Nhiemvu(db_url)
    for agency in load_data()["agencies"]:
        nv.ok("agency", "add", agency["code"], "--name", agency["name"], "--kind", agency["kind"])
    path = write_sample(tmp_path / "sample.xlsx")
    report = nv.import_json(path, code=1)
    bad = {r["row"]: " ".join(r["errors"]) for r in report["rows"] if r["status"] == "invalid"}
    last = SAMPLE_FIRST_ROW + len(SAMPLE_ROWS) - 1
    assert sorted(bad) == [last - 2, last - 1, last]
    assert "Sở Du lịch" in bad[last - 2]
    assert "31/06/2022" in bad[last - 1]
    assert "trước ngày giao" in bad[last]

    report = nv.import_json(path, "--skip-invalid")
    assert report["created"] == len(SAMPLE_ROWS) - 3
    tasks = {r["row"]: r["task"] for r in report["rows"] if r["status"] == "created"}
    listed = nv.tasks()
    first = listed[tasks[SAMPLE_FIRST_ROW]]
    assert first["leads"] == ["SKHDT"] and first["completion_doc"] == "1520/SKHĐT-TH"
    assert first["directive"] == "71/BC-UBND" and first["status"] == "done_on_time"
    assert listed[tasks[SAMPLE_FIRST_ROW + 4]]["leads"] == ["SXD"]  # "Sở XD"
    assert listed[tasks[SAMPLE_FIRST_ROW + 3]]["leads"] == ["CTHUE"]  # "Cục Thuế thành phố"


@pytest.mark.parametrize(
    "written",
    [
        "129/tb-ubnd",
        "Số 129/TB-UBND",
        "Thông báo số 129/TB-UBND",
        "129/TB\u2013UBND",  # an en dash, as word processors put it
        "129 /TB-UBND",
    ],
)
def test_a_directive_number_is_the_ledger_s_however_the_row_writes_it(nv, tmp_path, written):
    number, issued, summary = TB129
    nv.ok("directive", "add", number, "--date", "05/04/2023", "--title", summary)
    book = workbook(
        tmp_path / "book.xlsx",
        STANDARD,
        [row("Rà soát quỹ đất sạch", "SXD", "30/06/2023", directive=(written, issued, summary))],
    )
    report = nv.import_json(book)
    (created,) = report["rows"]
    assert (created["status"], created["directive"]) == ("created", number), created
    assert [d["number"] for d in nv.json("directive", "list")] == [number]
    assert nv.tasks()[created["task"]]["directive"] == number


def test_a_directive_retracted_then_imported_again_is_registered_anew(nv, tmp_path):
    number, _, summary = TB129
    added = nv.json("directive", "add", number, "--date", "05/04/2023", "--title", summary)
    nv.ok("correct", added["events"][0], "--reason", "Ghi nhầm")
    book = workbook(tmp_path / "book.xlsx", STANDARD, [row("Rà soát quỹ đất", "SXD", "30/06/2023")])
    report = nv.import_json(book, "--dry-run")
    assert report["rows"][0]["actions"][0] == f"ghi văn bản {number}"
    report = nv.import_json(book)
    assert report["rows"][0]["status"] == "created"
    assert [d["number"] for d in nv.json("directive", "list")] == [number]


def test_a_status_that_says_the_task_is_open_keeps_it_open(nv, tmp_path):
    status = "Đang thực hiện: Sở đã hoàn thành dự thảo Đề án, gửi xin ý kiến các sở ngày 15/5/2023"
    book = workbook(
        tmp_path / "book.xlsx",
        STANDARD,
        [
            row("Xây dựng Đề án", "SXD", "30/06/2023", status),
            row("Rà soát quy hoạch", "STC", "30/06/2023", "Đang thực hiện (đã hoàn thành 70%)"),
        ],
    )
    report = nv.import_json(book)
    assert [r["actions"] for r in report["rows"]] == [
        ["ghi văn bản 129/TB-UBND", "giao nhiệm vụ"],
        ["giao nhiệm vụ"],
    ]
    tasks = nv.tasks()
    assert [tasks[r["task"]]["completed_on"] for r in report["rows"]] == [None, None]


@pytest.mark.parametrize(
    "status",
    [
        "Đã hoàn thành 70%, dự kiến hoàn thành trước 30/7/2023",
        "Hoàn thành dự thảo ngày 15/6/2023, đang lấy ý kiến các sở",
        "Đã hoàn thành một phần",
    ],
)
def test_a_status_done_only_in_part_keeps_the_task_open(nv, tmp_path, status):
    """A share, a draft, an expected date: the date in it is not the completion's (it
    would go into the ratings as one), and the row is said to be open."""
    book = workbook(
        tmp_path / "book.xlsx", STANDARD, [row("Lập đề án", "SXD", "30/06/2023", status)]
    )
    (imported,) = nv.import_json(book)["rows"]
    assert imported["actions"] == ["ghi văn bản 129/TB-UBND", "giao nhiệm vụ"]
    assert any("mới xong một phần: ghi là đang thực hiện" in w for w in imported["warnings"])
    assert nv.tasks()[imported["task"]]["completed_on"] is None
    dated = workbook(tmp_path / "dated.xlsx", STANDARD,
                     [row("Lập đề án B", "SXD", "30/06/2023", status, "20/06/2023")])  # fmt: skip
    (refused,) = nv.import_json(dated, code=1)["rows"]
    assert "nghĩa là nhiệm vụ mới xong một phần, nhưng có ngày hoàn thành" in refused["errors"][0]


def test_a_past_task_of_an_agency_merged_since_is_imported_when_done_before(nv, tmp_path):
    """History of an agency merged since: a task it completed before the merger goes in
    under it; one still open would stay with it after it is gone, and is refused."""
    nv.ok("agency", "dissolve", "SKHDT", "--on", "01/03/2024", "--into", "STC", "--reason", "QĐ")
    book = workbook(
        tmp_path / "book.xlsx",
        STANDARD,
        [
            row("Cân đối vốn", "SKHDT", "30/06/2023", "Đã hoàn thành", "20/06/2023"),
            row("Quy hoạch tỉnh", "SKHDT", "30/06/2023", "Đang thực hiện"),
        ],
    )
    done, still_open = nv.import_json(book, "--skip-invalid")["rows"]
    assert done["status"] == "created" and nv.tasks()[done["task"]]["leads"] == ["SKHDT"]
    assert "Cơ quan SKHDT đã sáp nhập vào STC từ ngày 01/03/2024" in still_open["errors"][0]


def test_a_row_edited_since_its_import_is_flagged_as_a_likely_duplicate(nv, tmp_path):
    headers = (*STANDARD[:-1], "Mục")  # the last column, the note's, holds the clause
    first = [
        row("Rà soát quỹ đất sạch", "SXD", "30/06/2023", note="2"),
        row("Lập kế hoạch chỉnh trang đô thị", "STC", "30/06/2023", note="3"),
    ]
    original = nv.import_json(workbook(tmp_path / "v1.xlsx", headers, first))["rows"]
    # The clerk corrects a typo in the first row's content and adds a lead to it.
    edited = [row("Rà soát quỹ đất sạch.", "SXD, STC", "30/06/2023", note="2"), first[1]]
    report = nv.import_json(workbook(tmp_path / "v2.xlsx", headers, edited))
    changed, same = report["rows"]
    assert same["status"] == "exists" and same["warnings"] == []
    assert changed["status"] == "created"
    (warning,) = changed["warnings"]
    assert f"gần giống nhiệm vụ {original[0]['task']} đã có trong sổ (mục 2 của" in warning
    assert f"`nhiemvu correct {changed['task']}#1`" in warning
    # Another task of the clause, with every task the ledger has in the workbook: none.
    more = row("Rà soát quỹ đất sạch của quận", "SXD", "30/06/2023", note="2")
    report = nv.import_json(workbook(tmp_path / "v3.xlsx", headers, [*first, edited[0], more]))
    assert [r["status"] for r in report["rows"]] == ["exists", "exists", "exists", "created"]
    assert [r["warnings"] for r in report["rows"]] == [[], [], [], []]


def test_two_heading_rows_and_a_row_numbering_the_columns_are_not_tasks(nv, tmp_path):
    book = Workbook()
    ws = book.active
    ws["A1"] = "DANH MỤC NHIỆM VỤ"
    ws.merge_cells("A1:I1")
    top = ["STT", "Số văn bản", "Ngày văn bản", "Trích yếu", "Nội dung nhiệm vụ"]
    top += ["Đơn vị chủ trì", "Thời hạn", "Kết quả thực hiện"]
    for column, heading in enumerate(top, start=1):
        ws.cell(3, column, heading)
    ws.cell(4, 8, "Tình trạng")
    ws.cell(4, 9, "Ngày hoàn thành")
    for letter in "ABCDEFG":
        ws.merge_cells(f"{letter}3:{letter}4")
    ws.merge_cells("H3:I3")
    for column in range(1, 10):
        ws.cell(5, column, f"({column})")
    number, issued, summary = TB129
    ws.append([1, number, issued, summary, "Việc hai dòng tiêu đề", "STC", "30/06/2023"])
    ws.cell(6, 8, "Đã hoàn thành")
    ws.cell(6, 9, "20/06/2023")
    book.save(tmp_path / "two.xlsx")

    report = nv.import_json(tmp_path / "two.xlsx")
    assert report["header_row"] == 3
    (created,) = report["rows"]
    assert (created["row"], created["status"], created["errors"]) == (6, "created", [])
    assert nv.tasks()[created["task"]]["completed_on"] == "2023-06-20"


def test_the_other_sheets_holding_tasks_are_named_not_silently_left(nv, tmp_path):
    path = workbook(tmp_path / "months.xlsx", STANDARD, [row("Việc tháng 1", "SXD", "30/06/2023")],
                    sheet="Tháng 1")  # fmt: skip
    book = load_workbook(path)
    second = book.create_sheet("Tháng 2")
    for column, heading in enumerate(STANDARD, start=1):
        second.cell(1, column, heading)
    book.create_sheet("Ghi chú")["A1"] = "Sổ do Phòng Tổng hợp giữ"
    book.save(path)

    report = nv.import_json(path, "--dry-run")
    assert (report["sheet"], report["other_sheets"]) == ("Tháng 1", ["Tháng 2"])
    human = nv.run("import", "xlsx", str(path), "--dry-run")
    assert "Trang 'Tháng 2' cũng có bảng nhiệm vụ nhưng chưa được nhập" in human.stdout
    assert nv.import_json(path, "--sheet", "Tháng 2", "--dry-run")["other_sheets"] == []


def test_a_cell_formatted_far_below_the_table_is_not_read_as_rows(tmp_path):
    from openpyxl.styles import Font

    from application.xlsx_import import read_sheet

    path = workbook(tmp_path / "book.xlsx", STANDARD, [row("Việc", "SXD", "30/06/2023")] * 2)
    book = load_workbook(path)
    book.active.cell(5000, 1).font = Font(bold=True)
    book.active.cell(2, 300).font = Font(bold=True)
    book.save(path)
    data = read_sheet(path)
    assert [r for r, _ in data.rows] == [2, 3]
    assert data.ignored == []


def test_a_value_far_below_the_table_is_named_not_read(nv, tmp_path):
    """An 'x' typed on the sheet's last row made a grid of a million rows (37 s and
    3.5 GB for 7 tasks); past a long run of empty rows it is named and left."""
    path = workbook(tmp_path / "book.xlsx", STANDARD, [row("Việc", "SXD", "30/06/2023")])
    book = load_workbook(path)
    book.active.cell(1_048_576, 11, "x")
    book.save(path)
    report = nv.import_json(path, "--dry-run")
    assert [r["status"] for r in report["rows"]] == ["would_create"]
    assert report["stray_cells"] == ["K1048576"]
    said = nv.ok("import", "xlsx", str(path), "--dry-run").stdout
    assert "Không đọc các ô ở xa bên dưới bảng, sau hơn 1.000 dòng trống: K1048576." in said


def test_a_workbook_s_directive_of_another_year_is_another_directive(nv, tmp_path):
    number, _, summary = CT02
    nv.ok("directive", "add", number, "--date", "19/01/2023", "--title", summary)
    later = (number, date(2024, 1, 10), "Chỉ thị năm 2024")
    book = workbook(tmp_path / "2024.xlsx", STANDARD,
                    [row("Việc năm 2024", "SXD", "30/06/2024", directive=later)])  # fmt: skip
    (created,) = nv.import_json(book)["rows"]
    assert (created["status"], created["directive"]) == ("created", "02/CT-UBND (2024)")
    assert nv.json("task", "show", created["task"])["directive"] == "02/CT-UBND (2024)"
    assert [d["number"] for d in nv.json("directive", "list")] == [number, "02/CT-UBND (2024)"]
    # Imported again: the same task, found.
    (again,) = nv.import_json(book)["rows"]
    assert (again["status"], again["task"]) == ("exists", created["task"])


def test_agencies_written_as_the_seed_documents_write_them(nv, tmp_path):
    nv.ok("agency", "add", "STTTT", "--name", "Sở Thông tin và Truyền thông", "--kind", "so")
    book = workbook(
        tmp_path / "book.xlsx",
        STANDARD,
        [
            row("Việc một", "Sở Xây dựng (chủ trì)", "30/06/2023",
                coordinators="Sở Tài chính và các ngành liên quan"),
            row("Việc hai", "Sở Thông tin & Truyền thông", "30/06/2023",
                coordinators="Các sở, ban, ngành, UBND các quận, huyện"),
            row("Việc ba", "Các sở, ngành liên quan", "30/06/2023"),
        ],
    )  # fmt: skip
    report = nv.import_json(book, "--dry-run", code=1)
    first, second, third = report["rows"]
    assert (first["status"], second["status"], third["status"]) == (
        "would_create",
        "would_create",
        "invalid",
    )
    assert third["errors"] == [
        "Cột 'Đơn vị chủ trì' ghi 'ngành liên quan': không phải một cơ quan cụ thể. Hãy ghi "
        "cơ quan chủ trì theo tên hoặc mã đã đăng ký."
    ]
    assert any("'các ngành liên quan': không phải một cơ quan cụ thể" in w
               for w in first["warnings"])  # fmt: skip
    report = nv.import_json(book, "--skip-invalid")
    tasks = nv.tasks()
    one, two = (tasks[r["task"]] for r in report["rows"][:2])
    assert (one["leads"], one["coordinators"]) == (["SXD"], ["STC"])
    assert (two["leads"], two["coordinators"]) == (["STTTT"], [])


def test_a_refusal_names_the_workbook_s_column_not_the_command_s_option(nv, tmp_path):
    headers = (*STANDARD[:-1], "Loại văn bản")  # the last column, the note's, holds the kind
    book = workbook(tmp_path / "book.xlsx", headers,
                    [row("Việc", "SXD", "30/06/2023", note="Thông báo " * 15)])  # fmt: skip
    (refused,) = nv.import_json(book, "--dry-run", code=1)["rows"]
    assert refused["errors"][0].startswith(
        "Loại văn bản (cột 'Loại văn bản') dài 149 ký tự, quá 100 ký tự cho phép"
    )
    assert "--" not in refused["errors"][0]
    # A clause and a leader too long (no column holds them: the event's check).
    book = workbook(tmp_path / "two.xlsx", [*STANDARD, "Mục", "Lãnh đạo chỉ đạo"],
                    [(*row("Việc", "SXD", "30/06/2023"), "2." * 51, "Ông " * 60)])  # fmt: skip
    (refused,) = nv.import_json(book, "--dry-run", code=1)["rows"]
    assert refused["errors"][0].startswith(
        "Mục, điểm trong văn bản (cột 'Mục') dài 102 ký tự, quá 100 ký tự cho phép"
    )
    book = workbook(tmp_path / "three.xlsx", [*STANDARD, "Lãnh đạo chỉ đạo"],
                    [(*row("Việc", "SXD", "30/06/2023"), "Ông " * 60)])  # fmt: skip
    (refused,) = nv.import_json(book, "--dry-run", code=1)["rows"]
    assert refused["errors"][0].startswith(
        "Lãnh đạo UBND chỉ đạo (cột 'Lãnh đạo chỉ đạo') dài 239 ký tự, quá 200"
    )
    # A directive's summary too long: its column, not the task content's (both are the
    # commands' --title).
    directive = ("77/TB-UBND", date(2023, 4, 5), "Kết luận " * 1_200)
    book = workbook(tmp_path / "four.xlsx", STANDARD,
                    [row("Việc", "SXD", "30/06/2023", directive=directive)])  # fmt: skip
    before = nv.event_count()
    (refused,) = nv.import_json(book, code=1)["rows"]
    assert refused["errors"] == [
        "Trích yếu văn bản (cột 'Trích yếu') dài 10.799 ký tự, quá 10.000 ký tự cho phép: "
        "'Kết luận Kết luận Kết luận Kết luận Kết…'. Hãy viết gọn lại."
    ]
    assert nv.event_count() == before


def test_an_assignment_years_before_its_directive_names_the_workbook_s_columns(nv, tmp_path):
    """The ledger refuses a task given more than a year before its directive (2021 for
    2023): through the import, the refusal names the columns to check, not the options
    of `task assign` the workbook has no use for."""
    book = workbook(tmp_path / "book.xlsx", [*STANDARD, "Ngày giao"],
                    [(*row("Việc", "SXD", "30/06/2023"), date(2021, 3, 1))])  # fmt: skip
    (refused,) = nv.import_json(book, "--dry-run", code=1)["rows"]
    (error,) = refused["errors"]
    assert "Ngày giao 01/03/2021 trước ngày ban hành văn bản 129/TB-UBND" in error
    assert "(cột 'Ngày giao')" in error and "(cột 'Số văn bản')" in error
    assert "--" not in error


def test_heading_rows_of_the_usual_forms_with_columns_it_does_not_read(nv, tmp_path):
    book = Workbook()
    ws = book.active
    top = ["STT", "Số văn bản", "Ngày văn bản", "Trích yếu", "Nội dung nhiệm vụ",
           "Đơn vị thực hiện", None, "Thời hạn", "Kết quả thực hiện", None, None]  # fmt: skip
    below = [None, None, None, None, None, "Chủ trì", "Phối hợp", None, "Tình trạng",
             "Ngày hoàn thành", "Sản phẩm"]  # fmt: skip
    for column, (heading, sub) in enumerate(zip(top, below, strict=True), start=1):
        ws.cell(1, column, heading)
        ws.cell(2, column, sub)
    for letter in "ABCDEH":
        ws.merge_cells(f"{letter}1:{letter}2")
    ws.merge_cells("F1:G1")
    ws.merge_cells("I1:K1")
    number, issued, summary = TB129
    ws.append([1, number, issued, summary, "Việc hai tầng tiêu đề", "SXD", "STC", "30/06/2023",
               "Đã hoàn thành", "20/06/2023", "Báo cáo số 5"])  # fmt: skip
    book.save(tmp_path / "two.xlsx")

    (created,) = nv.import_json(tmp_path / "two.xlsx")["rows"]
    assert (created["row"], created["status"]) == (3, "created")
    task = nv.tasks()[created["task"]]
    assert (task["leads"], task["coordinators"], task["completed_on"]) == (
        ["SXD"],
        ["STC"],
        "2023-06-20",
    )


def test_an_agency_whose_name_ends_in_brackets_is_found_by_it(nv, tmp_path):
    nv.ok("agency", "add", "DEZA", "--name", "Ban Quản lý Khu kinh tế Hải Phòng (DEZA)",
          "--kind", "so")  # fmt: skip
    book = workbook(tmp_path / "book.xlsx", STANDARD,
                    [row("Việc", "Ban Quản lý Khu kinh tế Hải Phòng (DEZA)", "30/06/2023")])  # fmt: skip
    (created,) = nv.import_json(book)["rows"]
    assert nv.tasks()[created["task"]]["leads"] == ["DEZA"]


def test_one_workbook_bringing_one_number_for_two_years_imports_again_as_it_is(nv, tmp_path):
    number, _, summary = CT02
    rows = [
        row("Việc năm 2023", "SXD", "30/06/2023", directive=(number, date(2023, 1, 19), summary)),
        row(
            "Việc năm 2024", "SXD", "30/06/2024", directive=(number, date(2024, 1, 10), "Năm 2024")
        ),
    ]
    book = workbook(tmp_path / "book.xlsx", STANDARD, rows)
    first = nv.import_json(book)["rows"]
    assert [r["actions"][0] for r in first] == [
        f"ghi văn bản {number}",
        f"ghi văn bản {number} (2024)",
    ]
    again = nv.import_json(book)["rows"]
    assert [(r["status"], r["task"]) for r in again] == [("exists", r["task"]) for r in first]
    # The number typed with its year finds the directive the ledger keeps under it.
    typed = [row("Việc khác 2024", "STC", "30/06/2024",
                 directive=(f"{number} (2024)", date(2024, 1, 10), "Năm 2024"))]  # fmt: skip
    (created,) = nv.import_json(workbook(tmp_path / "typed.xlsx", STANDARD, typed))["rows"]
    assert (created["status"], created["directive"]) == ("created", f"{number} (2024)")


def test_new_directives_are_looked_up_without_building_a_refusal(nv, tmp_path, monkeypatch):
    """Most numbers of a first import are new to the ledger: each lookup of one must
    not build the refusal `task assign` gives, whose suggestions compare the number
    with every directive there is (a 1,000-row workbook took 77 s of CPU on a city
    year, 3 s without)."""
    import application.loading as loading

    refused = []

    class NoteRefusals(loading.NotFound):
        def __init__(self, what, key, known=None):
            refused.append(what)
            super().__init__(what, key, known)

    monkeypatch.setattr(loading, "NotFound", NoteRefusals)
    directives = [(f"{n}/TB-UBND", date(2023, 3, 1), f"Thông báo {n}") for n in (7, 8, 9)]
    rows = [row(f"Việc {i}", "Sở Xây dựng", "30/6/2023", directive=d)
            for d in directives for i in range(3)]  # fmt: skip
    report = nv.json("import", "xlsx", str(workbook(tmp_path / "b.xlsx", STANDARD, rows)))
    assert report["created"] == 9
    assert "văn bản chỉ đạo" not in refused
    assert [d["number"] for d in nv.json("directive", "list")] == [
        "7/TB-UBND",
        "8/TB-UBND",
        "9/TB-UBND",
    ]


@pytest.mark.parametrize("registered_before", [True, False])
def test_rows_of_one_directive_read_its_family_once_not_once_a_command(
    nv, tmp_path, monkeypatch, registered_before
):
    """The import's commands go on with the session of the command before (each in
    its row's savepoint): a city year's workbook read the directive's family, the
    agencies and the counters again for every command (20,000 rows: 39 s of CPU
    under the log's write lock, 28 s with the session kept)."""
    import application.numbering as numbering

    reads = []
    real = numbering.directive_family

    def counted(raw, number):
        reads.append(number)
        return real(raw, number)

    monkeypatch.setattr(numbering, "directive_family", counted)
    if registered_before:
        nv.ok("directive", "add", TB129[0], "--date", "05/04/2023", "--title", TB129[2])
    rows = [row(f"Việc {i}", "SXD", "30/06/2023", "Đã hoàn thành", date(2023, 6, 1))
            for i in range(12)]  # fmt: skip
    report = nv.import_json(workbook(tmp_path / "b.xlsx", STANDARD, rows))
    assert report["created"] == 12
    # A few reads, whatever the number of rows: identifying them (the number with
    # and without its year), the first row's lookup and its command's session, and
    # for a directive the import registers, the next row's lookup finding it.
    assert len(reads) <= 5, reads
    assert len(nv.tasks()) == 12


def test_a_row_refused_after_its_first_command_leaves_the_next_rows_projected_right(nv, tmp_path):
    """A row whose completion is refused after its task was assigned is undone
    whole; the session the next rows go on with must not hold that task, nor the
    directive the row registered."""
    other = ("77/TB-UBND", date(2023, 4, 5), "Thông báo khác")
    rows = [
        row("Việc đầu", "SXD", "30/06/2023"),
        row("Việc làm xong trước khi giao", "STC", "30/06/2023", "Đã hoàn thành",
            date(2023, 4, 1), directive=other),
        row("Việc sau", "STC", "30/06/2023", "Đã hoàn thành", date(2023, 6, 1)),
        row("Việc cùng văn bản bị bỏ", "SXD", "30/06/2023", directive=other),
    ]  # fmt: skip
    before = nv.event_count()
    report = nv.import_json(workbook(tmp_path / "b.xlsx", STANDARD, rows), "--skip-invalid")
    assert [r["status"] for r in report["rows"]] == ["created", "invalid", "created", "created"]
    assert report["rows"][3]["actions"] == ["ghi văn bản 77/TB-UBND", "giao nhiệm vụ"]
    # Directive 129, two tasks and a completion; directive 77 and its one task.
    assert nv.event_count() == before + 6
    assert sorted(d["number"] for d in nv.json("directive", "list")) == [
        "129/TB-UBND",
        "77/TB-UBND",
    ]
    assert nv.ok("projections", "verify").exit_code == 0
    tasks = nv.tasks()
    assert len(tasks) == 3
    assert sorted(t["status"] for t in tasks.values()).count("done_on_time") == 1


def test_the_log_s_head_is_written_once_an_import_not_once_a_command(nv, tmp_path, monkeypatch):
    """Every command of an import wrote the head row, all in one transaction: on
    PostgreSQL each write and read of that row walks every version the transaction
    made of it, so each command cost more than the one before (2,000 rows: 17 s,
    4,000: 49 s, a city year's 20,000: stopped after 8 minutes). The head is kept in
    memory and written at the end."""
    from events.sql import Raw

    touching = []
    execute = Raw.execute

    def noted(self, text, params=None):
        if "event_log_head" in text:
            touching.append(text)
        return execute(self, text, params)

    monkeypatch.setattr(Raw, "execute", noted)
    counts = []
    for size, directive in ((3, TB129), (15, ("130/TB-UBND", date(2023, 4, 6), "Khác"))):
        touching.clear()
        rows = [row(f"Việc {i}", "SXD", "30/06/2023", "Đã hoàn thành", date(2023, 6, 1),
                    directive=directive) for i in range(size)]  # fmt: skip
        report = nv.import_json(workbook(tmp_path / f"b{size}.xlsx", STANDARD, rows))
        assert report["created"] == size
        assert sum(text.startswith("UPDATE") for text in touching) == 1, touching
        counts.append(len(touching))
    assert counts[0] == counts[1], touching  # as many for 15 rows as for 3


@pytest.mark.parametrize("last_row_fails", [False, True])
def test_the_head_written_at_the_end_is_the_last_row_kept(nv, tmp_path, last_row_fails):
    """A row refused after its first command takes its events back, and the head with
    them: the chain verifies, and the next command chains on the import's last event."""
    rows = [
        row("Việc một", "SXD", "30/06/2023", "Đã hoàn thành", date(2023, 6, 1)),
        row("Việc hỏng", "STC", "30/06/2023", "Đã hoàn thành", date(2023, 4, 1)),
        row("Việc hai", "STC", "30/06/2023"),
    ]
    if last_row_fails:
        rows.append(row("Việc hỏng sau cùng", "SXD", "30/06/2023", "Đã hoàn thành",
                        date(2023, 4, 2)))  # fmt: skip
    before = nv.event_count()
    report = nv.import_json(workbook(tmp_path / "b.xlsx", STANDARD, rows), "--skip-invalid")
    assert report["created"] == 2
    assert nv.event_count() == before + 4  # the directive, two tasks, one completion
    verified = nv.ok("events", "verify")
    assert f"{before + 4} sự kiện" in verified.stdout, verified.stdout
    nv.ok("agency", "add", "SYT", "--name", "Sở Y tế", "--kind", "so")
    assert nv.event_count() == before + 5
    assert nv.ok("events", "verify").exit_code == 0
    assert nv.ok("projections", "verify").exit_code == 0


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")
def test_an_import_whose_report_cannot_be_printed_says_what_it_wrote(nv, tmp_path):
    """The import commits in a transaction of its own: a report that then could not be
    printed (standard output full) said "Lỗi: Không ghi được ra đầu ra" and exited 1, as
    if nothing had been written, where every other command says how many events it
    recorded and exits 0 — the events of the rows kept, not those of a row undone."""
    import subprocess
    import sys

    from nhiemvu_cli import REPO

    rows = [
        row("Việc một", "SXD", "30/06/2023", "Đã hoàn thành", date(2023, 6, 1)),
        row("Việc hỏng", "STC", "30/06/2023", "Đã hoàn thành", date(2023, 4, 1)),
        row("Việc hai", "STC", "30/06/2023"),
    ]
    path = workbook(tmp_path / "b.xlsx", STANDARD, rows)
    before = nv.event_count()
    command = ["import", "xlsx", str(path), "--skip-invalid"]
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-c", "import cli; cli.main()", "--db", nv.db_url, *command],
            cwd=REPO, stdout=full, stderr=subprocess.PIPE, text=True, check=False,
        )  # fmt: skip
    assert nv.event_count() == before + 4  # the directive, two tasks, one completion
    assert done.returncode == 0, done.stderr
    assert "đã ghi 4 sự kiện vào sổ" in done.stderr, done.stderr
