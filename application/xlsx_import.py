"""Importing the secretariat's tracking workbook (sổ theo dõi nhiệm vụ) into the ledger.

One row of the workbook is one task: the directive it comes from (số, ngày,
trích yếu), its content, lead and coordinating agencies, deadline and status.
Every row goes through the same Ledger commands as the CLI, so the same
validation applies and the projections follow. All rows run inside one
transaction, each in its own savepoint: a refused row leaves no trace, and the
whole import is committed only when every row passed (or `skip_invalid`) and it
is not a dry run. So the dry run and the real import run exactly the same
checks.

Re-importing is idempotent: a task's id is derived from what identifies it in
the workbook (directive number, clause, content, leads), so the second import
finds the task already there and reports the row as "đã có".

Also here: the template workbook (`nhiemvu import template`) and the sample
workbook shipped in application/data/ (`python -m application.xlsx_import`
regenerates both).
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from events.database import WRITE
from events.errors import EventStoreError
from events.schema import events as events_table
from events.schema import log_head
from events.serialization import canonical_json
from events.sql import Raw
from events.store import EventStore, StoreTransaction
from workflow.agencies import Agency
from workflow.dates import DateInputError, check_year, format_date, parse_date, parse_period
from workflow.errors import DomainError, NotFound
from workflow.reports import period_label
from workflow.text import clipped, fold, nfc

from . import loading, numbering, streams
from . import tables as t
from .files import written_whole
from .ledger import DeadlineInput, Ledger

DATA_DIR = Path(__file__).with_name("data")
TEMPLATE_FILE = DATA_DIR / "mau_so_theo_doi_nhiem_vu.xlsx"
SAMPLE_FILE = DATA_DIR / "vi_du_so_theo_doi_nhiem_vu.xlsx"

TASK_ID_PREFIX = "XL-"

CREATED = "created"
EXISTS = "exists"
INVALID = "invalid"
WOULD_CREATE = "would_create"
STATUS_LABELS = {
    CREATED: "Đã tạo",
    EXISTS: "Đã có",
    INVALID: "Lỗi",
    WOULD_CREATE: "Sẽ tạo",
}


# -- columns ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # the heading the template uses
    aliases: tuple[str, ...]  # other headings seen in practice; matched after `fold`
    help: str
    example: Any = None
    required: bool = False
    is_date: bool = False


EXAMPLE_MARK = "Ví dụ"

COLUMNS: tuple[Column, ...] = (
    Column(
        "stt",
        "STT",
        ("TT", "Số TT", "Số thứ tự"),
        "Số thứ tự, không bắt buộc. Dòng có STT là 'Ví dụ' hoặc 'VD' được bỏ qua.",
        EXAMPLE_MARK,
    ),
    Column(
        "number",
        "Số văn bản",
        (
            "Số VB",
            "Số hiệu văn bản",
            "Số hiệu VB",
            "Số hiệu",
            "Số, ký hiệu văn bản",
            "Số ký hiệu",
            "Số/ký hiệu",
            "Số ký hiệu VB",
            "Văn bản số",
            "Số văn bản chỉ đạo",
            "Số hiệu văn bản chỉ đạo",
            "Văn bản chỉ đạo",
            "Số, ngày văn bản",
            "Số, ký hiệu, ngày tháng văn bản",
            "Số, ngày ban hành",
        ),
        "Số hiệu văn bản chỉ đạo giao nhiệm vụ, ví dụ 129/TB-UBND. Có thể ghi kèm ngày: "
        "'129/TB-UBND ngày 05/4/2023'.",
        "129/TB-UBND",
        required=True,
    ),
    Column(
        "issued_on",
        "Ngày văn bản",
        (
            "Ngày VB",
            "Ngày ban hành",
            "Ngày ký",
            "Ngày tháng văn bản",
            "Ngày ban hành văn bản",
            "Ngày văn bản chỉ đạo",
        ),
        "Ngày ban hành văn bản (dd/mm/yyyy). Bắt buộc khi văn bản chưa có trong sổ.",
        date(2023, 4, 5),
        is_date=True,
    ),
    Column(
        "kind",
        "Loại văn bản",
        ("Loại VB", "Hình thức văn bản"),
        "Thông báo kết luận, Chỉ thị, Kế hoạch, Công văn… Để trống: suy ra từ số hiệu "
        "(TB → Thông báo, CT → Chỉ thị, KH → Kế hoạch…).",
        "Thông báo kết luận",
    ),
    Column(
        "issuer",
        "Cơ quan ban hành",
        ("Nơi ban hành", "Cấp ban hành", "Người ký"),
        "Không bắt buộc: UBND thành phố, Chủ tịch UBND thành phố…",
        "UBND thành phố",
    ),
    Column(
        "summary",
        "Trích yếu",
        ("Trích yếu văn bản", "Trích yếu nội dung", "Trích yếu nội dung văn bản", "Tên văn bản"),
        "Trích yếu nội dung văn bản. Bắt buộc khi văn bản chưa có trong sổ; các dòng cùng "
        "văn bản có thể để trống hoặc gộp ô.",
        "Kết luận của Chủ tịch Ủy ban nhân dân thành phố tại Phiên họp thường kỳ tháng 3/2023 "
        "(trực tuyến)",
    ),
    Column(
        "clause",
        "Mục",
        ("Khoản", "Điều khoản", "Mục, khoản", "Mục khoản", "Trích mục"),
        "Mục, khoản, điểm trong văn bản giao nhiệm vụ, ví dụ 2.3 (nên định dạng ô là văn bản "
        "để Excel không đổi 2.10 thành 2.1).",
        "2.3",
    ),
    Column(
        "title",
        "Nội dung nhiệm vụ",
        (
            "Nhiệm vụ",
            "Nội dung",
            "Nội dung giao",
            "Nội dung công việc",
            "Nội dung chỉ đạo",
            "Nhiệm vụ được giao",
            "Nội dung nhiệm vụ được giao",
            "Tên nhiệm vụ",
            "Công việc",
        ),
        "Nội dung nhiệm vụ được giao.",
        "Rà soát, đề xuất xử lý dứt điểm các vướng mắc về giải phóng mặt bằng các dự án "
        "trọng điểm; báo cáo UBND thành phố",
        required=True,
    ),
    Column(
        "leads",
        "Đơn vị chủ trì",
        (
            "Cơ quan chủ trì",
            "Đơn vị thực hiện",
            "Cơ quan thực hiện",
            "Chủ trì",
            "Đơn vị được giao",
            "Cơ quan được giao",
            "Đơn vị chủ trì thực hiện",
            "Cơ quan chủ trì thực hiện",
            "Đơn vị tham mưu",
            "Cơ quan tham mưu",
            "Cơ quan, đơn vị chủ trì",
            "Đơn vị, cơ quan chủ trì",
        ),
        "Một hoặc nhiều cơ quan chủ trì, ghi mã (SXD) hoặc tên đầy đủ (Sở Xây dựng), cách "
        "nhau bằng dấu phẩy, chấm phẩy hoặc xuống dòng. Viết 'Các Sở: Xây dựng, Tài chính' "
        "cũng được. Cơ quan phải đã đăng ký (`nhiemvu agency add`).",
        "Sở Xây dựng, STC",
        required=True,
    ),
    Column(
        "coordinators",
        "Đơn vị phối hợp",
        (
            "Cơ quan phối hợp",
            "Phối hợp",
            "Đơn vị phối hợp thực hiện",
            "Cơ quan phối hợp thực hiện",
            "Cơ quan, đơn vị phối hợp",
            "Đơn vị, cơ quan phối hợp",
        ),
        "Các cơ quan phối hợp, ghi như cột Đơn vị chủ trì; có thể để trống.",
        "Sở Tài nguyên và Môi trường",
    ),
    Column(
        "leader",
        "Lãnh đạo chỉ đạo",
        (
            "Lãnh đạo phụ trách",
            "Lãnh đạo UBND phụ trách",
            "Lãnh đạo UBND TP phụ trách",
            "Lãnh đạo theo dõi",
            "Lãnh đạo phụ trách chỉ đạo",
            "Đồng chí lãnh đạo phụ trách",
        ),
        "Lãnh đạo UBND thành phố được phân công chỉ đạo; có thể để trống.",
        "Lê Khắc Nam",
    ),
    Column(
        "assigned_on",
        "Ngày giao",
        ("Ngày giao nhiệm vụ",),
        "Không bắt buộc; mặc định là ngày văn bản. Ghi ngày họp khi nhiệm vụ được giao tại "
        "cuộc họp trước khi văn bản được ban hành.",
        None,
        is_date=True,
    ),
    Column(
        "deadline",
        "Thời hạn",
        (
            "Hạn hoàn thành",
            "Thời hạn hoàn thành",
            "Hạn",
            "Hạn xử lý",
            "Thời hạn thực hiện",
            "Hạn thực hiện",
            "Thời hạn xử lý",
            "Thời gian hoàn thành",
            "Thời hạn giải quyết",
        ),
        "Một ngày (31/03/2023 hay 'ngày 31 tháng 3 năm 2023', ô ngày hoặc văn bản; 'trước "
        "ngày 15/02/2023' nghĩa là hạn 14/02/2023), một kỳ ('Quý II/2023', 'quý 2 năm 2023', "
        "'tháng 10/2023', 'năm 2023'; 'trước quý III/2023' nghĩa là hạn 30/06/2023), "
        "'10 ngày làm việc' (tính từ ngày giao) hoặc 'Thường xuyên' (không có thời hạn). "
        "Ô trống được ghi là không có thời hạn, kèm lưu ý.",
        date(2023, 6, 30),
        required=True,
        is_date=True,
    ),
    Column(
        "status",
        "Tình trạng",
        (
            "Trạng thái",
            "Kết quả",
            "Kết quả thực hiện",
            "Tình hình thực hiện",
            "Tình trạng thực hiện",
            "Tiến độ",
            "Tiến độ thực hiện",
        ),
        "'Đã hoàn thành' (kèm ngày ở cột Ngày hoàn thành, hoặc 'Đã hoàn thành ngày "
        "28/06/2023') hoặc 'Đang thực hiện'. Để trống: đang thực hiện (hoàn thành nếu có "
        "ngày hoàn thành).",
        "Đã hoàn thành",
    ),
    Column(
        "completed_on",
        "Ngày hoàn thành",
        ("Ngày hoàn thành thực tế", "Thời điểm hoàn thành", "Ngày báo cáo hoàn thành"),
        "Ngày hoàn thành ghi trên báo cáo của cơ quan (dd/mm/yyyy).",
        date(2023, 6, 28),
        is_date=True,
    ),
    Column(
        "completion_doc",
        "Số văn bản báo cáo",
        (
            "Văn bản báo cáo",
            "Văn bản báo cáo hoàn thành",
            "Số báo cáo",
            "Số văn bản báo cáo hoàn thành",
        ),
        "Số văn bản báo cáo hoàn thành, không bắt buộc.",
        "1520/BC-SXD",
    ),
    Column("notes", "Ghi chú", (), "Không được ghi vào sổ sự kiện; chỉ để Văn phòng theo dõi.", ""),
)
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
REQUIRED_KEYS = tuple(c.key for c in COLUMNS if c.required)
# Two columns meaning the same thing would make a row ambiguous — except these,
# which are only read as text.
DUPLICABLE_KEYS = {"status", "notes", "stt"}
HEADER_SCAN_ROWS = 30


def fold_header(text: Any) -> str:
    # Hints in parentheses ("Thời hạn (dd/mm/yyyy)") are not part of the name.
    return fold(re.sub(r"\([^)]*\)", " ", str(text)))


HEADER_INDEX: dict[str, str] = {}
for _column in COLUMNS:
    for _name in (_column.header, *_column.aliases):
        HEADER_INDEX[fold_header(_name)] = _column.key


# -- reading the sheet -------------------------------------------------------------------


@dataclass
class SheetData:
    name: str
    header_row: int
    columns: dict[str, int]  # key → 0-based column index
    headers: dict[str, str]  # key → the heading as written in the file
    ignored: list[str]
    rows: list[tuple[int, dict[str, Any]]]  # (Excel row number, key → cell value)
    # The other sheets that hold a table of tasks: not read, each needs its --sheet.
    other_tables: list[str] = field(default_factory=list)
    stray_cells: list[str] = field(default_factory=list)


def _load_workbook(path: str | Path):
    from zipfile import BadZipFile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        # Not read-only: merged cells are needed, and tracking books are small.
        return load_workbook(path, data_only=True)
    except FileNotFoundError:
        raise DomainError(f"Không tìm thấy tệp '{path}'.") from None
    except (InvalidFileException, BadZipFile, KeyError, OSError, ValueError, SyntaxError) as exc:
        # SyntaxError: the XML parsers' errors (ElementTree's ParseError, lxml's
        # XMLSyntaxError) for a part of the zip that is cut or damaged.
        raise DomainError(
            f"Không đọc được tệp '{path}' như một sổ Excel .xlsx ({exc.__class__.__name__}). "
            "Hãy lưu lại tệp dưới dạng Excel Workbook (.xlsx)."
        ) from None


# A table has no run of this many empty rows: a value further down is a stray one
# (typed by mistake at the foot of the sheet), not a row to read.
STRAY_GAP = 1_000


def _used_extent(ws) -> tuple[int, int]:
    """The last row and column that hold a value, up to the first run of STRAY_GAP
    empty rows. Not ws.max_row and max_column: a cell formatted and left empty counts
    there; and a value on the sheet's last row (1,048,576) made a grid of a million
    rows, minutes and gigabytes for 7 tasks."""
    last_row = last_column = 0
    for row, column in _valued(ws):
        if last_row and row > last_row + STRAY_GAP:
            break
        last_row, last_column = max(last_row, row), max(last_column, column)
    return last_row, last_column


def _stray_cells(ws) -> list[str]:
    """The cells holding a value below the table's end (_used_extent), by name."""
    from openpyxl.utils import get_column_letter

    last_row, _ = _used_extent(ws)
    return [f"{get_column_letter(c)}{r}" for r, c in _valued(ws) if r > last_row]


def _valued(ws) -> list[tuple[int, int]]:
    # The cells the file has (openpyxl keeps no others until asked for them), in order.
    return sorted(key for key, cell in ws._cells.items() if not _blank(cell.value))


def _grid(ws) -> list[list[Any]]:
    last_row, last_column = _used_extent(ws)
    if not last_row:
        return []
    cells = ws.iter_rows(max_row=last_row, max_col=last_column, values_only=True)
    grid = [list(row) for row in cells]
    width = max((len(r) for r in grid), default=0)
    for row in grid:
        row.extend([None] * (width - len(row)))
    # A directive spanning several task rows is usually one merged cell per
    # column; every row of it belongs to that directive. Merges across columns
    # are headings and keep their single value.
    for merged in ws.merged_cells.ranges:
        if merged.min_col != merged.max_col or merged.max_row <= merged.min_row:
            continue
        col = merged.min_col - 1
        if merged.min_row - 1 >= len(grid):
            continue
        value = grid[merged.min_row - 1][col]
        for r in range(merged.min_row, min(merged.max_row, len(grid))):
            grid[r][col] = value
    return grid


def _match_headers(cells: list[Any]) -> list[tuple[int, str, str]]:
    """(column index, key, heading) for every heading of the row that names a column."""
    found = []
    for index, cell in enumerate(cells):
        if cell is None or not str(cell).strip():
            continue
        key = HEADER_INDEX.get(fold_header(cell))
        if key is not None:
            found.append((index, key, " ".join(str(cell).split())))
    return found


def _find_header(grid: list[list[Any]]) -> tuple[int, list, int] | None:
    """The heading row, its headings and the first row of data.

    The headings are a row's that name every required column, with those of a second
    heading row below it (see _more_headings): the usual form has two — "Kết quả thực
    hiện" over "Tình trạng | Ngày hoàn thành", "Đơn vị thực hiện" over "Chủ trì | Phối
    hợp", the other headings merged down over both — and often a row numbering the
    columns, (1) (2) (3)…: neither is a task."""
    for r, cells in enumerate(grid[:HEADER_SCAN_ROWS]):
        found = _match_headers(cells)
        if not found:
            continue
        more = _more_headings(grid, r, found)
        if set(REQUIRED_KEYS) <= {key for _, key, _ in [*found, *more]}:
            first = r + 1 + bool(more)
            if first < len(grid) and _numbers_the_columns(grid[first]):
                first += 1
            return r, sorted([*found, *more]), first
    return None


def _more_headings(grid: list[list[Any]], header_index: int, found) -> list:
    """The headings the row below the heading row adds, if it is a second heading
    row: one naming columns the first does not, with nothing in the columns the
    first names but their headings again (merged down over both rows) or nothing."""
    below = header_index + 1
    if below >= len(grid):
        return []
    named = {i for i, _, _ in found}
    more = [m for m in _match_headers(grid[below]) if m[0] not in named]
    above = grid[header_index]
    data_like = any(
        not _blank(cell := grid[below][i])
        and cell != above[i]
        and HEADER_INDEX.get(fold_header(cell)) is None
        for i in named
    )
    return [] if data_like else more


_COLUMN_NUMBER = re.compile(r"^\(?(\d{1,2})\)?$")


def _numbers_the_columns(cells: list[Any]) -> bool:
    numbers = []
    for cell in cells:
        if _blank(cell):
            continue
        match = _COLUMN_NUMBER.match(str(cell).strip())
        if match is None:
            return False
        numbers.append(int(match.group(1)))
    return len(numbers) >= 3 and numbers == list(range(numbers[0], numbers[0] + len(numbers)))


def read_sheet(path: str | Path, sheet: str | None = None) -> SheetData:
    workbook = _load_workbook(path)
    if sheet is not None:
        chosen = [ws for ws in workbook.worksheets if ws.title == sheet] or [
            ws for ws in workbook.worksheets if fold(ws.title) == fold(sheet)
        ]
        if not chosen:
            names = ", ".join(f"'{ws.title}'" for ws in workbook.worksheets)
            raise DomainError(f"Tệp không có trang '{sheet}'. Các trang: {names}.")
        candidates = chosen[:1]
    else:
        # The sheets people see first, the active one ahead: a hidden sheet is most
        # often an old year kept out of the way.
        candidates = sorted(
            workbook.worksheets,
            key=lambda ws: (ws.sheet_state != "visible", ws is not workbook.active),
        )
    best: tuple[str, int, list] | None = None
    for at, ws in enumerate(candidates):
        grid = _grid(ws)
        header = _find_header(grid)
        if header is not None:
            _check_calculated(path, ws.title, grid)
            data = _sheet_data(ws.title, grid, *header)
            data.stray_cells = _stray_cells(ws)
            later = candidates[at + 1 :]
            data.other_tables = [w.title for w in later if _find_header(_grid(w)) is not None]
            return data
        for r, cells in enumerate(grid[:HEADER_SCAN_ROWS]):
            found = _match_headers(cells)
            if best is None or len(found) > len(best[2]):
                best = (ws.title, r, found)
    needed = ", ".join(f"'{COLUMN_BY_KEY[k].header}'" for k in REQUIRED_KEYS)
    message = f"Không tìm thấy dòng tiêu đề có đủ các cột bắt buộc ({needed})"
    if best is not None and best[2]:
        missing = sorted(
            set(REQUIRED_KEYS) - {key for _, key, _ in best[2]}, key=REQUIRED_KEYS.index
        )
        message += (
            f". Gần nhất là dòng {best[1] + 1} của trang '{best[0]}', còn thiếu: "
            + ", ".join(f"'{COLUMN_BY_KEY[k].header}'" for k in missing)
        )
    raise DomainError(
        message + ". Hãy đặt tên cột theo mẫu (`nhiemvu import template --out mau.xlsx`)."
    )


def _check_calculated(path: str | Path, title: str, grid: list[list[Any]]) -> None:
    """A formula whose value the file does not hold reads as an empty cell: a program
    that writes workbooks without calculating them (not Excel, not LibreOffice) left a
    deadline or a completion date out, silently. Refused, with the cells."""
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    formulas = load_workbook(path, read_only=True, data_only=False)[title]
    cells = [
        f"{get_column_letter(c + 1)}{r + 1}"
        for r, row in enumerate(formulas.iter_rows(max_row=len(grid), values_only=True))
        for c, value in enumerate(row)
        if isinstance(value, str)
        and value.startswith("=")
        and c < len(grid[r])
        and grid[r][c] is None
    ]
    if cells:
        shown = ", ".join(cells[:10]) + (f" và {len(cells) - 10} ô khác" if len(cells) > 10 else "")
        raise DomainError(
            f"Trang '{title}' có ô chứa công thức mà tệp không lưu kết quả ({shown}): tệp "
            "được tạo bằng một chương trình không tính công thức. Hãy mở tệp bằng Excel hoặc "
            "LibreOffice rồi lưu lại, hoặc chép các ô đó và dán dưới dạng giá trị."
        )


def _sheet_data(name: str, grid, header_index: int, found, first_data: int) -> SheetData:
    from openpyxl.utils import get_column_letter

    columns: dict[str, int] = {}
    headers: dict[str, str] = {}
    ignored: list[str] = []
    for index, key, heading in found:
        if key in columns:
            if key in DUPLICABLE_KEYS:
                ignored.append(f"{heading} (cột {get_column_letter(index + 1)}, trùng nghĩa)")
                continue
            raise DomainError(
                f"Hai cột cùng nghĩa '{COLUMN_BY_KEY[key].header}': cột "
                f"{get_column_letter(columns[key] + 1)} ('{headers[key]}') và cột "
                f"{get_column_letter(index + 1)} ('{heading}'). Hãy xóa hoặc đổi tên một cột."
            )
        columns[key] = index
        headers[key] = heading
    matched = {index for index, _, _ in found}
    for index, cell in enumerate(grid[header_index]):
        if index not in matched and cell is not None and str(cell).strip():
            ignored.append(f"{' '.join(str(cell).split())} (cột {get_column_letter(index + 1)})")
    rows = []
    for r in range(first_data, len(grid)):
        values = {key: grid[r][index] for key, index in columns.items()}
        rows.append((r + 1, values))
    return SheetData(name, header_index + 1, columns, headers, ignored, rows)


# -- parsing cells -----------------------------------------------------------------------


def in_column(label: str, exc: Exception) -> str:
    """A cell's problem, prefixed with the column as the file names it."""
    message = str(exc)
    return f"Cột '{label}': {message[:1].lower()}{message[1:]}"


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str | None:
    if _blank(value):
        return None
    if isinstance(value, datetime):
        return format_date(value.date())
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return nfc(str(value)) or None


def _as_date(value: Any, what: str) -> date | None:
    """A date cell, an Excel serial number or text dd/mm/yyyy (optionally 'ngày …'),
    of a year the commands accept (workflow.dates.check_year), as typed dates are."""
    day = _cell_date(value, what)
    if day is not None:
        check_year(day.year, what, format_date(day))
    return day


def _cell_date(value: Any, what: str) -> date | None:
    if _blank(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        from openpyxl.utils.datetime import from_excel

        if 1 <= value < 2958466:  # Excel's own range: 1900-01-01 … 9999-12-31
            return from_excel(value).date()
        raise DateInputError(f"{what.capitalize()} '{value}' không phải một ngày.")
    text = re.sub(r"^\s*ng[aà]y\s+", "", nfc(str(value)), flags=re.IGNORECASE)
    return parse_date(text, what)


_DATE_IN_TEXT = re.compile(r"(\d{4}-\d{1,2}-\d{1,2}|\d{1,2}\s*[/.-]\s*\d{1,2}\s*[/.-]\s*\d{4})")
# A date in words, as the directives write it: "ngày 15 tháng 02 năm 2023" (with or
# without diacritics), read as the date in figures it means.
_DATE_IN_WORDS = re.compile(
    r"\b(ng[aà]y\s+)(\d{1,2})\s+th[aá]ng\s+(\d{1,2})\s*(?:,\s*)?(?:n[aă]m\s+|/\s*)(\d{4})\b",
    re.IGNORECASE,
)
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}


def parse_deadline(value: Any, what: str = "thời hạn") -> tuple[DeadlineInput, list[str]]:
    """One of DOMAIN.md's deadline forms from a cell, with warnings worth showing."""
    if _blank(value):
        return DeadlineInput("none"), [
            "Ô thời hạn để trống: ghi là nhiệm vụ không có thời hạn (thường xuyên)."
        ]
    if not isinstance(value, str):
        return DeadlineInput("date", _as_date(value, what)), []
    text = nfc(value)
    folded = fold(text)
    if re.search(r"\b(thuong xuyen|lien tuc|khong thoi han|khong co thoi han)\b", folded):
        return DeadlineInput("none"), []
    match = re.search(r"\b(\d+)\s*ngay lam viec\b", folded)
    if match:
        return DeadlineInput("working_days", int(match.group(1))), []
    in_figures = _DATE_IN_WORDS.sub(r"\1\2/\3/\4", text)
    match = _DATE_IN_TEXT.search(in_figures)
    if match:
        due = parse_date(re.sub(r"\s+", "", match.group(1)), what)
        more = _DATE_IN_TEXT.search(in_figures, match.end()) is not None
        # "Trước ngày 15/02/2023" means by the end of 14/02/2023 (DOMAIN.md).
        if _before(fold(in_figures[: match.start()])):
            due -= timedelta(days=1)
        return DeadlineInput("date", due), _first_of_several(text, more, format_date(due))
    match = re.search(r"\bquy\s*(iv|i{1,3}|[1-4])\b\D{0,12}?(\d{4})\b", folded) or re.search(
        r"\bq\s*([1-4])\s*(?:nam\s*)?(\d{4})\b", folded
    )
    if match:
        quarter = _ROMAN.get(match.group(1)) or int(match.group(1))
        more = len(re.findall(r"\bquy\s*(?:iv|i{1,3}|[1-4])\b|\bq\s*[1-4]\b", folded)) > 1
        return _period_deadline(f"{match.group(2)}Q{quarter}", folded[: match.start()], text, more)
    match = re.search(r"\bthang\s*(\d{1,2})\s*(?:nam\s*)?(\d{4})\b", folded)
    if match and 1 <= int(match.group(1)) <= 12:
        period = f"{match.group(2)}-{int(match.group(1)):02d}"
        return _period_deadline(period, folded[: match.start()], text, False)
    match = re.fullmatch(r"(truoc\s+|(?:trong\s+)?(?:ca\s+)?)nam\s*(\d{4})", folded)
    if match:
        return _period_deadline(match.group(2), match.group(1), text, False)
    raise DateInputError(
        f"Không hiểu {what} '{text}'. Hãy ghi một ngày (31/03/2023), một kỳ ('Quý II/2023', "
        "'tháng 10/2023', 'năm 2023'), 'N ngày làm việc' hoặc 'Thường xuyên'."
    )


def _before(folded_words: str) -> bool:
    """Whether the words before a date or a period say "trước" (before it)."""
    return re.search(r"\btruoc\b", folded_words) is not None


def _period_deadline(
    period: str, words_before: str, text: str, several: bool
) -> tuple[DeadlineInput, list[str]]:
    """The deadline of a period (`2023Q3`, `2023-06`, `2023`) named in `text`: the
    period itself, or — "Trước quý III/2023" — the day before it begins."""
    start, end = parse_period(period)
    if _before(words_before):
        due = start - timedelta(days=1)
        return DeadlineInput("date", due), _first_of_several(text, several, format_date(due))
    kind = "quarter" if "Q" in period else "month" if "-" in period else "year"
    said = period_label(kind, start, end)
    return DeadlineInput("period", period), _first_of_several(text, several, said)


def _first_of_several(text: str, several: bool, kept: str) -> list[str]:
    """The warning for a cell giving several deadlines, of which the first is kept."""
    if not several:
        return []
    return [
        f"Ô thời hạn '{text}' ghi nhiều thời hạn; ghi thời hạn đầu tiên ({kept}). Nếu nhiệm vụ "
        "có nhiều mốc, hãy tách mỗi mốc thành một dòng."
    ]


_DOC_NUMBER = re.compile(r"\b(\d+/(?=[\w.-]*[^\W\d_])[\w.-]*\w)")


@dataclass(frozen=True)
class Completion:
    on: date | None
    doc: str | None


def parse_status(
    status: Any, completed: Any, doc: Any, headers: dict[str, str]
) -> tuple[Completion, list[str]]:
    """Completion date and report number from the status and completion cells.

    Returns the completion (on=None: still open) and warnings; raises
    DomainError for a row that cannot be read.
    """
    status_label = headers.get("status", "Tình trạng")
    completed_label = headers.get("completed_on", "Ngày hoàn thành")
    try:
        completed_on = _as_date(completed, "ngày hoàn thành")
    except DomainError as exc:
        raise DomainError(in_column(completed_label, exc)) from None
    doc_text = _text(doc)
    if isinstance(status, (datetime, date)):
        on = _as_date(status, "ngày")
        if completed_on is not None and completed_on != on:
            raise DomainError(
                f"Cột '{status_label}' ghi ngày {format_date(on)} nhưng cột '{completed_label}' "
                f"ghi {format_date(completed_on)}."
            )
        return Completion(on, doc_text), []
    text = _text(status) or ""
    folded = fold(text)
    if not folded:
        return Completion(completed_on, doc_text), []
    if re.search(
        r"\b(da huy|huy bo|bi huy|khong thuc hien nua|dung thuc hien|khong tiep tuc)\b", folded
    ):
        raise DomainError(
            f"Tình trạng '{text}': chưa hỗ trợ nhập nhiệm vụ đã hủy từ tệp. Hãy nhập nhiệm vụ "
            "với tình trạng 'Đang thực hiện' rồi ghi hủy bằng `nhiemvu task cancel`."
        )
    # A status that opens by saying the task is open keeps it open, whatever its
    # detail says: "Đang thực hiện: Sở đã hoàn thành dự thảo…".
    starts_open = re.match(r"(chua|dang|qua han|trong han|tiep tuc)\b", folded) is not None
    done = not starts_open and bool(
        re.search(r"\b(da hoan thanh|hoan thanh (dung|qua|truoc|som) han|da xong)\b", folded)
        or folded.startswith("hoan thanh")
        or folded == "xong"
    )
    is_open = not done and bool(
        re.search(r"\b(chua|dang|khong|qua han|trong han|tiep tuc)\b", folded)
    )
    warnings = []
    if done and _partly(folded):
        # "Đã hoàn thành 70%", "hoàn thành dự thảo ngày 15/6, đang lấy ý kiến": a date
        # in it is an expected one or a stage's, not the task's completion.
        if completed_on is not None:
            raise DomainError(
                f"Cột '{status_label}' ghi '{text}', nghĩa là nhiệm vụ mới xong một phần, "
                f"nhưng có ngày hoàn thành {format_date(completed_on)}: hãy sửa một trong hai."
            )
        warnings.append(
            f"Tình trạng '{text}' cho biết nhiệm vụ mới xong một phần: ghi là đang thực hiện "
            "(ngày ghi trong đó không được lấy làm ngày hoàn thành). Khi nhiệm vụ xong hẳn, "
            "ghi 'Đã hoàn thành' và ngày hoàn thành."
        )
        return Completion(None, None), warnings
    if not done and not is_open:
        if completed_on is None:
            warnings.append(
                f"Không hiểu tình trạng '{text}': ghi là đang thực hiện. Ghi 'Đã hoàn thành' "
                "và ngày hoàn thành nếu nhiệm vụ đã xong."
            )
            is_open = True
        else:
            done = True
    if is_open:
        if completed_on is not None:
            raise DomainError(
                f"Cột '{status_label}' ghi '{text}' nhưng có ngày hoàn thành "
                f"{format_date(completed_on)}: hãy sửa một trong hai."
            )
        return Completion(None, None), warnings
    if completed_on is None:
        match = _DATE_IN_TEXT.search(text)
        if match is None:
            raise DomainError(
                f"Cột '{status_label}' ghi '{text}' nhưng không có ngày hoàn thành: ghi ngày vào "
                f"cột '{completed_label}' hoặc ghi 'Đã hoàn thành ngày 28/06/2023'."
            )
        try:
            completed_on = parse_date(re.sub(r"\s+", "", match.group(1)), "ngày hoàn thành")
        except DomainError as exc:
            raise DomainError(in_column(status_label, exc)) from None
    if doc_text is None:
        match = _DOC_NUMBER.search(text)
        doc_text = match.group(1) if match else None
    return Completion(completed_on, doc_text), warnings


def _partly(folded: str) -> bool:
    """Whether a status saying "done" says only part of it is: a share below 100%, a
    part, a draft, an expectation, a step still going on."""
    shares = [float(n.replace(",", ".")) for n in re.findall(r"(\d+(?:[.,]\d+)?)\s*%", folded)]
    if any(share < 100 for share in shares):
        return True
    return (
        re.search(r"\b(mot phan|du thao|du kien|dang|chua|con lai|giai doan)\b", folded) is not None
    )


# -- agencies ----------------------------------------------------------------------------

_NAME_SUFFIXES = (" thanh pho hai phong", " tp hai phong", " hai phong", " thanh pho", " tp")


def _variants(folded: str, abbreviate: bool = False) -> set[str]:
    """Ways the same agency is written: 'Ủy ban nhân dân' / 'UBND', with or without the
    city, codes with or without their dash, 'Sở KH&ĐT' for 'Sở KHĐT'; with `abbreviate`
    (registered names only, never what is being looked up — 'Sở Tài chánh' must not
    become 'Sở TC'), also the initials: 'Sở XD' for 'Sở Xây dựng'."""
    out = {folded, folded.replace(" ", "")}
    base = folded.replace("uy ban nhan dan", "ubnd")
    stems = {base}
    for suffix in _NAME_SUFFIXES:
        if base.endswith(suffix) and len(base) > len(suffix) + 3:
            stems.add(base[: -len(suffix)])
    for stem in list(stems):
        if stem.startswith("ubnd "):
            stems.add(stem[5:])
    for stem in stems:
        out.add(stem)
        words = stem.split()
        if len(words) > 1 and words[0] == "so":
            rest = words[1:]
            if abbreviate:
                out.add("so " + "".join(w[0] for w in rest if w != "va"))
            if all(len(w) <= 4 for w in rest):
                out.add("so " + "".join(rest))
    return {v for v in out if v}


def _owned_by_one(owners: dict[str, set[str]]) -> dict[str, str]:
    return {key: next(iter(codes)) for key, codes in owners.items() if len(codes) == 1}


class AgencyIndex:
    """Registered agencies found by code or by name, tolerant of how people write them."""

    def __init__(self, agencies: dict[str, Agency]) -> None:
        self.agencies = agencies
        current: dict[str, set[str]] = {}
        earlier: dict[str, set[str]] = {}
        for code, agency in agencies.items():
            for key in _variants(fold(code)) | _variants(fold(agency.name), abbreviate=True):
                current.setdefault(key, set()).add(code)
            # A file written before a rename may still use an earlier name.
            for name in agency.names[:-1]:
                for key in _variants(fold(name.name), abbreviate=True):
                    earlier.setdefault(key, set()).add(code)
        # A variant two agencies share ("ngo quyen" for a district and a ward)
        # identifies neither; a name in use now outranks one given up.
        self.by_key = _owned_by_one(earlier)
        self.by_key.update(_owned_by_one(current))
        for key in current.keys() - self.by_key.keys():
            self.by_key.pop(key, None)
        for code in agencies:  # an exact code always wins
            self.by_key[fold(code)] = code

    def find(self, text: str) -> str | None:
        for variant in sorted(_variants(fold(text)), key=len, reverse=True):
            if variant in self.by_key:
                return self.by_key[variant]
        return None

    def suggestions(self, text: str) -> list[str]:
        close = difflib.get_close_matches(fold(text), list(self.by_key), n=8, cutoff=0.6)
        codes = list(dict.fromkeys(self.by_key[k] for k in close))[:3]
        return [f"{self.agencies[c].name} ({c})" for c in codes]

    def resolve_cell(self, value: Any, label: str) -> tuple[list[str], list[str], list[str]]:
        """Agency codes named in one cell, the errors for the names not found, and the
        words that name no agency in particular ("các ngành liên quan")."""
        if _blank(value):
            return [], [], []
        codes: list[str] = []
        errors: list[str] = []
        unspecific: list[str] = []
        prefix = None
        for raw in re.split(r"[;\n,+]", str(value)):
            part = (nfc(raw) or "").strip(" .:-–")
            if not part:
                continue
            # "Các Sở: Xây dựng, Tài chính" — the seeds' way of naming several Sở.
            match = re.match(r"^các\s+(sở|ban)\s*(?:,?\s*ngành)?\s*:?\s*(.*)$", part, re.I)
            if match:
                prefix = "Sở" if match.group(1).lower() == "sở" else "Ban"
                part = match.group(2)
                if not part:
                    continue
            found, loose = self._find_part(part, prefix)
            if found or loose:
                codes.extend(found)
                unspecific.extend(loose)
                continue
            hint = self.suggestions(part)
            errors.append(
                f"Không tìm thấy cơ quan '{part}' (cột '{label}')."
                + (f" Có phải ý bạn là: {', '.join(hint)}?" if hint else "")
                + " Cơ quan phải được đăng ký trước (`nhiemvu agency add`)."
            )
        return list(dict.fromkeys(codes)), errors, unspecific

    def _find_one(self, part: str, prefix: str | None) -> str | None:
        # "Sở Thông tin & Truyền thông": "&" for "và", unless it is an abbreviation's
        # (Sở TN&MT), which the name's variants hold. "Sở Xây dựng (chủ trì)": the role
        # the cell's column says already — unless the name itself ends so ("… (DEZA)").
        unnoted = _ROLE_NOTE.sub("", part)
        texts = (part, part.replace("&", " và "), unnoted, unnoted.replace("&", " và "))
        for text in dict.fromkeys(filter(None, texts)):
            code = self.find(text) or (prefix and self.find(f"{prefix} {text}"))
            if code:
                return code
        return None

    def _find_part(self, part: str, prefix: str | None) -> tuple[list[str], list[str]]:
        """(codes, words naming no agency in particular) of one part of a cell."""
        code = self._find_one(part, prefix)
        if code:
            return [code], []
        if _unspecific(part):
            return [], [part]
        # "Sở Xây dựng và Sở Tài chính", "Sở Tài chính và các ngành liên quan": split on
        # "và" only when the whole is no agency's name ("Sở Kế hoạch và Đầu tư" is one).
        pieces = [p for p in re.split(r"\s+(?:và|&)\s+", part) if p]
        if len(pieces) > 1:
            found = [self._find_one(p, prefix) for p in pieces]
            loose = [p for p, code in zip(pieces, found, strict=True) if not code]
            if any(found) and all(_unspecific(p) for p in loose):
                return [c for c in found if c], loose
        return [], []


# The command options a refusal may name, and the columns that give them here.
_COLUMN_OF_OPTION = {
    "--kind": "kind", "--issuer": "issuer", "--title": "title", "--lead": "leads",
    "--deadline": "deadline", "--no-deadline": "deadline", "--assigned-on": "assigned_on",
    "--doc": "completion_doc",
}  # fmt: skip
# A role noted beside an agency: "(chủ trì)", "(phối hợp)".
_ROLE_NOTE = re.compile(r"\s*\((?:[^()]*)\)\s*$")
# Words of the phrases that name agencies as a group — "các sở, ban, ngành", "UBND các
# quận, huyện", "các đơn vị liên quan" — and none in particular.
_GROUP_WORDS = frozenset({
    "cac", "so", "ban", "nganh", "ubnd", "uy", "nhan", "dan", "quan", "huyen", "thi", "xa",
    "phuong", "tran", "dia", "don", "vi", "co", "lien", "va", "khac", "tren", "thanh",
    "pho", "tp", "doan", "the", "to", "chuc", "doanh", "nghiep", "nang",
})  # fmt: skip


def _unspecific(part: str) -> bool:
    """Whether `part` names agencies as a group (no registered agency bears it)."""
    words = re.sub(r"[^\w\s]", " ", fold(part)).split()
    return bool(words) and all(w in _GROUP_WORDS for w in words)


# -- rows --------------------------------------------------------------------------------


@dataclass
class ParsedRow:
    row: int
    values: dict[str, Any]
    number: str | None = None
    issued_on: date | None = None
    summary: str | None = None
    kind: str | None = None
    issuer: str | None = None
    clause: str | None = None
    title: str | None = None
    leader: str | None = None
    assigned_on: date | None = None
    deadline: DeadlineInput | None = None
    completion: Completion = Completion(None, None)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# "129/TB-UBND ngày 05/4/2023", and what a heading row writes after the date: the
# trích yếu ("… ngày 10/4/2023 về chuyển đổi số").
_NUMBER_WITH_DATE = re.compile(
    r"^(.*?)[\s,]*(?:ngày|ngay)\s+(\d{1,2}/\d{1,2}/\d{4})(?:[\s,:;.-]+(.*?))?\s*$", re.I
)
# "Thông báo số 129/TB-UBND", "Số: 129/TB-UBND": the words before the number.
_NUMBER_PREFIX = re.compile(r"^(?:[^\W\d_]+(?:\s+[^\W\d_]+)*\s+)?(?:số|so)\s*[:.]?\s*", re.I)
# Dashes that look like the hyphen of "TB-UBND", and spaces around its separators.
_DASHES = re.compile(r"[\u2010-\u2015\u2212]")
_SPACED_SEPARATOR = re.compile(r"\s*([/-])\s*")


def directive_number(text: str) -> str:
    """The number as the ledger writes it, from the ways a workbook writes it:
    "Thông báo số 129 /TB–UBND" is 129/TB-UBND."""
    number = _NUMBER_PREFIX.sub("", text.strip(), count=1)
    number = _SPACED_SEPARATOR.sub(r"\1", _DASHES.sub("-", number))
    return number or text.strip()


def parse_row(row: int, values: dict[str, Any], headers: dict[str, str]) -> ParsedRow:
    """Everything a row says that needs no database; problems go to `errors`."""
    parsed = ParsedRow(row, values)

    def label(key: str) -> str:
        return headers.get(key) or COLUMN_BY_KEY[key].header

    def date_of(key: str) -> date | None:
        try:
            return _as_date(values.get(key), "ngày")
        except DomainError as exc:
            parsed.errors.append(in_column(label(key), exc))
            return None

    parsed.number = _text(values.get("number"))
    parsed.issued_on = date_of("issued_on")
    after_date = None
    if parsed.number:
        # "129/TB-UBND ngày 05/4/2023" in a combined "Số, ngày văn bản" column.
        match = _NUMBER_WITH_DATE.match(parsed.number)
        if match:
            parsed.number = match.group(1).strip(" ,")
            after_date = match.group(3)
            try:
                in_number = parse_date(match.group(2), "ngày văn bản")
            except DomainError as exc:
                parsed.errors.append(in_column(label("number"), exc))
            else:
                if parsed.issued_on is None:
                    parsed.issued_on = in_number
                elif parsed.issued_on != in_number:
                    parsed.errors.append(
                        f"Cột '{label('number')}' ghi ngày {format_date(in_number)} nhưng cột "
                        f"'{label('issued_on')}' ghi {format_date(parsed.issued_on)}."
                    )
        parsed.number = directive_number(parsed.number)
    if not parsed.number:
        parsed.errors.append(f"Thiếu số văn bản (cột '{label('number')}').")
    parsed.summary = _text(values.get("summary")) or (after_date or None)
    parsed.kind = _text(values.get("kind"))
    parsed.issuer = _text(values.get("issuer"))
    parsed.clause = _text(values.get("clause"))
    parsed.title = _text(values.get("title"))
    if not parsed.title:
        parsed.errors.append(f"Thiếu nội dung nhiệm vụ (cột '{label('title')}').")
    if _blank(values.get("leads")):
        parsed.errors.append(f"Thiếu đơn vị chủ trì (cột '{label('leads')}').")
    parsed.leader = _text(values.get("leader"))
    parsed.assigned_on = date_of("assigned_on")
    try:
        parsed.deadline, warnings = parse_deadline(values.get("deadline"))
        parsed.warnings.extend(warnings)
    except DomainError as exc:
        parsed.errors.append(in_column(label("deadline"), exc))
    try:
        parsed.completion, warnings = parse_status(
            values.get("status"), values.get("completed_on"), values.get("completion_doc"), headers
        )
        parsed.warnings.extend(warnings)
    except DomainError as exc:
        parsed.errors.append(str(exc))
    return parsed


_TASK_CELLS = ("leads", "deadline", "status", "completed_on")
DIRECTIVE_KEYS = ("number", "issued_on", "summary", "kind", "issuer")


def task_rows(
    rows: list[tuple[int, dict[str, Any]]],
) -> tuple[list[tuple[int, dict[str, Any]]], list[int]]:
    """The rows that carry a task, and the numbers of the non-empty rows that do not.

    Not tasks: example rows (STT 'Ví dụ'), group headings ("I. LĨNH VỰC KINH TẾ":
    no directive, no agency, no deadline) and directive headings (the directive's
    number, date and trích yếu on a line of their own). A task row whose number is
    blank belongs to the directive above it — the layout of books that do not
    merge the directive's cells.
    """
    tasks: list[tuple[int, dict[str, Any]]] = []
    skipped: list[int] = []
    above: dict[str, Any] = {}
    for row, values in rows:
        if all(_blank(v) for v in values.values()):
            continue
        if fold(values.get("stt") or "") in {"vi du", "vd", "mau"}:
            skipped.append(row)
            continue
        number = values.get("number")
        if not _blank(number):
            # A group heading written in the number's column ("LĨNH VỰC XÃ HỘI") is
            # no directive: the rows under it name theirs, or are refused.
            names_one = _DOC_NUMBER.search(str(number)) is not None
            above = {k: values.get(k) for k in DIRECTIVE_KEYS} if names_one else {}
        if all(_blank(values.get(k)) for k in _TASK_CELLS) and (
            _blank(values.get("title")) or _blank(values.get("number"))
        ):
            skipped.append(row)
            continue
        if _blank(values.get("number")) and above:
            values = {**values, **{k: v for k, v in above.items() if _blank(values.get(k))}}
        tasks.append((row, values))
    return tasks, skipped


_KIND_BY_CODE = {
    "TB": "Thông báo",
    "CT": "Chỉ thị",
    "KH": "Kế hoạch",
    "QĐ": "Quyết định",
    "QD": "Quyết định",
    "BC": "Báo cáo",
    "NQ": "Nghị quyết",
    "KL": "Kết luận",
    "HD": "Hướng dẫn",
    "CV": "Công văn",
}


def infer_kind(number: str) -> str | None:
    """'129/TB-UBND' → Thông báo; '1234/UBND-TH' (no type code) → Công văn."""
    match = re.match(r"^\s*\d+[a-z]?/([^-\s/]+)", number, re.I)
    if not match:
        return None
    code = match.group(1).upper()
    if code in _KIND_BY_CODE:
        return _KIND_BY_CODE[code]
    return "Công văn" if code == "UBND" else None


def task_id_for(number: str, clause: str | None, title: str, leads: list[str]) -> str:
    """Stable id from what identifies the task in the workbook, not from its status or
    deadline, so that the same row imported again — even updated — is found again."""
    key = {
        "directive": nfc(number),
        "clause": (nfc(clause) or "").casefold() or None,
        "title": nfc(title).casefold(),
        "leads": sorted(leads),
    }
    digest = hashlib.sha256(canonical_json(key).encode("utf-8")).hexdigest()
    return f"{TASK_ID_PREFIX}{digest[:10].upper()}"


# -- the import --------------------------------------------------------------------------


@dataclass
class RowResult:
    row: int
    status: str
    task: str | None = None
    directive: str | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "status": self.status,
            "task": self.task,
            "directive": self.directive,
            "errors": self.errors,
            "warnings": self.warnings,
            "actions": self.actions,
        }


@dataclass
class ImportReport:
    file: str
    sheet: str
    header_row: int
    rows: list[RowResult]
    skipped_rows: list[int]
    ignored_columns: list[str]
    dry_run: bool
    written: bool
    skip_invalid: bool = False
    other_sheets: list[str] = field(default_factory=list)
    stray_cells: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for r in self.rows if r.status == status)

    @property
    def refused(self) -> bool:
        """Invalid rows stopped the whole import (exit status 1)."""
        return self.count(INVALID) > 0 and not self.written and not self.skip_invalid

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "sheet": self.sheet,
            "header_row": self.header_row,
            "rows": [r.to_json() for r in self.rows],
            "created": self.count(CREATED),
            "existing": self.count(EXISTS),
            "invalid": self.count(INVALID),
            "would_create": self.count(WOULD_CREATE),
            "written": self.written,
            "dry_run": self.dry_run,
            "skipped_rows": self.skipped_rows,
            "ignored_columns": self.ignored_columns,
            "other_sheets": self.other_sheets,
            "stray_cells": self.stray_cells,
        }


class _RowInvalid(Exception):
    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


class _SavepointStore(EventStore):
    """The store seen through one open transaction: each command runs in a savepoint.

    The Ledger's commands open their own transactions; here those become
    savepoints of the import's single transaction, so a refused command undoes
    only itself and the import decides at the end whether anything is kept.
    """

    def __init__(self, store: EventStore, connection: Connection) -> None:
        super().__init__(store.engine, store.registry, store.clock)
        self._connection = connection

    @contextmanager
    def transaction(self, projections=()) -> Iterator[StoreTransaction]:
        with self._connection.begin_nested():
            tx = StoreTransaction(self, self._connection, projections)
            yield tx
            tx.flush()

    @contextmanager
    def _reading(self, connection: Connection | None) -> Iterator[Raw]:
        yield Raw(connection if connection is not None else self._connection)


def import_workbook(
    app,
    path: str | Path,
    sheet: str | None = None,
    dry_run: bool = False,
    skip_invalid: bool = False,
) -> ImportReport:
    data = read_sheet(path, sheet)
    rows, skipped = task_rows(data.rows)
    parsed = [parse_row(row, values, data.headers) for row, values in rows]

    with app.engine.connect() as base:
        connection = base.execution_options(**{WRITE: True})
        transaction = connection.begin()
        try:
            # Hold the log's write lock from the first check to the commit, so
            # what was validated is what gets written.
            connection.execute(sa.select(log_head).where(log_head.c.id == 1).with_for_update())
            store = _SavepointStore(app.store, connection)
            ledger = Ledger(store, app.ledger.actor, app.ledger.now)
            importer = _Importer(ledger, connection, data.headers)
            results = importer.apply_all(parsed)
            invalid = any(r.status == INVALID for r in results)
            created = any(r.status == CREATED for r in results)
            write = created and not dry_run and (skip_invalid or not invalid)
            if write:
                transaction.commit()
            else:
                transaction.rollback()
        except BaseException:
            transaction.rollback()
            raise
    if not write:
        for result in results:
            if result.status == CREATED:
                result.status = WOULD_CREATE
    return ImportReport(
        file=str(path),
        sheet=data.name,
        header_row=data.header_row,
        rows=results,
        skipped_rows=skipped,
        ignored_columns=data.ignored,
        dry_run=dry_run,
        written=write,
        skip_invalid=skip_invalid,
        other_sheets=data.other_tables,
        stray_cells=data.stray_cells,
    )


@dataclass
class _Identified:
    """A row with its agencies resolved and its task named (errors: it cannot be)."""

    parsed: ParsedRow
    leads: list[str] = field(default_factory=list)
    coordinators: list[str] = field(default_factory=list)
    directive: Any = None
    task: str | None = None
    errors: list[str] = field(default_factory=list)


class _Importer:
    def __init__(self, ledger: Ledger, connection: Connection, headers: dict[str, str]) -> None:
        self.ledger = ledger
        self.connection = connection
        self.headers = headers
        self.agencies = AgencyIndex(loading.load_agencies(connection))
        self.seen: dict[str, int] = {}
        # Each directive number as the first row (or the ledger) spelled it.
        self.spelled: dict[str, str] = {}
        # The keys the workbook's new directives will take: number → year → key.
        self.to_come: dict[str, dict[int, str]] = {}
        # The tasks of each directive the ledger had (see _edited_twin), with their keys.
        self.tasks_before: dict[str, list[tuple[Any, str]]] = {}

    def label(self, key: str) -> str:
        return self.headers.get(key) or COLUMN_BY_KEY[key].header

    def apply_all(self, parsed: list[ParsedRow]) -> list[RowResult]:
        rows = [self._identify(p) for p in parsed]
        # A task of the ledger that no row names any more may be one a row now edits
        # (see _edited_twin): known only once every row is identified.
        self.named = {row.task for row in rows if row.task is not None}
        return [self._apply(row) for row in rows]

    def _identify(self, p: ParsedRow) -> _Identified:
        errors = list(p.errors)
        leads, lead_errors, loose_leads = self.agencies.resolve_cell(
            p.values.get("leads"), self.label("leads")
        )
        coordinators, coordinator_errors, loose = self.agencies.resolve_cell(
            p.values.get("coordinators"), self.label("coordinators")
        )
        errors += lead_errors + coordinator_errors
        if loose_leads:
            errors.append(
                f"Cột '{self.label('leads')}' ghi '{'; '.join(loose_leads)}': không phải một cơ "
                "quan cụ thể. Hãy ghi cơ quan chủ trì theo tên hoặc mã đã đăng ký."
            )
        if loose:
            p.warnings.append(
                f"Cột '{self.label('coordinators')}' ghi '{'; '.join(loose)}': không phải một cơ "
                "quan cụ thể, không ghi vào sổ (chỉ các cơ quan đã đăng ký được theo dõi)."
            )
        if not _blank(p.values.get("leads")) and not (leads or lead_errors or loose_leads):
            errors.append(f"Thiếu đơn vị chủ trì (cột '{self.label('leads')}').")
        if errors:
            return _Identified(p, errors=errors)
        # As the ledger has it, if it has it, or as a row above: 129/tb-ubnd is 129/TB-UBND.
        typed = p.number
        directive = self._directive(p.number, p.issued_on, p.assigned_on)
        p.number = directive["number"] if directive else self._number_to_come(p.number, p.issued_on)
        p.number = self.spelled.setdefault(p.number.upper(), p.number)
        task = task_id_for(p.number, p.clause, p.title, leads)
        if directive is not None and p.issued_on is None and not self._task_exists(task):
            directive, task = self._imported_before(typed, directive, task, p, leads)
            p.number = directive["number"]
        return _Identified(p, leads, coordinators, directive, task)

    def _imported_before(self, typed: str, directive, task: str, p: ParsedRow, leads):
        """A row naming its directive by the number alone, with no date: the directive
        of another year whose task for this row the ledger has (an earlier import,
        before a later year's directive took the number), else the one chosen."""
        base, year = numbering.split_year(typed)
        if year is not None:
            return directive, task
        for other in numbering.directive_family(Raw(self.connection), base):
            if other["number"] == directive["number"]:
                continue
            candidate = task_id_for(other["number"], p.clause, p.title, leads)
            if self._task_exists(candidate):
                return other, candidate
        return directive, task

    def _apply(self, row: _Identified) -> RowResult:
        p, leads, coordinators = row.parsed, row.leads, row.coordinators
        result = RowResult(p.row, INVALID, directive=p.number, warnings=list(p.warnings))
        if row.errors:
            result.errors = row.errors
            return result
        result.task = row.task
        if result.task in self.seen:
            result.errors = [
                f"Trùng với dòng {self.seen[result.task]}: cùng văn bản, mục, nội dung và đơn vị "
                "chủ trì."
            ]
            return result
        self.seen[result.task] = p.row
        if self._task_exists(result.task):
            result.status = EXISTS
            if self._task_retracted(result.task):
                result.warnings.append(
                    f"Nhiệm vụ {result.task} của dòng này đã được nhập trước đây rồi rút lại "
                    "(`nhiemvu correct`); không nhập lại. Nếu việc rút lại là nhầm, hãy giao lại "
                    "nhiệm vụ bằng `nhiemvu task assign`."
                )
            else:
                result.warnings += self._differences(result.task, p)
            return result
        twin = self._edited_twin(p)
        if twin is not None:
            result.warnings.append(_twin_warning(twin, result.task))
        # A directive the workbook brings in is in the ledger from its first row on.
        directive = row.directive or self._directive(p.number, p.issued_on)
        try:
            with self.connection.begin_nested():
                result.actions = self._create(p, result, leads, coordinators, directive)
        except _RowInvalid as exc:
            result.errors = exc.errors
            return result
        except (DomainError, EventStoreError) as exc:
            result.errors = [self._in_columns(str(exc))]
            return result
        result.status = CREATED
        return result

    def _task_exists(self, task_id: str) -> bool:
        query = (
            sa.select(events_table.c.position)
            .where(events_table.c.stream_id == streams.task(task_id))
            .limit(1)
        )
        return self.connection.execute(query).first() is not None

    def _task_retracted(self, task_id: str) -> bool:
        """Its stream is there but its assignment was retracted: no projection row."""
        query = sa.select(t.tasks.c.task_id).where(t.tasks.c.task_id == task_id)
        return self.connection.execute(query).first() is None

    def _in_columns(self, message: str) -> str:
        """A command's refusal with the workbook's columns for the command's options
        it names: "(--kind)" is "(cột 'Loại văn bản')" here."""

        def column(match: re.Match) -> str:
            key = _COLUMN_OF_OPTION.get(match.group(1))
            return f"(cột '{self.label(key)}')" if key else match.group(0)

        return re.sub(r"\((--[a-z-]+)\)", column, message)

    def _edited_twin(self, p: ParsedRow):
        """A task of the same directive and clause, named by no row of the workbook,
        whose content this row's resembles: the row may be that task edited since it
        was imported, and importing it would count the task twice. Only a warning: a
        workbook need not hold every task of a directive (one a month, one an agency)."""
        key = _title_key(p.title)
        if p.number not in self.tasks_before:
            # Read once a directive: the tasks this import adds are all named by rows.
            tasks = loading.iter_tasks(self.connection, directive=p.number)
            self.tasks_before[p.number] = [(task, _title_key(task.title)) for task in tasks]
        for task, other in self.tasks_before[p.number]:
            if task.id in self.named or task.clause != p.clause:
                continue
            similar = key in other or other in key
            if similar or difflib.SequenceMatcher(None, key, other).ratio() >= TWIN_LIKENESS:
                return task
        return None

    def _directive(
        self, number: str, issued_on: date | None = None, assigned_on: date | None = None
    ):
        """The ledger's directive of this number, matched as `task assign` matches it:
        of the year it was issued in if the row says (numbers restart every year), else
        the latest issued by the day the task was given, if the row says."""
        base, year = numbering.split_year(number)
        year = year or (issued_on.year if issued_on is not None else None)
        typed = base if year is None else numbering.with_year(base, year)
        try:
            return loading.directive_row(self.connection, typed, assigned_on)
        except NotFound:
            return None

    def _number_to_come(self, number: str, issued_on: date | None) -> str:
        """The key a directive the ledger does not have yet will take (registered by
        the rows in their order): its number, or with its year if another year's holds
        the number — in the ledger, or in a row above. Task ids are made from it, so a
        second import finds the same ones."""
        base, _ = numbering.split_year(number)
        if issued_on is None:
            return base
        years = self.to_come.setdefault(base.upper(), {})
        if issued_on.year not in years:
            other = self._directive(base)
            first = next(iter(years.values()), None) or (other and other["number"])
            if first is None:
                years[issued_on.year] = base
            else:
                spelled = numbering.split_year(first)[0]
                years[issued_on.year] = numbering.with_year(spelled, issued_on.year)
        return years[issued_on.year]

    def _create(self, p: ParsedRow, result: RowResult, leads, coordinators, directive) -> list[str]:
        actions = []
        if directive is None:
            missing = []
            if p.issued_on is None:
                missing.append(f"ngày văn bản (cột '{self.label('issued_on')}')")
            if not p.summary:
                missing.append(f"trích yếu (cột '{self.label('summary')}')")
            if missing:
                raise _RowInvalid(
                    [
                        f"Văn bản {p.number} chưa có trong sổ; để ghi văn bản cần "
                        + " và ".join(missing)
                        + "."
                    ]
                )
            self.ledger.register_directive(
                p.number, p.issued_on, p.summary, p.kind or infer_kind(p.number), p.issuer
            )
            actions.append(f"ghi văn bản {p.number}")
            issued_on = p.issued_on
        else:
            issued_on = directive["issued_on"]
            if p.issued_on is not None and p.issued_on != issued_on:
                raise _RowInvalid(
                    [
                        f"Văn bản {p.number} đã có trong sổ với ngày {format_date(issued_on)}, "
                        f"dòng này ghi ngày {format_date(p.issued_on)}. Kiểm tra lại số hoặc ngày "
                        "văn bản."
                    ]
                )
            if p.summary and _title_key(p.summary) != _title_key(directive["title"]):
                result.warnings.append(
                    f"Trích yếu khác với văn bản {p.number} đã có trong sổ; giữ trích yếu đã ghi."
                )
        assigned_on = p.assigned_on or issued_on
        due = _due_of(p.deadline)
        if due is not None and due < assigned_on:
            raise _RowInvalid(
                [
                    f"Thời hạn {format_date(due)} trước ngày giao {format_date(assigned_on)} "
                    f"({'cột ' + repr(self.label('assigned_on')) if p.assigned_on else 'ngày văn bản'}"
                    "). Hãy kiểm tra lại thời hạn."
                ]
            )
        assigned = self.ledger.assign_task(
            p.number,
            p.title,
            leads,
            p.deadline,
            clause=p.clause,
            coordinators=coordinators,
            assigned_on=p.assigned_on,
            leader=p.leader,
            task_id=result.task,
            done_on=p.completion.on,
        )
        result.warnings.extend(assigned.warnings)
        actions.append("giao nhiệm vụ")
        if p.completion.on is not None:
            self.ledger.complete(result.task, p.completion.on, p.completion.doc)
            actions.append(f"ghi hoàn thành ngày {format_date(p.completion.on)}")
        return actions

    def _differences(self, task_id: str, p: ParsedRow) -> list[str]:
        """What the workbook says that the ledger does not: shown, never written."""
        task = loading.load_task(self.connection, task_id)
        notes = []
        due = _due_of(p.deadline)
        if (
            p.deadline is not None
            and p.deadline.kind != "working_days"
            and (due != task.original_deadline)
        ):
            notes.append(
                f"Thời hạn trong tệp ({format_date(due) or 'không có'}) khác thời hạn đã ghi "
                f"({format_date(task.original_deadline) or 'không có'}); sổ không đổi. Gia hạn "
                f"ghi bằng `nhiemvu task extend {task_id}`."
            )
        on = p.completion.on
        if on is not None and task.completed_on is None:
            doc = f' --doc "{p.completion.doc}"' if p.completion.doc else ""
            notes.append(
                f"Tệp ghi hoàn thành ngày {format_date(on)} nhưng sổ chưa ghi: dùng "
                f"`nhiemvu task complete {task_id} --on {format_date(on)}{doc}`."
            )
        elif on is not None and on != task.completed_on:
            notes.append(
                f"Tệp ghi hoàn thành ngày {format_date(on)}, sổ ghi "
                f"{format_date(task.completed_on)}; sổ không đổi."
            )
        elif on is None and task.completed_on is not None:
            notes.append(
                f"Sổ đã ghi hoàn thành ngày {format_date(task.completed_on)}; tệp chưa cập nhật."
            )
        return notes


# How alike two contents of one clause must be for a row to be the other edited:
# a corrected typo or an added phrase, not another task of the clause.
TWIN_LIKENESS = 0.8


def _twin_warning(twin, new_task: str) -> str:
    where = f"mục {twin.clause} của " if twin.clause else ""
    return (
        f"Dòng này gần giống nhiệm vụ {twin.id} đã có trong sổ ({where}{twin.directive}: "
        f"'{clipped(twin.title, 80)}', chủ trì {', '.join(twin.leads)}) mà tệp không còn dòng "
        f"nào khớp. Nếu dòng là nhiệm vụ đó đã sửa, {new_task} sẽ tính trùng: rút lại bằng "
        f"`nhiemvu correct {new_task}#1`; đổi cơ quan chủ trì bằng `nhiemvu task reassign "
        f"{twin.id}`."
    )


def _title_key(text: str) -> str:
    # "UBND" and "Ủy ban nhân dân" are the same words in a trích yếu.
    return fold(text).replace("uy ban nhan dan", "ubnd")


def _due_of(deadline: DeadlineInput | None) -> date | None:
    if deadline is None or deadline.kind in ("none", "working_days"):
        return None
    if deadline.kind == "period":
        return parse_period(deadline.value)[1]
    return deadline.value


# -- the template and the sample -----------------------------------------------------------

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
    with written_whole(path, new_only=True) as handle:
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
    with written_whole(path, new_only=True) as handle:
        workbook.save(handle)
    return path


def main() -> None:
    """Regenerate the workbooks shipped in application/data/."""
    DATA_DIR.mkdir(exist_ok=True)
    # The writers refuse an existing file (a user's filled-in workbook); these two
    # are the generators' own output.
    for shipped in (TEMPLATE_FILE, SAMPLE_FILE):
        shipped.unlink(missing_ok=True)
    for path in (write_template(TEMPLATE_FILE), write_sample(SAMPLE_FILE)):
        print(f"Đã ghi {path}")


if __name__ == "__main__":
    main()
