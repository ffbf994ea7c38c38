"""Excel export: the secretariat works in Excel, so every report can be a workbook."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from workflow.text import printable

from .authorship import AUTHOR
from .files import Keep, written_whole


@dataclass(frozen=True)
class Sheet:
    title: str
    columns: Sequence[tuple[str, str]]  # (key, Vietnamese heading)
    rows: Sequence[dict[str, Any]]
    date_keys: frozenset[str] = frozenset()
    notes: Sequence[str] = ()


def _cell(value: Any, is_date: bool) -> Any:
    if is_date and isinstance(value, str) and value:
        return date.fromisoformat(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return str(value)
    return value


def _put(ws, row: int, column: int, value: Any):
    """Write a value into a cell, text always as text: openpyxl makes a string that
    starts with '=' a formula, and a name typed as '=HYPERLINK(…)' would run as one
    when the clerk opens the report. Control characters, which Excel refuses, go."""
    if isinstance(value, str):
        value = printable(value)
    cell = ws.cell(row=row, column=column, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
    return cell


def write_workbook(path: str | Path, sheets: Sequence[Sheet], keep: Keep | None = None) -> Path:
    """The sheets as one workbook at `path`; `keep`: refuse a file already there."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.remove(workbook.active)
    workbook.properties.creator = workbook.properties.lastModifiedBy = AUTHOR
    workbook.properties.title = printable(
        sheets[0].notes[0] if sheets[0].notes else sheets[0].title
    )
    workbook.properties.language = "vi-VN"
    for sheet in sheets:
        ws = workbook.create_sheet(sheet.title[:31])
        row_index = 1
        for note in sheet.notes:
            _put(ws, row_index, 1, note).font = Font(italic=True)
            row_index += 1
        if sheet.notes:
            row_index += 1
        header_row = row_index
        for col, (_, heading) in enumerate(sheet.columns, start=1):
            cell = _put(ws, header_row, col, heading)
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for offset, row in enumerate(sheet.rows, start=1):
            for col, (key, _) in enumerate(sheet.columns, start=1):
                is_date = key in sheet.date_keys
                cell = _put(ws, header_row + offset, col, _cell(row.get(key), is_date))
                if is_date:
                    cell.number_format = "DD/MM/YYYY"
        for col, (key, heading) in enumerate(sheet.columns, start=1):
            longest = max(
                [len(heading)] + [len(str(_cell(r.get(key), False) or "")) for r in sheet.rows]
            )
            ws.column_dimensions[get_column_letter(col)].width = min(max(10, longest + 2), 60)
        ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    path = Path(path)
    with written_whole(path, keep=keep) as handle:
        workbook.save(handle)
    return path
