"""The secretariat's periodic figures: task statuses and reprimand counts.

Task report: the tasks of a period are those assigned in it plus those still
open when it began (carried-over work); each is counted by its status at the
cut-off. An `--as-of` report takes every task assigned up to that date.
Cancelled tasks are shown but left out of both overdue rates.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .dates import format_date
from .documents import BIEU_DUONG, NHAC_NHO, PHE_BINH, RUT_KINH_NGHIEM
from .tasks import (
    CANCELLED,
    DONE,
    DONE_LATE,
    DONE_ON_TIME,
    IN_PROGRESS,
    ONGOING,
    OVERDUE,
    STATUSES,
    Task,
)

ROMAN_QUARTERS = {1: "I", 2: "II", 3: "III", 4: "IV"}


@dataclass(frozen=True)
class Period:
    start: date | None  # None: everything up to the cut-off
    end: date
    label: str  # Vietnamese: "quý I năm 2023", "tháng 10 năm 2023", "năm 2023"…

    def covers(self, task: Task) -> bool:
        if task.assigned_on > self.end:
            return False
        if self.start is None or task.assigned_on >= self.start:
            return True
        return task.status(self.start - _ONE_DAY) in (IN_PROGRESS, OVERDUE, ONGOING)


_ONE_DAY = timedelta(days=1)


def period_label(kind: str, start: date, end: date) -> str:
    if kind == "month":
        return f"tháng {start.month} năm {start.year}"
    if kind == "quarter":
        return f"quý {ROMAN_QUARTERS[(start.month - 1) // 3 + 1]} năm {start.year}"
    if kind == "year":
        return f"năm {start.year}"
    return f"thời gian từ ngày {format_date(start)} đến ngày {format_date(end)}"


def rate(part: int, whole: int) -> float | None:
    if whole == 0:
        return None
    percent = Decimal(part * 100) / Decimal(whole)
    return float(percent.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def status_counts(statuses: Iterable[str]) -> dict[str, Any]:
    counts = Counter(statuses)
    row: dict[str, Any] = {status: counts.get(status, 0) for status in STATUSES}
    active = sum(row[s] for s in STATUSES if s != CANCELLED)
    with_deadline = sum(row[s] for s in (IN_PROGRESS, OVERDUE, DONE_ON_TIME, DONE_LATE))
    row["total"] = active
    row["with_deadline"] = with_deadline
    row["completed"] = row[DONE_ON_TIME] + row[DONE_LATE] + row[DONE]
    row["overdue_rate_all"] = rate(row[OVERDUE], active)
    row["overdue_rate_with_deadline"] = rate(row[OVERDUE], with_deadline)
    return row


def task_report(tasks: Iterable[Task], period: Period, agency: str | None = None):
    """Counts by status at the period's end, per lead agency and in total."""
    per_agency: dict[str, list[str]] = {}
    everything: list[str] = []
    for task in tasks:
        if not period.covers(task):
            continue
        if agency is not None and agency not in task.leads:
            continue
        status = task.status(period.end)
        everything.append(status)
        for lead in task.leads:
            if agency is None or lead == agency:
                per_agency.setdefault(lead, []).append(status)
    return {
        "period": period.label,
        "from": None if period.start is None else period.start.isoformat(),
        "cutoff": period.end.isoformat(),
        "agencies": [
            {"agency": code, **status_counts(statuses)}
            for code, statuses in sorted(per_agency.items())
        ],
        "total": status_counts(everything),
    }


REMINDER_KINDS = (NHAC_NHO, RUT_KINH_NGHIEM)


def _target_key(target: dict[str, Any]) -> tuple[str, str | None, str]:
    """Units are agencies; individuals (head, deputy, named person) are people, told
    apart by their agency too: two heads may share a name, as many Vietnamese do."""
    if target["kind"] == "agency":
        return ("unit", target["agency"], "")
    return ("individual", target["agency"], (target["person"] or "").casefold())


def _distinct_targets(targets: Iterable[dict[str, Any]]) -> set[tuple[str, str | None, str]]:
    """The units and individuals reached. A person named without an agency is one of
    those of that name named with theirs (a document to a cascaded deputy alone), if
    any: not one more."""
    keys = {_target_key(t) for t in targets}
    placed = {person for kind, agency, person in keys if kind == "individual" and agency}
    return {key for key in keys if key[1] is not None or key[2] not in placed}


# The report's groups of documents, in its order, with their names in the report.
REPRIMAND_GROUPS = {
    "reminder": "Nhắc nhở, rút kinh nghiệm",
    "criticism": "Phê bình",
    "commendation": "Biểu dương",
}


def reprimand_report(documents: Iterable[dict[str, Any]], start: date, end: date, label: str):
    """Documents of each kind in the window and the distinct units/individuals reached."""
    groups = {"reminder": REMINDER_KINDS, "criticism": (PHE_BINH,), "commendation": (BIEU_DUONG,)}
    docs = [d for d in documents if start <= date.fromisoformat(d["issued_on"]) <= end]
    result: dict[str, Any] = {"period": label, "from": start.isoformat(), "to": end.isoformat()}
    for name, kinds in groups.items():
        chosen = sorted(
            (d for d in docs if d["kind"] in kinds), key=lambda d: (d["issued_on"], d["number"])
        )
        targets = _distinct_targets(t for d in chosen for t in d["targets"])
        result[f"{name}_docs"] = len(chosen)
        result[f"{name}_targets"] = len(targets)
        result[f"{name}_units"] = sum(1 for k in targets if k[0] == "unit")
        result[f"{name}_individuals"] = sum(1 for k in targets if k[0] == "individual")
        result[f"{name}_documents"] = [
            {
                "number": d["number"],
                "kind": d["kind"],
                "issued_on": d["issued_on"],
                "targets": d["targets"],
                "event_id": d.get("event_id"),
            }
            for d in chosen
        ]
    result["sentence"] = reprimand_sentence(result, label)
    return result


def _n(value: int) -> str:
    """The city's reports write counts under ten with two digits: 09, 05."""
    return f"{value:02d}"


def reprimand_sentence(figures: dict[str, Any], label: str) -> str:
    """The sentence of the city's reports (seed 000); a kind of which nothing was
    issued is left out, rather than written "00 văn bản … đối với 00 đơn vị"."""
    leadership = f"Trong {label}, Lãnh đạo Ủy ban nhân dân thành phố"

    def issued(kind: str, words: str) -> str | None:
        docs = figures[f"{kind}_docs"]
        if not docs:
            return None
        targets = figures[f"{kind}_targets"]
        return f"{_n(docs)} văn bản {words} đối với {_n(targets)} đơn vị, cá nhân"

    reprimands = [
        part
        for part in (
            issued("reminder", "nhắc nhở, rút kinh nghiệm"),
            issued("criticism", "phê bình"),
        )
        if part is not None
    ]
    commendations = issued("commendation", "biểu dương")
    if not reprimands and commendations is None:
        return (
            f"{leadership} không ban hành văn bản nhắc nhở, rút kinh nghiệm, phê bình hay biểu "
            "dương nào."
        )
    said = (
        ", ".join(reprimands) or "không ban hành văn bản nhắc nhở, rút kinh nghiệm hay phê bình nào"
    )
    if not reprimands:
        return f"{leadership} {said}; đã ban hành {commendations}."
    sentence = f"{leadership} đã ban hành {said}"
    return sentence + (f"; {commendations}" if commendations else "") + "."
