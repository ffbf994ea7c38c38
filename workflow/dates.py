"""Dates as people type them, periods, and the business-time model.

A business date D (the date on a report, a completion, a decision) is stored as
the instant D 00:00 in Asia/Ho_Chi_Minh; "as of C" means every business date ≤ C.
"""

from __future__ import annotations

import functools
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from .errors import DomainError

LOCAL_TZ_NAME = "Asia/Ho_Chi_Minh"
LOCAL_TZ = ZoneInfo(LOCAL_TZ_NAME)

_VN_DATE = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*$")
_ISO_DATE = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")
_QUARTER = re.compile(r"^\s*(\d{4})\s*-?\s*[Qq]([1-4])\s*$")
_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")
_YEAR = re.compile(r"^\s*(\d{4})\s*$")


# The years a typed date or period may name. Dates are computed on (the end of a
# day, a deadline's reminders and escalation levels, the last day of a period) and
# Python's dates end on 31/12/9999: a year of room keeps that arithmetic in range.
# Nothing the secretariat records is older than 1900 (Excel's first year, too).
FIRST_YEAR, LAST_YEAR = 1900, 9998


class DateInputError(DomainError):
    pass


def check_year(year: int, what: str, text: object) -> int:
    """`year`, if a date or period may name it; `what` and `text` say where it came from."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise DateInputError(
            f"{what.capitalize()} '{text}': năm {year} nằm ngoài khoảng cho phép "
            f"{FIRST_YEAR}–{LAST_YEAR}. Hãy kiểm tra lại năm."
        )
    return year


def parse_date(text: str, what: str = "ngày") -> date:
    """`31/03/2023` or `2023-03-31` → date; anything else is refused with a hint."""
    if isinstance(text, date):
        return text
    match = _VN_DATE.match(text or "")
    if match:
        day, month, year = (int(g) for g in match.groups())
    else:
        match = _ISO_DATE.match(text or "")
        if not match:
            raise DateInputError(
                f"{what.capitalize()} '{text}' không đúng định dạng. "
                "Hãy nhập dạng dd/mm/yyyy (ví dụ 31/03/2023) hoặc yyyy-mm-dd (2023-03-31)."
            )
        year, month, day = (int(g) for g in match.groups())
    check_year(year, what, text)
    try:
        return date(year, month, day)
    except ValueError:
        raise DateInputError(
            f"{what.capitalize()} '{text}' không tồn tại trong lịch "
            f"(ngày {day}, tháng {month}, năm {year})."
        ) from None


# Remembered, and not strftime: a rating's explanation formats tens of thousands of
# dates, a few hundred distinct ones.
@functools.lru_cache(maxsize=4096)
def format_date(value: date | None) -> str:
    return "" if value is None else f"{value.day:02d}/{value.month:02d}/{value.year}"


def document_date(value: date) -> str:
    """The date of a place-and-date line, "ngày 05 tháng 3 năm 2024": Nghị định
    30/2020/NĐ-CP writes a day below 10 and the months 1 and 2 with a leading zero,
    and the other months without (the seeds: "ngày 19 tháng 01", "ngày 05 tháng 4")."""
    month = f"{value.month:02d}" if value.month <= 2 else str(value.month)
    return f"ngày {value.day:02d} tháng {month} năm {value.year}"


def iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def from_iso(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def start_of_day(value: date) -> datetime:
    """The instant at which a business date begins, in local time."""
    return datetime(value.year, value.month, value.day, tzinfo=LOCAL_TZ)


def end_of_day(value: date) -> datetime:
    """The last instant still on a business date: the bound for "as of" filters."""
    return start_of_day(value + timedelta(days=1)) - timedelta(microseconds=1)


def local_today(now: datetime | None = None) -> date:
    return (now or datetime.now(LOCAL_TZ)).astimezone(LOCAL_TZ).date()


def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    first_month = 3 * (quarter - 1) + 1
    start = date(year, first_month, 1)
    return start, _month_end(year, first_month + 2)


def _month_end(year: int, month: int) -> date:
    if month == 12:
        return date(year, 12, 31)
    return date(year, month + 1, 1) - timedelta(days=1)


def parse_period(text: str) -> tuple[date, date]:
    """`2023Q2`, `2023-10` or `2023` → (first day, last day)."""
    match = _QUARTER.match(text or "")
    if match:
        return quarter_bounds(_period_year(match, text), int(match.group(2)))
    match = _MONTH.match(text or "")
    if match and 1 <= int(match.group(2)) <= 12:
        year, month = _period_year(match, text), int(match.group(2))
        return date(year, month, 1), _month_end(year, month)
    match = _YEAR.match(text or "")
    if match:
        year = _period_year(match, text)
        return date(year, 1, 1), date(year, 12, 31)
    raise DateInputError(
        f"Kỳ '{text}' không hợp lệ. Hãy nhập quý dạng 2023Q2, tháng dạng 2023-10 hoặc năm dạng 2023."
    )


# How --quarter and --month are written, each taking only its own kind of period: a
# report labels its window by the option, so "--quarter 2024" would count a year
# under the heading "quý I".
_FORMS = {"quarter": (_QUARTER, "Quý", "2023Q2"), "month": (_MONTH, "Tháng", "2023-10")}


def parse_period_as(kind: str, text: str) -> tuple[date, date]:
    """`parse_period` of a quarter or a month (`kind`), refusing the other forms."""
    pattern, name, example = _FORMS[kind]
    match = pattern.match(text or "")
    if not match or (kind == "month" and not 1 <= int(match.group(2)) <= 12):
        raise DateInputError(f"{name} '{text}' không hợp lệ. Hãy nhập dạng {example}.")
    return parse_period(text)


def canonical_period(text: str) -> str:
    """A period as it is stored: `2023Q2`, `2023-04` or `2023`, however it was typed
    (" 2023q2", "2023-Q2", "2023-4"); refused as `parse_period` refuses it."""
    start, end = parse_period(text)
    if start.month == end.month:
        return f"{start.year}-{start.month:02d}"
    if (start.month, end.month) == (1, 12):
        return str(start.year)
    return f"{start.year}Q{(start.month - 1) // 3 + 1}"


def _period_year(match: re.Match, text: str) -> int:
    return check_year(int(match.group(1)), "kỳ", text)


def days_in(start: date, end: date) -> int:
    """Number of days from start to end, both included."""
    return (end - start).days + 1


def check_happened(on: date, today: date, what: str) -> None:
    """The log records what has happened: a business date after today is refused (`what`
    names the date: "hoàn thành", "giao nhiệm vụ"). A report's cut-off after today is
    refused for another reason, by application.cutoffs.check_not_future."""
    if on > today:
        raise DomainError(
            f"Ngày {what} {format_date(on)} ở tương lai (hôm nay là {format_date(today)}): sổ "
            "chỉ ghi việc đã xảy ra. Hãy kiểm tra lại ngày (năm gõ nhầm?), hoặc ghi vào đúng "
            "ngày đó khi việc đã diễn ra."
        )
