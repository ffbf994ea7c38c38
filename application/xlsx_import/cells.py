"""What a cell says: dates, deadlines in words, a status that may hold a completion."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from workflow.dates import DateInputError, check_year, format_date, parse_date, parse_period
from workflow.errors import DomainError
from workflow.reports import period_label
from workflow.text import fold, nfc

from ..ledger import DeadlineInput


def in_column(label: str, exc: Exception) -> str:
    """A cell's problem, prefixed with the column as the file names it."""
    message = str(exc)
    return f"Cột '{label}': {message[:1].lower()}{message[1:]}"


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def cell_text(value: Any) -> str | None:
    if blank(value):
        return None
    if isinstance(value, datetime):
        return format_date(value.date())
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return nfc(str(value)) or None


def as_date(value: Any, what: str) -> date | None:
    """A date cell, an Excel serial number or text dd/mm/yyyy (optionally 'ngày …'),
    of a year the commands accept (workflow.dates.check_year), as typed dates are."""
    day = _cell_date(value, what)
    if day is not None:
        check_year(day.year, what, format_date(day))
    return day


def _cell_date(value: Any, what: str) -> date | None:
    if blank(value):
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
    if blank(value):
        return DeadlineInput("none"), [
            "Ô thời hạn để trống: ghi là nhiệm vụ không có thời hạn (thường xuyên)."
        ]
    if not isinstance(value, str):
        return DeadlineInput("date", as_date(value, what)), []
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


DOC_NUMBER = re.compile(r"\b(\d+/(?=[\w.-]*[^\W\d_])[\w.-]*\w)")


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
        completed_on = as_date(completed, "ngày hoàn thành")
    except DomainError as exc:
        raise DomainError(in_column(completed_label, exc)) from None
    doc_text = cell_text(doc)
    if isinstance(status, (datetime, date)):
        on = as_date(status, "ngày")
        if completed_on is not None and completed_on != on:
            raise DomainError(
                f"Cột '{status_label}' ghi ngày {format_date(on)} nhưng cột '{completed_label}' "
                f"ghi {format_date(completed_on)}."
            )
        return Completion(on, doc_text), []
    text = cell_text(status) or ""
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
        match = DOC_NUMBER.search(text)
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
