"""Numbers of directives and documents restart every year.

Nghị định 30/2020/NĐ-CP numbers a body's documents from 01 each year, so
"02/CT-UBND" names a Chỉ thị of 2023 and another of 2024. The ledger keys each
by its number, and one of a number already taken in another year by the number
and its year: "02/CT-UBND (2024)". People may type either form; where the
number alone names several, the year picks one, and without it the latest
issued by the day in question does (the directive in force when a task is
given).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Any

from workflow.dates import format_date
from workflow.errors import DomainError

if TYPE_CHECKING:
    from events.sql import Raw

_WITH_YEAR = re.compile(r"^(.*\S)\s*\((\d{4})\)$")


def split_year(text: str) -> tuple[str, int | None]:
    """("02/CT-UBND", 2024) for "02/CT-UBND (2024)"; (text, None) for a bare number."""
    match = _WITH_YEAR.match(text)
    if match is None:
        return text, None
    return match.group(1), int(match.group(2))


def with_year(number: str, year: int) -> str:
    return f"{number} ({year})"


def escaped(number: str) -> str:
    """`number` as a LIKE pattern (escape '!') matching itself alone."""
    return number.replace("!", "!!").replace("%", "!%").replace("_", "!_")


def family_pattern(number: str) -> str:
    """A LIKE pattern (escape '!') for the keys of the other years of `number`."""
    return f"{escaped(number)} (____)"


def _ascii_or_any(pattern: str) -> str:
    return "".join(c if c.isascii() else "_" for c in pattern)


def directive_family(raw: Raw, number: str) -> list[dict[str, Any]]:
    """The directives keyed `number` or "`number` (year)", in any case."""
    rows = _family(raw, "number, issued_on, kind, issuer, title", "proj_directives", number)
    keys = ("number", "issued_on", "kind", "issuer", "title")
    return [
        {**dict(zip(keys, row, strict=True)), "issued_on": raw.dialect.to_day(row[1])}
        for row in rows
    ]


def family_numbers(raw: Raw, table: str, number: str) -> list[str]:
    """The keys of `table` (proj_directives, proj_documents) that are `number` or
    "`number` (year)", in any case."""
    return [row[0] for row in _family(raw, "number", table, number)]


def _family(raw: Raw, columns: str, table: str, number: str) -> list[tuple]:
    """The rows of `table` keyed `number` or "`number` (year)", in any case (SQLite's
    LIKE ignores the case of ASCII letters, PostgreSQL's ILIKE of any; exactly, in
    Python); `columns` begins with the key."""
    like = "LIKE" if raw.dialect.sqlite else "ILIKE"
    # SQLite's LIKE folds the case of ASCII letters only ("12/KH-ĐT" missed "12/KH-đt
    # (2024)", and the task went to another directive than on PostgreSQL), and
    # PostgreSQL's ILIKE folds others as its locale says: any letter beyond ASCII
    # matches any character in the statement, and Python keeps the family exactly.
    bare = _ascii_or_any(escaped(number))
    family = _ascii_or_any(family_pattern(number))
    rows = raw.all(
        f"SELECT {columns} FROM {table} "
        f"WHERE number {like} :bare ESCAPE '!' OR number {like} :family ESCAPE '!'",
        {"bare": bare, "family": family},
    )
    return [row for row in rows if of_the_family(row[0], number)]


def of_the_family(key: str, number: str) -> bool:
    """Whether `key` is `number` itself or `number` in one of its years (any case)."""
    base, year = split_year(key)
    return key.upper() == number.upper() or (year is not None and base.upper() == number.upper())


def choose(
    family: Iterable[dict[str, Any]], year: int | None, on: date | None, typed: str
) -> tuple[dict[str, Any] | None, list[str]]:
    """The directive (or document) of `family` that `typed` names, and a warning when
    the number alone named several: the one of `year` if given, else the latest
    issued by `on` (by any day if none is), else the earliest."""
    rows = sorted(family, key=lambda r: r["issued_on"])
    if year is not None:
        rows = [r for r in rows if r["issued_on"].year == year]
        return (rows[0] if rows else None), []
    if len(rows) <= 1:
        return (rows[0] if rows else None), []
    issued = [r for r in rows if on is None or r["issued_on"] <= on]
    chosen = issued[-1] if issued else rows[0]
    others = "; ".join(
        f"'{r['number']}' ngày {format_date(r['issued_on'])}" for r in rows if r is not chosen
    )
    return chosen, [
        f"Số {typed} dùng cho {len(rows)} văn bản ở các năm khác nhau; đã chọn "
        f"'{chosen['number']}' ngày {format_date(chosen['issued_on'])}. Văn bản khác: {others} "
        "(ghi số kèm năm để chọn)."
    ]


def base_number(number: str, issued_on: date) -> str:
    """The number without the year it may have been typed with, which must then be
    the year it was issued in."""
    base, year = split_year(number)
    if year is not None and year != issued_on.year:
        raise DomainError(
            f"Số {number} ghi năm {year} nhưng ngày ban hành là {format_date(issued_on)}. "
            "Kiểm tra lại số hoặc ngày."
        )
    return base


def already_registered(what: str, number: str, issued_on: date) -> DomainError:
    return DomainError(
        f"{what} {number} đã được ghi (ngày {format_date(issued_on)}). Kiểm tra lại số hiệu."
    )
