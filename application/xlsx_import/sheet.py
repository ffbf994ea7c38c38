"""Reading the table of tasks out of a workbook: its heading row, its rows, what lies around it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workflow.errors import DomainError
from workflow.text import fold

from .cells import blank
from .columns import (
    COLUMN_BY_KEY,
    DUPLICABLE_KEYS,
    HEADER_INDEX,
    HEADER_SCAN_ROWS,
    REQUIRED_KEYS,
    fold_header,
)


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
    return sorted(key for key, cell in ws._cells.items() if not blank(cell.value))


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
        not blank(cell := grid[below][i])
        and cell != above[i]
        and HEADER_INDEX.get(fold_header(cell)) is None
        for i in named
    )
    return [] if data_like else more


_COLUMN_NUMBER = re.compile(r"^\(?(\d{1,2})\)?$")


def _numbers_the_columns(cells: list[Any]) -> bool:
    numbers = []
    for cell in cells:
        if blank(cell):
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

    if not _holds_formulas(path):
        return
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


# A formula cell's element (<f>, or <x:f> where the writer prefixed the namespace).
_FORMULA_ELEMENT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")


def _holds_formulas(path: str | Path) -> bool:
    """Whether any worksheet of the file has a formula: reading the workbook a second
    time for its formulas took as long as the first read (seconds for a year's book)."""
    from zipfile import ZipFile

    with ZipFile(path) as archive:
        # Every XML part, not only xl/worksheets/: a sheet's part may be named anything
        # its relationships say; a chart's <c:f> costs only the second read.
        parts = [name for name in archive.namelist() if name.lower().endswith(".xml")]
        return any(_FORMULA_ELEMENT.search(_as_utf8(archive.read(name))) for name in parts)


def _as_utf8(xml: bytes) -> bytes:
    """XML may come in UTF-16 (with its byte order mark), where "<f" is not these bytes."""
    if xml[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return xml.decode("utf-16", errors="replace").encode()
    return xml


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
