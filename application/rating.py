"""Scores and year-end ratings: gathers the ledger's facts as of a cut-off and
hands them to the pure scoring rules; finalised ratings become events."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from events.memory import collector_paused
from workflow import scoring
from workflow.dates import format_date
from workflow.errors import DomainError
from workflow.rulebook import Rulebook, load_rulebook, rulebook_in_force, rulebook_in_force_if_any
from workflow.text import code

from . import loading, streams
from . import tables as t
from .cutoffs import period_cutoff
from .reporting import documents as document_rows

FINALIZED = "rating.finalized"


def choose_rulebook(cutoff: date, path: str | Path | None = None) -> Rulebook:
    """The file given, or the rulebook in force at the cut-off."""
    return load_rulebook(path) if path else rulebook_in_force(cutoff)


def scored(tasks) -> list[scoring.ScoredTask]:
    return [
        scoring.ScoredTask(
            task_id=task.id,
            leads=tuple(task.leads),
            effective_deadline=task.effective_deadline,
            completed_on=task.completed_on,
            cancelled_on=task.cancelled_on,
            lead_periods=task.lead_periods,
        )
        for task in tasks
    ]


def _scored_tasks(connection: Connection, cutoff: date, window_start: date):
    # Only tasks that may be due in the window: those settled before it began (closed,
    # with every deadline before it) cannot be, and are most of a long history.
    return scored(
        loading.task_states(connection, cutoff, active_since=window_start, with_deadline=True)
    )


def _documents(
    connection: Connection, cutoff: date, since: date | None = None
) -> list[scoring.Document]:
    return [
        scoring.Document(
            number=row["number"],
            kind=row["kind"],
            issued_on=date.fromisoformat(row["issued_on"]),
            targets=tuple(
                scoring.Target(
                    kind=target["kind"],
                    agency=target["agency"],
                    person=target["person"],
                    field=target.get("field"),
                    cascaded=target.get("cascaded", False),
                )
                for target in row["targets"]
            ),
            tasks=tuple(row.get("tasks", [])),
        )
        for row in document_rows(connection, cutoff, since)
    ]


def _assessments(connection: Connection) -> list[scoring.Assessment]:
    rows = connection.execute(sa.select(t.assessments).order_by(t.assessments.c.position))
    return [scoring.Assessment(r.agency, r.year, r.criterion, r.points, r.reason) for r in rows]


def _tenures(connection: Connection, rulebook: Rulebook) -> list[scoring.Tenure]:
    """The terms of the heads the rulebook rates (QĐ 44/2019: of departments, public
    service units and districts, not of every agency that is given tasks)."""
    return [
        scoring.Tenure(agency.code, tenure.person, tenure.start, tenure.end)
        for agency in loading.load_agencies(connection).values()
        if rulebook.rates_heads_of(agency.kind)
        for tenure in agency.heads
    ]


# Scoring reads every task of a year into objects: nothing cyclic to collect (events.memory).
@collector_paused()
def score(
    connection: Connection,
    window: scoring.Window,
    cutoff: date,
    rulebook: Rulebook,
    agency: str | None = None,
) -> list[dict[str, Any]]:
    agencies = loading.load_agencies(connection)
    if agency is not None:
        agency = code(agency)  # as typed: any case, NFD or NFC
        _check_open_in(loading.load_agency(connection, agency), window, cutoff)
        codes = [agency]
    else:
        codes = sorted(code for code, a in agencies.items() if _open_in(a, window, cutoff))
    results = scoring.score_agencies(
        _scored_tasks(connection, cutoff, window.start),
        _documents(connection, cutoff, window.start),
        _assessments(connection),
        window,
        cutoff,
        rulebook,
        codes,
    )
    return [dict(r.to_dict(), name=agencies[r.agency].name_on(cutoff)) for r in results]


def first_assigned(connection: Connection) -> date | None:
    """The day the ledger's first task was assigned (None: no task yet)."""
    return connection.execute(sa.select(sa.func.min(t.tasks.c.assigned_on))).scalar()


def before_the_records(connection: Connection, window: scoring.Window) -> str | None:
    """A warning when the period ends before the first task the ledger holds: every
    agency then has every task point (no task due, none late), which says nothing of
    its work — the ledger's records had not begun."""
    first = first_assigned(connection)
    if first is not None and first <= window.end:
        return None
    return (
        f"Kỳ này kết thúc trước khi sổ có nhiệm vụ ({_records_begin(first)}): mọi cơ quan "
        "được đủ điểm nhiệm vụ vì không có nhiệm vụ nào đến hạn, không phải vì đã làm tốt."
    )


def _records_begin(first: date | None) -> str:
    """When the ledger's tasks begin, in words (`first`: its first task's day)."""
    return f"nhiệm vụ đầu tiên giao ngày {format_date(first)}" if first else "chưa có nhiệm vụ nào"


def _open_in(agency, window: scoring.Window, cutoff: date) -> bool:
    """Whether the agency stood on some day of the window known at the cut-off: it
    closes on `closed_on`, and is there from `since` on."""
    return agency.stands_in(window.start, min(window.end, cutoff))


def _check_open_in(agency, window: scoring.Window, cutoff: date) -> None:
    """An agency closed before the window, or established after it (or after the
    cut-off), has no score in it: with nothing to answer for, it would read 100
    points (HTXS)."""
    agency.check_stands_in(window.start, min(window.end, cutoff), "điểm")


@collector_paused()
def rate(connection: Connection, year: int, cutoff: date, rulebook: Rulebook) -> list[dict]:
    agencies = loading.load_agencies(connection)
    ratings = scoring.rate_heads(
        _scored_tasks(connection, cutoff, date(year, 1, 1)),
        _documents(connection, cutoff, date(year, 1, 1)),
        _assessments(connection),
        _tenures(connection, rulebook),
        year,
        cutoff,
        rulebook,
    )
    return [dict(r.to_dict(), name=agencies[r.agency].name_on(cutoff)) for r in ratings]


def rating_cutoff(year: int, as_of: date | None, today: date) -> date:
    if as_of is not None and as_of.year != year:
        raise DomainError(f"Ngày chốt số liệu --as-of phải thuộc năm {year}.")
    return period_cutoff(date(year, 1, 1), date(year, 12, 31), f"năm {year}", as_of, today)


def finalize(ledger, year: int, rulebook: Rulebook, reason: str | None) -> dict[str, Any]:
    """Record the year's ratings as an event: the official result, never overwritten."""
    today = ledger.today()
    cutoff = rating_cutoff(year, None, today)
    if today <= date(year, 12, 31):  # 31/12 too: what is done that day counts
        raise DomainError(
            f"Năm {year} chưa kết thúc (hôm nay {today:%d/%m/%Y}); chỉ chốt kết quả sau "
            "ngày 31/12. Dùng `rating compute` để xem kết quả tạm tính."
        )
    with ledger.command() as tx:
        revisions = tx.connection.execute(
            sa.select(sa.func.count()).select_from(t.ratings).where(t.ratings.c.year == year)
        ).scalar_one()
        first = first_assigned(tx.connection)
        if first is None or first > date(year, 12, 31):
            # Every head would rank HTXS with all the task points, none being due: an
            # official result of no work at all — a year typed wrong, or finalized
            # before the year's tasks were brought in (import xlsx).
            raise DomainError(
                f"Năm {year} kết thúc trước khi sổ có nhiệm vụ ({_records_begin(first)}): "
                "mọi người đứng đầu sẽ được đủ điểm nhiệm vụ vì không có nhiệm vụ nào đến hạn, "
                "không phải vì đã làm tốt; không chốt kết quả như vậy. Hãy kiểm tra lại năm "
                "(--year)"
                + ("" if first else f", hoặc ghi các nhiệm vụ của năm {year} trước khi chốt")
                + "."
            )
        if revisions and not (reason or "").strip():
            raise DomainError(
                f"Kết quả năm {year} đã được chốt ({revisions} lần). Chốt lại là một lần "
                "sửa đổi mới: hãy ghi lý do bằng --reason."
            )
        ratings = rate(tx.connection, year, cutoff, rulebook)
        for rating in ratings:
            rating.pop("tasks", None)  # the per-task evidence stays derivable from the log
        data = {
            "year": year,
            "revision": revisions + 1,
            "reason": (reason or "").strip() or None,
            "cutoff": cutoff.isoformat(),
            "rulebook": rulebook.stamp,
            "ratings": ratings,
        }
        stream = streams.rating(year)
        events = ledger._append(tx, stream, FINALIZED, data, None)
    return {
        **data,
        "event_id": events[0].event_id,
        "finalized_at": events[0].recorded_at.isoformat(),
    }


def _not_finalized(connection: Connection, year: int, revision: int | None) -> str:
    """Why there is no rating to show: the year never finalised, or not that revision."""
    finalized = connection.execute(
        sa.select(sa.func.max(t.ratings.c.revision)).where(t.ratings.c.year == year)
    ).scalar()
    if finalized is None:
        return (
            f"Chưa có kết quả xếp loại năm {year} được chốt. "
            f"Dùng `nhiemvu rating finalize --year {year}` để chốt."
        )
    kept = "chỉ có lần 1" if finalized == 1 else f"có các lần 1 đến {finalized}"
    return f"Năm {year} không có lần chốt {revision}: {kept}. Bỏ --revision để xem lần mới nhất."


def finalized_revision(connection: Connection, year: int) -> int | None:
    """The last revision of the year's finalized rating; None if it never was."""
    query = sa.select(sa.func.max(t.ratings.c.revision)).where(t.ratings.c.year == year)
    return connection.execute(query).scalar()


def rulebook_edited(finalized: dict[str, Any]) -> bool:
    """Whether the book in force at a finalised rating's cut-off has its id and version
    but not its content: edited since without a new version. Ratings finalised before
    books had a digest cannot tell."""
    book = rulebook_in_force_if_any(date.fromisoformat(finalized["cutoff"]))
    stamp = finalized["rulebook"]
    return (
        book is not None
        and (book.id, book.version) == (stamp["id"], stamp["version"])
        and bool(stamp.get("digest"))
        and stamp["digest"] != book.digest
    )


def changed_since(connection: Connection, finalized: dict[str, Any]) -> list[str] | None:
    """How the heads' results computed from the log now differ from a finalized rating
    (one line each; empty: they do not), the cut-off and rulebook being the same.
    None when its rulebook is no longer the one in force at its cut-off: no same
    computation to compare with. A correction recorded since finalizing is the cause."""
    cutoff = date.fromisoformat(finalized["cutoff"])
    book = rulebook_in_force_if_any(cutoff)
    stamp = finalized["rulebook"]
    if book is None or (book.id, book.version) != (stamp["id"], stamp["version"]):
        return None
    now = {(r["agency"], r["head"]): r for r in rate(connection, finalized["year"], cutoff, book)}
    then = {(r["agency"], r["head"]): r for r in finalized["ratings"]}

    def result(row) -> tuple | None:
        return None if row is None else (row["score"], row["band"])

    def said(row) -> str:
        return "không có" if row is None else f"{_points(row['score'])} {row['band']}"

    return [
        f"{key[0]} — {key[1]}: đã chốt {said(then.get(key))}, nay {said(now.get(key))}"
        for key in sorted(then.keys() | now.keys())
        if result(then.get(key)) != result(now.get(key))
    ]


def _points(score: float) -> str:
    return f"{score:.2f}".replace(".", ",")


def show(connection: Connection, store, year: int, revision: int | None = None) -> dict:
    query = sa.select(t.ratings).where(t.ratings.c.year == year)
    if revision is not None:
        query = query.where(t.ratings.c.revision == revision)
    row = connection.execute(query.order_by(t.ratings.c.revision.desc())).mappings().first()
    if row is None:
        raise DomainError(_not_finalized(connection, year, revision))
    event = store.get_event(row["event_id"], connection=connection)
    return {
        **row["data"],
        "event_id": row["event_id"],
        "finalized_at": event.recorded_at.isoformat(),
        "actor": event.actor,
    }
