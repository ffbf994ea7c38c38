"""Vietnamese working days: deadlines "trong N ngày làm việc" and reminders before them.

A working day is Monday–Friday, minus the public holidays (Tết âm lịch and the
compensatory days included) that the `holidays` package knows, corrected by an
override file for the swaps the government announces each year: extra days off
and Saturdays worked in exchange (`workflow/data/calendar_overrides.toml`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import holidays

from .dates import format_date
from .errors import DomainError
from .toml_errors import load_toml

DEFAULT_OVERRIDES_FILE = Path(__file__).parent / "data" / "calendar_overrides.toml"
_LISTS = {"days_off": "ngày nghỉ thêm", "working_days": "ngày làm việc bù"}
_ENTRY_KEYS = {"date", "note"}
_SATURDAY = 5
# The longest deadline "trong N ngày làm việc": some 14 years at about 250 working
# days a year, more than two five-year terms of a People's Committee. The count is
# walked day by day, and past that it soon runs beyond the last date Python knows.
MAX_WORKING_DAYS = 3650


class CalendarFileError(DomainError, ValueError):
    """An override file that cannot be trusted; the message names the bad entry."""


@dataclass(frozen=True)
class CalendarOverride:
    day: date
    note: str


@dataclass(frozen=True)
class CalendarOverrides:
    days_off: tuple[CalendarOverride, ...] = ()
    working_days: tuple[CalendarOverride, ...] = ()

    def off_dates(self) -> frozenset[date]:
        return frozenset(o.day for o in self.days_off)

    def working_dates(self) -> frozenset[date]:
        return frozenset(o.day for o in self.working_days)


def load_overrides(path: str | Path) -> CalendarOverrides:
    data = load_toml(path, "lịch hoán đổi", CalendarFileError)
    return parse_overrides(data, origin=str(path))


def parse_overrides(data: Mapping[str, Any], origin: str = "lịch hoán đổi") -> CalendarOverrides:
    unknown = sorted(set(data) - set(_LISTS))
    if unknown:
        raise CalendarFileError(
            f"Tệp '{origin}': khóa '{unknown[0]}' không được hỗ trợ. "
            "Chỉ dùng [[days_off]] (ngày nghỉ thêm) và [[working_days]] (ngày làm việc bù)."
        )
    lists = {name: _entries(data.get(name, []), name, origin) for name in _LISTS}
    both = sorted({o.day for o in lists["days_off"]} & {o.day for o in lists["working_days"]})
    if both:
        raise CalendarFileError(
            f"Tệp '{origin}': ngày {format_date(both[0])} vừa là ngày nghỉ thêm vừa là "
            "ngày làm việc bù. Hãy giữ lại đúng một mục."
        )
    return CalendarOverrides(days_off=lists["days_off"], working_days=lists["working_days"])


def _entries(raw: Any, name: str, origin: str) -> tuple[CalendarOverride, ...]:
    if not isinstance(raw, list):
        raise CalendarFileError(
            f"Tệp '{origin}': '{name}' phải là danh sách mục [[{name}]] "
            "(mỗi mục có 'date' và 'note')."
        )
    seen: dict[date, int] = {}
    result = []
    for index, entry in enumerate(raw, start=1):
        where = f"Tệp '{origin}', mục {name} thứ {index}"
        if not isinstance(entry, dict):
            raise CalendarFileError(f"{where}: phải là một bảng có 'date' và 'note'.")
        extra = sorted(set(entry) - _ENTRY_KEYS)
        if extra:
            raise CalendarFileError(
                f"{where}: khóa '{extra[0]}' không được hỗ trợ (chỉ có 'date' và 'note')."
            )
        day = _entry_date(entry.get("date"), where)
        note = entry.get("note")
        if not isinstance(note, str) or not note.strip():
            raise CalendarFileError(
                f"{where} (ngày {format_date(day)}): thiếu 'note' ghi nguồn "
                "(văn bản công bố việc hoán đổi)."
            )
        if day in seen:
            raise CalendarFileError(
                f"{where}: ngày {format_date(day)} đã có ở mục thứ {seen[day]}."
            )
        seen[day] = index
        result.append(CalendarOverride(day, note.strip()))
    return tuple(sorted(result, key=lambda o: o.day))


def _entry_date(value: Any, where: str) -> date:
    # tomllib gives TOML local dates as `date`; a datetime would smuggle in a time of day.
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    if value is None:
        raise CalendarFileError(f"{where}: thiếu 'date'.")
    raise CalendarFileError(
        f"{where}: 'date' = {value!r} không phải một ngày. Hãy viết dạng 2024-05-04."
    )


@cache
def default_overrides() -> CalendarOverrides:
    return load_overrides(DEFAULT_OVERRIDES_FILE)


@cache
def _public_holidays(year: int) -> frozenset[date]:
    # Shared by every calendar: the ledger builds a new calendar for each command.
    return frozenset(holidays.country_holidays("VN", years=year))


class WorkingCalendar:
    """Working days in Việt Nam. Without `overrides`, the shipped override file is used."""

    def __init__(self, overrides: CalendarOverrides | None = None) -> None:
        self.overrides = default_overrides() if overrides is None else overrides
        self._off = self.overrides.off_dates()
        self._worked = self.overrides.working_dates()
        # An escalation pass asks this for the deadline of every task it checks,
        # and most share a handful of deadlines: the day-by-day walk is done once.
        self._before: dict[tuple[date, int], date] = {}

    def is_holiday(self, d: date) -> bool:
        return d in _public_holidays(d.year) or d in self._off

    def is_working_day(self, d: date) -> bool:
        if d in self._worked:
            return True
        return d.weekday() < _SATURDAY and not self.is_holiday(d)

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after `start` (`start` itself is not counted)."""
        _check_count(n)
        day = start
        for _ in range(n):
            day = self.next_working_day(day)
        return day

    def working_days_before(self, d: date, n: int) -> date:
        """The n-th working day before `d` (`d` itself is not counted)."""
        _check_count(n)  # first: True would find the answer for 1
        known = self._before.get((d, n))
        if known is not None:
            return known
        day = d
        for _ in range(n):
            day = self.previous_working_day(day)
        self._before[(d, n)] = day
        return day

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after `d`."""
        return next(day for day in _days(d, +1) if self.is_working_day(day))

    def previous_working_day(self, d: date) -> date:
        """The last working day strictly before `d`."""
        return next(day for day in _days(d, -1) if self.is_working_day(day))

    def working_days_between(self, a: date, b: date) -> int:
        """Working days after `a` up to and including `b`; negative when b < a.

        So that `working_days_between(a, add_working_days(a, n)) == n`.
        """
        if b < a:
            return -self.working_days_between(b, a)
        return sum(1 for day in _span(a + timedelta(days=1), b) if self.is_working_day(day))


def check_deadline_working_days(n: object) -> int:
    """The N of a deadline "trong N ngày làm việc", if a deadline may be that long."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise DomainError("Số ngày làm việc phải là số nguyên dương.")
    if n > MAX_WORKING_DAYS:
        raise DomainError(
            f"Thời hạn {n} ngày làm việc quá dài: tối đa {MAX_WORKING_DAYS} ngày làm việc "
            "(khoảng 14 năm, hơn hai nhiệm kỳ 5 năm). Nhiệm vụ dài hơn hãy giao với thời hạn "
            "là một ngày (--deadline) hoặc không thời hạn (--no-deadline)."
        )
    return n


def _check_count(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"Số ngày làm việc phải là số nguyên dương, không phải {n!r}.")


def _days(d: date, step: int) -> Iterable[date]:
    day = d
    while True:
        day += timedelta(days=step)
        yield day


def _span(first: date, last: date) -> Iterable[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)
