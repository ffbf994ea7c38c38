"""The template workbook and the sample workbook shipped in application/data/."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from workflow.dates import format_date

from ..files import KEEP_FILLED_IN, written_whole
from .columns import COLUMN_BY_KEY, EXAMPLE_MARK

DATA_DIR = Path(__file__).parent.parent / "data"
TEMPLATE_FILE = DATA_DIR / "mau_so_theo_doi_nhiem_vu.xlsx"
SAMPLE_FILE = DATA_DIR / "vi_du_so_theo_doi_nhiem_vu.xlsx"

TEMPLATE_KEYS = (
    "stt",
    "number",
    "issued_on",
    "kind",
    "issuer",
    "summary",
    "clause",
    "title",
    "leads",
    "coordinators",
    "leader",
    "assigned_on",
    "deadline",
    "status",
    "completed_on",
    "completion_doc",
    "notes",
)
_FIXED_TIME = datetime(2024, 1, 1)
# The template's example row: Thông báo 129/TB-UBND §2.3 (seed 000), a task given
# at the meeting of 27/3/2023, before the notice was signed; the status and
# completion date are invented.
EXAMPLE_ROW = {
    "stt": EXAMPLE_MARK,
    "number": "129/TB-UBND",
    "issued_on": date(2023, 4, 5),
    "kind": "Thông báo kết luận",
    "issuer": "UBND thành phố",
    "summary": "Kết luận của Chủ tịch Ủy ban nhân dân thành phố tại Phiên họp thường kỳ tháng "
    "3/2023 (trực tuyến)",
    "clause": "2.3",
    "title": "Rà soát số liệu kết quả thu ngân sách nhà nước các quận, huyện (so sánh với cùng "
    "kỳ năm 2022 và với dự toán năm 2023), cập nhật đến hết ngày 31/3/2023, báo cáo Ủy ban "
    "nhân dân thành phố",
    "leads": "Sở Tài chính",
    "assigned_on": date(2023, 3, 27),
    "deadline": date(2023, 3, 31),
    "status": "Đã hoàn thành",
    "completed_on": date(2023, 3, 31),
    "notes": "Giao tại phiên họp ngày 27/3/2023",
}


def _style_header(ws, row: int, count: int) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    for col in range(1, count + 1):
        cell = ws.cell(row=row, column=col)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        cell.fill = PatternFill("solid", start_color="DDEBF7")


_WIDTHS = {
    "stt": 7,
    "number": 16,
    "issued_on": 13,
    "kind": 16,
    "summary": 40,
    "clause": 8,
    "title": 55,
    "leads": 24,
    "coordinators": 24,
    "leader": 18,
    "deadline": 15,
    "status": 18,
    "completed_on": 14,
    "completion_doc": 16,
    "notes": 24,
    "issuer": 20,
    "assigned_on": 13,
}


def _new_workbook():
    from openpyxl import Workbook

    workbook = Workbook()
    # Fixed document properties: regenerating a shipped file changes it only
    # when its content changes.
    workbook.properties.creator = "nhiemvu"
    workbook.properties.created = _FIXED_TIME
    workbook.properties.modified = _FIXED_TIME
    return workbook


def write_template(path: str | Path) -> Path:
    """Headings, one example row (skipped on import) and a sheet explaining each column."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    workbook = _new_workbook()
    ws = workbook.active
    ws.title = "Nhiệm vụ"
    columns = [COLUMN_BY_KEY[k] for k in TEMPLATE_KEYS]
    for col, column in enumerate(columns, start=1):
        ws.cell(row=1, column=col, value=column.header)
        ws.column_dimensions[get_column_letter(col)].width = _WIDTHS[column.key]
        if column.is_date or column.key in ("number", "clause"):
            # Dates shown as people write them; numbers and clauses kept as text
            # so that Excel does not turn "2.10" into 2.1.
            fmt = "DD/MM/YYYY" if column.is_date else "@"
            for row in range(2, 502):
                ws.cell(row=row, column=col).number_format = fmt
    _style_header(ws, 1, len(columns))
    for col, column in enumerate(columns, start=1):
        cell = ws.cell(row=2, column=col, value=EXAMPLE_ROW.get(column.key))
        cell.font = Font(italic=True, color="808080")
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"

    notes = workbook.create_sheet("Hướng dẫn")
    notes["A1"] = "HƯỚNG DẪN ĐIỀN SỔ THEO DÕI NHIỆM VỤ ĐỂ NHẬP VÀO nhiemvu"
    notes["A1"].font = Font(bold=True, size=12)
    general = [
        "Mỗi dòng của trang 'Nhiệm vụ' là một nhiệm vụ. Dòng ví dụ (STT 'Ví dụ') được bỏ qua "
        "khi nhập; có thể xóa.",
        "Nhập: nhiemvu import xlsx TỆP.xlsx --dry-run (xem trước), rồi nhiemvu import xlsx "
        "TỆP.xlsx. Có dòng lỗi thì không ghi gì, trừ khi dùng --skip-invalid.",
        "Nhập lại cùng tệp không tạo trùng: nhiệm vụ đã nhập được báo 'đã có'.",
        "Dòng ví dụ: Thông báo 129/TB-UBND mục 2.3 (nhiệm vụ giao tại phiên họp ngày "
        "27/3/2023, hạn trong ngày 31/3/2023); tình trạng và ngày hoàn thành là giả định.",
        "Tên cột không phân biệt hoa thường, có dấu hay không dấu; các tên khác thường gặp "
        "cũng được chấp nhận (xem cột E). Ngày ghi dạng dd/mm/yyyy.",
    ]
    for offset, line in enumerate(general, start=2):
        notes.cell(row=offset, column=1, value=line)
    table_row = len(general) + 3
    heads = ["Cột", "Bắt buộc", "Nội dung, cách ghi", "Ví dụ", "Tên cột khác được chấp nhận"]
    for col, heading in enumerate(heads, start=1):
        notes.cell(row=table_row, column=col, value=heading)
    _style_header(notes, table_row, len(heads))
    for offset, column in enumerate(columns, start=1):
        example = column.example
        if isinstance(example, date):
            example = format_date(example)
        values = [
            column.header,
            "Có" if column.required else "",
            column.help,
            example,
            ", ".join(column.aliases),
        ]
        for col, value in enumerate(values, start=1):
            cell = notes.cell(row=table_row + offset, column=col, value=value)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for col, width in zip("ABCDE", (20, 10, 70, 28, 45), strict=True):
        notes.column_dimensions[col].width = width
    path = Path(path)
    with written_whole(path, keep=KEEP_FILLED_IN) as handle:
        workbook.save(handle)
    return path


# The sample: tasks of Báo cáo 71/BC-UBND (Q1 2022 socio-economic report, seed
# 003, section III.2 "Một số nhiệm vụ cụ thể đối với từng Sở, ngành, địa phương").
# Task texts are the report's own; the number comes from the seed's file name;
# the date, statuses, completion dates and report numbers are INVENTED for the
# example. Agencies are those of the demo ledger (`nhiemvu demo`), where "Sở Du
# lịch" is not registered. The last three rows are wrong on purpose.
SAMPLE_DIRECTIVE = {
    "number": "71/BC-UBND",
    "issued_on": date(2022, 3, 28),
    "summary": "Tình hình kinh tế – xã hội tháng 3 và quý I, nhiệm vụ và giải pháp trọng tâm "
    "quý II năm 2022",
}
SAMPLE_HEADERS = (
    "STT",
    "Số VB",
    "Ngày ban hành",
    "Trích yếu",
    "Mục",
    "Nội dung nhiệm vụ",
    "Cơ quan chủ trì",
    "Đơn vị phối hợp",
    "Hạn hoàn thành",
    "Tình trạng",
    "Ngày hoàn thành",
    "Văn bản báo cáo",
    "Ghi chú",
)
SAMPLE_ROWS: tuple[tuple[Any, ...], ...] = (
    # (mục, nội dung, chủ trì, phối hợp, hạn, tình trạng, ngày hoàn thành, văn bản báo cáo, ghi chú)
    (
        "2.1",
        "Tham mưu ban hành Kế hoạch triển khai thực hiện Nghị quyết số 05-NQ/TU ngày "
        "15/02/2022 của Thành ủy về việc di chuyển Trung tâm Chính trị – Hành chính thành phố "
        "sang phía Bắc Sông Cấm",
        "Sở Kế hoạch và Đầu tư",
        "",
        "Quý II/2022",
        "Đã hoàn thành",
        date(2022, 6, 24),
        "1520/SKHĐT-TH",
        "",
    ),
    (
        "2.1",
        "Hoàn thành phân tích, đánh giá chỉ số năng lực cạnh tranh cấp Sở, ban, ngành và "
        "địa phương (DDCI) năm 2021",
        "SKHĐT",
        "",
        date(2022, 6, 30),
        "Đang thực hiện",
        None,
        "",
        "",
    ),
    (
        "2.2",
        "Chủ động làm việc, cung cấp tài liệu để Bộ Tài chính sớm có ý kiến chấp thuận Đề "
        "án phát hành trái phiếu chính quyền địa phương năm 2022; tham mưu việc tổ chức phát "
        "hành trái phiếu chính quyền địa phương năm 2022",
        "Sở Tài chính",
        "Sở Kế hoạch và Đầu tư",
        "quý 2 năm 2022",
        "Đã hoàn thành ngày 15/06/2022",
        None,
        "",
        "",
    ),
    (
        "2.3",
        "Đẩy mạnh hoạt động của các Tổ công tác chống thất thu ngân sách nhà nước thành "
        "phố; tăng cường chỉ đạo công tác quản lý thu, chống thất thu và xử lý nợ đọng thuế",
        "Cục Thuế thành phố",
        "",
        "Thường xuyên",
        "Đang thực hiện",
        None,
        "",
        "",
    ),
    (
        "2.6",
        "Tham mưu phối hợp với Bộ Xây dựng sớm trình Thủ tướng Chính phủ phê duyệt Đồ án "
        "điều chỉnh Quy hoạch chung xây dựng thành phố Hải Phòng đến năm 2040, tầm nhìn đến năm "
        "2050",
        "Sở XD",
        "",
        "30/06/2022",
        "",
        None,
        "",
        "Bộ Xây dựng chủ trì thẩm định",
    ),
    (
        "2.9",
        "Tổ chức Hội nghị xúc tiến đầu tư trực tuyến với các nhà đầu tư Hàn Quốc",
        "Ban Quản lý Khu kinh tế Hải Phòng",
        "",
        "Quý II/2022",
        "Đã hoàn thành",
        date(2022, 5, 20),
        "",
        "",
    ),
    (
        "2.11",
        "Hoàn thành Đề án tổng thể về thu gom vận chuyển và xử lý rác thải rắn giai đoạn "
        "2022-2025, định hướng đến năm 2050",
        "Sở Tài nguyên và Môi trường",
        "",
        "Quý II/2022",
        "Đang thực hiện",
        None,
        "",
        "",
    ),
    (
        "2.12",
        "Thực hiện tốt công tác giám sát, phát hiện, bao vây, khống chế và xử lý triệt để "
        "dịch bệnh, công tác khám, chữa bệnh tại các tuyến điều trị",
        "Sở Y tế",
        "",
        "Thường xuyên",
        "",
        None,
        "",
        "",
    ),
    # Wrong on purpose: Sở Du lịch is not registered in the demo ledger.
    (
        "2.8",
        "Xây dựng Đề án tổng thể phát triển du lịch thành phố Hải Phòng đến năm 2030, tầm "
        "nhìn đến năm 2045",
        "Sở Du lịch",
        "",
        "Quý II/2022",
        "Đang thực hiện",
        None,
        "",
        "Cơ quan chưa đăng ký",
    ),
    # Wrong on purpose: June has 30 days.
    (
        "2.7",
        "Hướng dẫn các tổ chức, cá nhân lập hồ sơ đánh giá, phân hạng sản phẩm OCOP; theo "
        "dõi, đôn đốc các địa phương thực hiện đánh giá, phân hạng sản phẩm OCOP cấp huyện",
        "Sở Nông nghiệp và Phát triển nông thôn",
        "",
        "31/06/2022",
        "Đang thực hiện",
        None,
        "",
        "Ngày không có thật",
    ),
    # Wrong on purpose: completed before the report that assigned it.
    (
        "2.9",
        "Đẩy mạnh thực hiện các dự án xây dựng ký túc xá, nhà ở cho công nhân",
        "Ban Quản lý Khu kinh tế Hải Phòng",
        "",
        "Quý II/2022",
        "Đã hoàn thành",
        date(2022, 3, 15),
        "",
        "Hoàn thành trước ngày giao",
    ),
)
SAMPLE_FIRST_ROW = 5  # Excel row of the first task: title, subtitle, blank line, headings


def write_sample(path: str | Path) -> Path:
    """The sample tracking book: a title above the headings, variant headings, the
    directive's cells merged down its rows — as the secretariat's own books look."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    workbook = _new_workbook()
    ws = workbook.active
    ws.title = "Theo dõi 2022"
    ws["A1"] = "SỔ THEO DÕI NHIỆM VỤ UBND THÀNH PHỐ GIAO — QUÝ II NĂM 2022 (VÍ DỤ)"
    ws["A1"].font = Font(bold=True, size=12)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(SAMPLE_HEADERS))
    ws["A2"] = (
        "Nội dung nhiệm vụ trích từ Báo cáo 71/BC-UBND (tình hình KT-XH quý I/2022); ngày văn "
        "bản, tình trạng, ngày hoàn thành và số văn bản báo cáo là giả định để minh họa."
    )
    ws["A2"].font = Font(italic=True)
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(SAMPLE_HEADERS))
    header_row = SAMPLE_FIRST_ROW - 1
    for col, heading in enumerate(SAMPLE_HEADERS, start=1):
        ws.cell(row=header_row, column=col, value=heading)
    _style_header(ws, header_row, len(SAMPLE_HEADERS))
    first, last = SAMPLE_FIRST_ROW, SAMPLE_FIRST_ROW + len(SAMPLE_ROWS) - 1
    for offset, values in enumerate(SAMPLE_ROWS):
        row = first + offset
        clause, title, leads, coordinators, deadline, status, completed, doc, note = values
        cells = [
            offset + 1,
            None,
            None,
            None,
            clause,
            title,
            leads,
            coordinators or None,
            deadline,
            status or None,
            completed,
            doc or None,
            note or None,
        ]
        for col, value in enumerate(cells, start=1):
            cell = ws.cell(row=row, column=col, value=value)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if isinstance(value, date):
                cell.number_format = "DD/MM/YYYY"
    # The directive once, merged down all its task rows.
    for col, value in (
        (2, SAMPLE_DIRECTIVE["number"]),
        (3, SAMPLE_DIRECTIVE["issued_on"]),
        (4, SAMPLE_DIRECTIVE["summary"]),
    ):
        cell = ws.cell(row=first, column=col, value=value)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if isinstance(value, date):
            cell.number_format = "DD/MM/YYYY"
        ws.merge_cells(start_row=first, start_column=col, end_row=last, end_column=col)
    widths = (6, 14, 13, 30, 7, 55, 24, 22, 15, 22, 14, 16, 24)
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = ws.cell(row=first, column=1)
    path = Path(path)
    with written_whole(path, keep=KEEP_FILLED_IN) as handle:
        workbook.save(handle)
    return path
