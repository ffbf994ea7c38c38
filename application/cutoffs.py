"""The day a report, score or rating counts statuses on: one rule for every command.

Statuses are defined for a day that has come (DOMAIN.md's taxonomy): on a day still
ahead every task due before it would read as overdue, and nothing completed after
today is known yet. So a cut-off is never after today, never before the period it
closes, and a period that has not begun has no figures at all.
"""

from __future__ import annotations

from datetime import date

from workflow.dates import format_date
from workflow.errors import DomainError


def provisional(cutoff: date, end: date, today: date) -> bool:
    """Whether figures cut off on `cutoff` for a period ending on `end` may still change:
    cut off before its end, or the period not over — its last day lasts until midnight,
    and a task completed on it is completed in time."""
    return cutoff < end or today <= end


def check_not_future(as_of: date, today: date) -> None:
    if as_of > today:
        raise DomainError(
            f"Ngày chốt {format_date(as_of)} ở tương lai (hôm nay là {format_date(today)}): "
            "tại một ngày chưa đến, mọi nhiệm vụ đến hạn trước đó đều sẽ bị tính là quá hạn. "
            "Hãy chọn --as-of không sau hôm nay."
        )


def period_cutoff(start: date, end: date, label: str, as_of: date | None, today: date) -> date:
    """`as_of`, or the period's last day if it is over, else today (figures so far)."""
    if as_of is not None:
        check_not_future(as_of, today)
        if as_of < start:
            raise DomainError(
                f"Ngày chốt --as-of {format_date(as_of)} trước ngày đầu {label} "
                f"({format_date(start)}). Hãy chọn một ngày trong kỳ."
            )
        return as_of
    if today < start:
        raise DomainError(
            f"{label[:1].upper()}{label[1:]} chưa bắt đầu (hôm nay là {format_date(today)}); "
            "chưa có số liệu."
        )
    return min(end, today)
