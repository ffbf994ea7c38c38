"""A data row of the workbook as a task and its directive, and the id that makes a re-import idempotent."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from events.serialization import canonical_json
from workflow.dates import format_date, parse_date
from workflow.errors import DomainError
from workflow.text import fold, nfc

from ..ledger import DeadlineInput
from .cells import (
    DOC_NUMBER,
    Completion,
    as_date,
    blank,
    cell_text,
    in_column,
    parse_deadline,
    parse_status,
)
from .columns import COLUMN_BY_KEY

TASK_ID_PREFIX = "XL-"


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
            return as_date(values.get(key), "ngày")
        except DomainError as exc:
            parsed.errors.append(in_column(label(key), exc))
            return None

    parsed.number = cell_text(values.get("number"))
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
    parsed.summary = cell_text(values.get("summary")) or (after_date or None)
    parsed.kind = cell_text(values.get("kind"))
    parsed.issuer = cell_text(values.get("issuer"))
    parsed.clause = cell_text(values.get("clause"))
    parsed.title = cell_text(values.get("title"))
    if not parsed.title:
        parsed.errors.append(f"Thiếu nội dung nhiệm vụ (cột '{label('title')}').")
    if blank(values.get("leads")):
        parsed.errors.append(f"Thiếu đơn vị chủ trì (cột '{label('leads')}').")
    parsed.leader = cell_text(values.get("leader"))
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
        if all(blank(v) for v in values.values()):
            continue
        if fold(values.get("stt") or "") in {"vi du", "vd", "mau"}:
            skipped.append(row)
            continue
        number = values.get("number")
        if not blank(number):
            # A group heading written in the number's column ("LĨNH VỰC XÃ HỘI") is
            # no directive: the rows under it name theirs, or are refused.
            names_one = DOC_NUMBER.search(str(number)) is not None
            above = {k: values.get(k) for k in DIRECTIVE_KEYS} if names_one else {}
        if all(blank(values.get(k)) for k in _TASK_CELLS) and (
            blank(values.get("title")) or blank(values.get("number"))
        ):
            skipped.append(row)
            continue
        if blank(values.get("number")) and above:
            values = {**values, **{k: v for k, v in above.items() if blank(values.get(k))}}
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
