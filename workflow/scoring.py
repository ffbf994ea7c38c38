"""Accountability scores of agencies and year-end ratings of their heads (pure).

The ledger layer builds the inputs (tasks with their effective deadlines already
resolved, documents with their targets, tenures, assessments); this module only
applies a `Rulebook` to them. Every number is a Decimal until `to_dict`, so that
rounding half up happens once, on the final score, as the rulebook says.

Choices where the domain brief leaves room (also in the project report):
- a due task whose deadline is the cut-off day itself and that is still open at
  the cut-off counts as overdue: the cut-off includes that whole day;
- decisive dates before the window (an early on-time completion of a task due in
  the window) move to the window's first day, like carried-over work, so that the
  heads' outcomes add up to the agency's;
- an outcome or document on a day when nobody headed the agency is attributed to
  nobody (it still counts in the agency's own score);
- days in office are counted over the whole rating year from the tenures given
  (an open tenure runs to 31/12), even with an earlier cut-off: a provisional
  rating should not call a sitting head "not rated" only because the year is young;
  tenures that start after the cut-off are left out;
- heads equal on every tie-break key get distinct ranks by agency code, then name;
- the general criteria G are assessed per agency and year, so every head of the
  agency in that year gets the agency's G; a window's assessments are those of the
  year the window ends in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from .dates import format_date, iso
from .rulebook import BAND_ORDER, KXL, Rulebook
from .tasks import leads_on
from .text import id_order

ON_TIME, LATE, OVERDUE = "done_on_time", "done_late", "overdue"
NHAC_NHO, RUT_KINH_NGHIEM, PHE_BINH, BIEU_DUONG = (
    "nhac_nho",
    "rut_kinh_nghiem",
    "phe_binh",
    "bieu_duong",
)
DOCUMENT_KINDS = {
    NHAC_NHO: "nhắc nhở",
    RUT_KINH_NGHIEM: "rút kinh nghiệm",
    PHE_BINH: "phê bình",
    BIEU_DUONG: "biểu dương",
}
TARGET_KINDS = ("agency", "head", "deputy", "person")
# Only these reach an agency's (and so its head's) score; deputies and other
# individuals are reported, not deducted.
_SCORED_TARGETS = ("agency", "head")

GATE_HTXS_OVERDUE = "htxs_overdue"
GATE_HTXS_PHE_BINH = "htxs_phe_binh"
GATE_PHE_BINH_CAP = "phe_binh_cap"
GATE_LOW_COMPLETION = "low_completion"

MINUS = "−"


# -- inputs ----------------------------------------------------------------------


# ScoredTask and TaskOutcome are named tuples, not frozen dataclasses: a rating makes
# one of each per task of the year, and a frozen dataclass takes twice as long to build.


class ScoredTask(NamedTuple):
    task_id: str
    leads: tuple[str, ...]
    effective_deadline: date | None  # the caller has applied the extension rule
    completed_on: date | None
    cancelled_on: date | None
    # When the leads changed: (the day they took over, the leads), as
    # workflow.tasks.TaskState.lead_periods; each outcome goes to the leads of its
    # decisive date.
    lead_periods: tuple[tuple[date, tuple[str, ...]], ...] = ()


@dataclass(frozen=True)
class Target:
    kind: str  # agency | head | deputy | person
    agency: str | None
    person: str | None
    field: str | None = None
    cascaded: bool = False

    def __post_init__(self) -> None:
        if self.kind not in TARGET_KINDS:
            raise ValueError(
                f"Loại nơi nhận '{self.kind}' không hợp lệ; chọn một trong: "
                f"{', '.join(TARGET_KINDS)}."
            )


@dataclass(frozen=True)
class Document:
    number: str
    kind: str  # nhac_nho | rut_kinh_nghiem | phe_binh | bieu_duong
    issued_on: date
    targets: tuple[Target, ...]
    tasks: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in DOCUMENT_KINDS:
            raise ValueError(
                f"Loại văn bản '{self.kind}' không hợp lệ; chọn một trong: "
                f"{', '.join(DOCUMENT_KINDS)}."
            )

    def agencies_reached(self) -> set[str]:
        """The agencies it counts for: addressed to them or to their heads (a cascaded
        deputy does not count)."""
        return {t.agency for t in self.targets if t.kind in _SCORED_TARGETS and not t.cascaded}


@dataclass(frozen=True)
class Tenure:
    agency: str
    person: str
    start: date
    end: date | None  # inclusive; None while still head


@dataclass(frozen=True)
class Assessment:
    agency: str
    year: int
    criterion: str
    points: float
    reason: str


@dataclass(frozen=True)
class Window:
    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(
                f"Kỳ đánh giá không hợp lệ: ngày bắt đầu {format_date(self.start)} sau "
                f"ngày kết thúc {format_date(self.end)}."
            )

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end

    @classmethod
    def of_year(cls, year: int) -> Window:
        return cls(date(year, 1, 1), date(year, 12, 31))

    def text(self) -> str:
        return f"{format_date(self.start)}–{format_date(self.end)}"


# -- evidence and results ---------------------------------------------------------


class TaskOutcome(NamedTuple):
    """One due task as it counts for one lead agency."""

    task_id: str
    agency: str
    status: str  # done_on_time | done_late | overdue
    deadline: date
    completed_on: date | None
    carried_over: bool  # deadline before the window, still open when it began
    decisive_on: date  # the day that decides which head answers for it

    def to_dict(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "status": self.status,
            "deadline": iso(self.deadline),
            "completed_on": iso(self.completed_on),
            "carried_over": self.carried_over,
            "decisive_on": iso(self.decisive_on),
        }


@dataclass(frozen=True)
class CountedDocument:
    number: str
    kind: str
    issued_on: date
    points: Decimal  # signed: negative for a deduction, positive for a commendation

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "kind": self.kind,
            "issued_on": iso(self.issued_on),
            "points": float(self.points),
        }


@dataclass(frozen=True)
class _Evaluation:
    """The figures shared by an agency score and a head rating."""

    N: int
    on_time: int
    late: int
    overdue: int
    reminders: int
    criticisms: int
    commendations: int
    T: Decimal
    G: Decimal
    deductions: Decimal
    bonus: Decimal
    score: Decimal
    band: str
    gates: tuple[str, ...]
    tasks: tuple[TaskOutcome, ...]
    documents: tuple[CountedDocument, ...]
    figure_lines: tuple[str, ...]
    band_lines: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class ScoredFigures:
    """What an agency's score and a head's rating both consist of."""

    score: Decimal
    band: str  # KXL for a head not rated
    band_label: str
    N: int
    on_time: int
    late: int
    overdue: int
    reminders: int
    criticisms: int
    commendations: int
    T: Decimal
    G: Decimal
    deductions: Decimal
    bonus: Decimal
    gates: tuple[str, ...]
    explanation: tuple[str, ...]
    rulebook_id: str
    rulebook_version: str
    tasks: tuple[TaskOutcome, ...] = ()
    documents: tuple[CountedDocument, ...] = ()

    def figures_dict(self) -> dict[str, Any]:
        return {
            "score": float(self.score),
            "band": self.band,
            "band_label": self.band_label,
            "N": self.N,
            "on_time": self.on_time,
            "late": self.late,
            "overdue": self.overdue,
            "reminders": self.reminders,
            "criticisms": self.criticisms,
            "commendations": self.commendations,
            "T": float(self.T),
            "G": float(self.G),
            "deductions": float(self.deductions),
            "bonus": float(self.bonus),
            "gates": list(self.gates),
            "explanation": list(self.explanation),
            "rulebook": {"id": self.rulebook_id, "version": self.rulebook_version},
            "tasks": [t.to_dict() for t in self.tasks],
            "documents": [d.to_dict() for d in self.documents],
        }


@dataclass(frozen=True, kw_only=True)
class AgencyScore(ScoredFigures):
    agency: str
    window: Window
    cutoff: date

    def to_dict(self) -> dict[str, Any]:
        return {
            "agency": self.agency,
            "window": {"start": iso(self.window.start), "end": iso(self.window.end)},
            "cutoff": iso(self.cutoff),
            **self.figures_dict(),
        }


@dataclass(frozen=True, kw_only=True)
class HeadRating(ScoredFigures):
    agency: str
    head: str
    year: int
    cutoff: date
    rated: bool
    days_in_office: int
    rank: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "agency": self.agency,
            "head": self.head,
            "year": self.year,
            "cutoff": iso(self.cutoff),
            "rated": self.rated,
            "days_in_office": self.days_in_office,
            "rank": self.rank,
            **self.figures_dict(),
        }


# -- agencies ---------------------------------------------------------------------


def score_agencies(
    tasks: Iterable[ScoredTask],
    documents: Iterable[Document],
    assessments: Iterable[Assessment],
    window: Window,
    cutoff: date,
    rulebook: Rulebook,
    agencies: Sequence[str],
) -> list[AgencyScore]:
    """Each agency's score over the window, as of the cut-off, in the order given."""
    led, reaching = _by_lead(tasks), _documents_reaching(documents, window, cutoff)
    general = _latest_assessments(assessments)
    results = []
    for agency in agencies:
        outcomes = _due_outcomes(led.get(agency, ()), agency, window, cutoff)
        counted = reaching.get(agency, ())
        evaluation = _evaluate(
            outcomes, counted, general.get((agency, window.end.year), {}), rulebook, cutoff
        )
        header = f"Cơ quan {agency}, kỳ {window.text()}, số liệu đến ngày {format_date(cutoff)}."
        explanation = (
            header,
            *evaluation.figure_lines,
            *evaluation.band_lines,
            _rulebook_line(rulebook),
        )
        results.append(
            AgencyScore(
                agency=agency,
                window=window,
                cutoff=cutoff,
                band_label=rulebook.bands.label(evaluation.band),
                explanation=explanation,
                rulebook_id=rulebook.id,
                rulebook_version=rulebook.version,
                **_shared_fields(evaluation),
            )
        )
    return results


# -- heads --------------------------------------------------------------------------


def rate_heads(
    tasks: Iterable[ScoredTask],
    documents: Iterable[Document],
    assessments: Iterable[Assessment],
    tenures: Iterable[Tenure],
    year: int,
    cutoff: date,
    rulebook: Rulebook,
) -> list[HeadRating]:
    """Year-end ratings of the persons who headed agencies in `year`.

    Ranked heads first (rank 1 = best), then the heads not rated (KXL) by agency
    and name.
    """
    window = Window.of_year(year)
    led, reaching = _by_lead(tasks), _documents_reaching(documents, window, cutoff)
    general = _latest_assessments(assessments)
    by_agency: dict[str, list[Tenure]] = defaultdict(list)
    for tenure in tenures:
        if tenure.start <= cutoff:
            if tenure.end is not None and tenure.end >= cutoff:
                # Ended by an appointment or a merger after the cut-off, which has not
                # happened yet as of it: still in office, as an open tenure is. A term
                # ends the day before its successor's or the closure: one ending on the
                # cut-off ends with something of the next day.
                tenure = replace(tenure, end=None)
            by_agency[tenure.agency].append(tenure)

    ratings = []
    for agency in sorted(by_agency):
        agency_tenures = by_agency[agency]
        outcomes = _due_outcomes(led.get(agency, ()), agency, window, cutoff)
        counted = reaching.get(agency, ())
        assessed = general.get((agency, year), {})
        # Each outcome and document goes to whoever was head on its decisive date
        # (asked once a day: a year's outcomes fall on a few hundred days).
        head_on = _HeadsByDay(agency_tenures)
        their_outcomes: dict[str | None, list[TaskOutcome]] = defaultdict(list)
        for outcome in outcomes:
            their_outcomes[head_on[outcome.decisive_on]].append(outcome)
        their_documents: dict[str | None, list[Document]] = defaultdict(list)
        for document in counted:
            their_documents[head_on[document.issued_on]].append(document)
        for person, periods in _heads_in_year(agency_tenures, window).items():
            evaluation = _evaluate(
                their_outcomes[person], their_documents[person], assessed, rulebook, cutoff
            )
            days = _days_in_office(periods)
            rated = days >= rulebook.min_tenure_days
            ratings.append(
                _head_rating(
                    agency, person, year, cutoff, periods, days, rated, evaluation, rulebook
                )
            )
    return _ranked(ratings, rulebook)


def _head_rating(
    agency: str,
    person: str,
    year: int,
    cutoff: date,
    periods: list[tuple[date, date]],
    days: int,
    rated: bool,
    evaluation: _Evaluation,
    rulebook: Rulebook,
) -> HeadRating:
    spans = ", ".join(f"{format_date(a)}–{format_date(b)}" for a, b in periods)
    lines = [
        f"{person}, người đứng đầu {agency}, năm {year}: giữ chức vụ {days} ngày ({spans}); "
        f"số liệu đến ngày {format_date(cutoff)}.",
        *evaluation.figure_lines,
    ]
    if rated:
        lines.extend(evaluation.band_lines)
        band = evaluation.band
    else:
        lines.append(
            f"Giữ chức vụ {days} ngày trong năm {year}, ít hơn {rulebook.min_tenure_days} ngày: "
            f"{rulebook.bands.label(KXL)} (KXL); số liệu chỉ để tham khảo."
        )
        band = KXL
    lines.append(_rulebook_line(rulebook))
    shared = _shared_fields(evaluation)
    shared.update(band=band, gates=evaluation.gates if rated else ())
    return HeadRating(
        agency=agency,
        head=person,
        year=year,
        cutoff=cutoff,
        rated=rated,
        days_in_office=days,
        band_label=rulebook.bands.label(band),
        rank=None,
        explanation=tuple(lines),
        rulebook_id=rulebook.id,
        rulebook_version=rulebook.version,
        **shared,
    )


def _heads_in_year(tenures: list[Tenure], window: Window) -> dict[str, list[tuple[date, date]]]:
    """Each person's periods as head within the window (clipped), in order of start."""
    periods: dict[str, list[tuple[date, date]]] = defaultdict(list)
    for tenure in sorted(tenures, key=lambda t: t.start):
        start = max(tenure.start, window.start)
        end = min(tenure.end or window.end, window.end)
        if start <= end:
            periods[tenure.person].append((start, end))
    return dict(periods)


def _days_in_office(periods: list[tuple[date, date]]) -> int:
    """The days covered by the periods, overlapping tenure records counted once."""
    days, reached = 0, date.min  # `reached`: the last day counted so far
    for start, end in sorted(periods):
        if end > reached:
            days += (end - max(start, reached + timedelta(days=1))).days + 1
            reached = end
    return days


class _HeadsByDay(dict):
    """`heads[day]`: the agency's head on that day (see _head_on), each day looked up once."""

    def __init__(self, tenures: list[Tenure]) -> None:
        super().__init__()
        self.tenures = tenures

    def __missing__(self, day: date) -> str | None:
        head = self[day] = _head_on(self.tenures, day)
        return head


def _head_on(tenures: list[Tenure], day: date) -> str | None:
    """The head on `day`; with overlapping records, the most recently appointed."""
    current = [t for t in tenures if t.start <= day and (t.end is None or day <= t.end)]
    if not current:
        return None
    return max(current, key=lambda t: t.start).person


def _ranked(ratings: list[HeadRating], rulebook: Rulebook) -> list[HeadRating]:
    rated = [r for r in ratings if r.rated]
    unrated = [r for r in ratings if not r.rated]
    # The final, unlisted keys make ranks unique: agency code, then the person's name.
    rated.sort(key=lambda r: (r.agency, r.head.casefold(), r.head))
    for tie_break in reversed(rulebook.tie_breaks):
        # Python's sort is stable, also with reverse=True: earlier keys decide first.
        rated.sort(key=lambda r, key=tie_break.key: _rank_key(r, key), reverse=tie_break.descending)
    unrated.sort(key=lambda r: (r.agency, r.head.casefold(), r.head))
    ranked = [replace(r, rank=position) for position, r in enumerate(rated, start=1)]
    return ranked + unrated


def _rank_key(rating: HeadRating, key: str) -> Any:
    if key == "n":
        return rating.N
    return getattr(rating, key)


# -- the computation shared by both ------------------------------------------------


def _by_lead(tasks: Iterable[ScoredTask]) -> dict[str, list[ScoredTask]]:
    """The tasks each agency leads or has led (a task with two leads is in both lists)."""
    led: dict[str, list[ScoredTask]] = defaultdict(list)
    for task in tasks:
        agencies = task.leads
        if task.lead_periods:
            agencies = [a for _, leads in task.lead_periods for a in leads]
        for agency in dict.fromkeys(agencies):
            led[agency].append(task)
    return led


def _due_outcomes(
    tasks: Sequence[ScoredTask], agency: str, window: Window, cutoff: date
) -> list[TaskOutcome]:
    """The agency's due tasks D, each classified as of the cut-off."""
    outcomes = []
    start, end = window.start, window.end  # locals: this loop runs for every task of a year
    for task in tasks:
        deadline = task.effective_deadline
        if deadline is None or deadline > cutoff:
            continue
        # Defensive: facts dated after the cut-off have not happened yet.
        if task.cancelled_on is not None and task.cancelled_on <= cutoff:
            continue
        completed = task.completed_on
        if completed is not None and completed > cutoff:
            completed = None
        carried_over = deadline < start and (completed is None or completed >= start)
        if not (carried_over or start <= deadline <= end):
            continue
        if completed is None:
            status, decisive = OVERDUE, deadline
        elif completed <= deadline:
            status, decisive = ON_TIME, completed
        else:
            status, decisive = LATE, deadline
        decisive = max(decisive, window.start)
        # The agency that led the task on that day answers for it: a deadline missed
        # before a reassignment (or a merger) stays with the agency that missed it.
        if task.lead_periods and agency not in leads_on(task.leads, task.lead_periods, decisive):
            continue
        outcomes.append(
            TaskOutcome(
                task_id=task.task_id,
                agency=agency,
                status=status,
                deadline=deadline,
                completed_on=completed,
                carried_over=carried_over,
                decisive_on=decisive,
            )
        )
    return sorted(outcomes, key=lambda o: (o.deadline, id_order(o.task_id)))


def _documents_reaching(
    documents: Iterable[Document], window: Window, cutoff: date
) -> dict[str, list[Document]]:
    """The documents that count for each agency (Document.agencies_reached): once each,
    however often they name it, in date order."""
    found: dict[str, set[Document]] = defaultdict(set)
    for document in documents:
        if document.issued_on not in window or document.issued_on > cutoff:
            continue
        for agency in document.agencies_reached():
            found[agency].add(document)
    return {
        agency: sorted(docs, key=lambda d: (d.issued_on, d.number))
        for agency, docs in found.items()
    }


def _latest_assessments(
    assessments: Iterable[Assessment],
) -> dict[tuple[str, int], dict[str, Assessment]]:
    latest: dict[tuple[str, int], dict[str, Assessment]] = defaultdict(dict)
    for assessment in assessments:  # in recording order: a later one replaces an earlier
        latest[(assessment.agency, assessment.year)][assessment.criterion] = assessment
    return latest


def _evaluate(
    outcomes: list[TaskOutcome],
    documents: list[Document],
    assessed: dict[str, Assessment],
    rulebook: Rulebook,
    cutoff: date,
) -> _Evaluation:
    lines: list[str] = []
    counts = {status: sum(1 for o in outcomes if o.status == status) for status in _STATUSES}
    n = len(outcomes)
    lines.extend(_task_lines(outcomes, counts))

    t_exact, t_line = _task_results(counts, n, rulebook)
    lines.append(t_line)
    g, g_lines = _general(assessed, rulebook)
    lines.extend(g_lines)

    counted, deductions, bonus, doc_lines = _document_points(documents, rulebook)
    lines.extend(doc_lines)

    scale = rulebook.score
    raw = t_exact + g - deductions + bonus
    score = scale.finish(raw)
    t_shown = scale.finish(t_exact)  # shown and stored rounded; S uses the exact T
    s_line = (
        f"Điểm S = T + G − trừ + thưởng = {_points(t_shown)} + {_points(g)} "
        f"{MINUS} {_points(deductions)} + {_points(bonus)} = {_score(score, rulebook)}"
    )
    if not scale.min <= raw <= scale.max:
        s_line += (
            f" (tính được {_points(scale.finish_rounding(raw))}, giới hạn trong "
            f"{_points(scale.min)}–{_points(scale.max)})"
        )
    elif raw != score:
        s_line += f" (làm tròn {scale.decimals} chữ số thập phân{_rounding_text(scale.rounding)})"
    lines.append(s_line + ".")

    criticisms = sum(1 for d in documents if d.kind == PHE_BINH)
    band, gates, band_lines = _band(score, counts, n, criticisms, documents, rulebook, cutoff)
    return _Evaluation(
        N=n,
        on_time=counts[ON_TIME],
        late=counts[LATE],
        overdue=counts[OVERDUE],
        reminders=sum(1 for d in documents if d.kind in (NHAC_NHO, RUT_KINH_NGHIEM)),
        criticisms=criticisms,
        commendations=sum(1 for d in documents if d.kind == BIEU_DUONG),
        T=t_shown,
        G=g,
        deductions=deductions,
        bonus=bonus,
        score=score,
        band=band,
        gates=gates,
        tasks=tuple(outcomes),
        documents=counted,
        figure_lines=tuple(lines),
        band_lines=band_lines,
    )


_STATUSES = (ON_TIME, LATE, OVERDUE)


def _task_lines(outcomes: list[TaskOutcome], counts: dict[str, int]) -> list[str]:
    lines = [
        f"Nhiệm vụ chủ trì đến hạn N = {len(outcomes)}: {counts[ON_TIME]} hoàn thành đúng hạn, "
        f"{counts[LATE]} hoàn thành quá hạn, {counts[OVERDUE]} quá hạn chưa hoàn thành."
    ]
    titles = {
        ON_TIME: "Hoàn thành đúng hạn",
        LATE: "Hoàn thành quá hạn",
        OVERDUE: "Quá hạn chưa hoàn thành",
    }
    for status, title in titles.items():
        items = [_task_text(o) for o in outcomes if o.status == status]
        if items:
            lines.append(f"{title}: {'; '.join(items)}.")
    return lines


def _task_text(outcome: TaskOutcome) -> str:
    text = f"{outcome.task_id} (hạn {format_date(outcome.deadline)}"
    if outcome.completed_on is not None:
        text += f", hoàn thành {format_date(outcome.completed_on)}"
    if outcome.carried_over:
        text += ", chuyển từ trước kỳ"
    return text + ")"


def _task_results(counts: dict[str, int], n: int, rulebook: Rulebook) -> tuple[Decimal, str]:
    rules = rulebook.task_results
    if n == 0:
        value = rules.when_no_tasks
        return value, f"Không có nhiệm vụ đến hạn: T = {_points(value)}."
    done = Decimal(counts[ON_TIME]) + rules.late_weight * counts[LATE]
    value = rules.max * done / n
    rounded = rulebook.score.finish(value)
    exact = value == rounded
    shown = _points(rounded)
    return value, (
        f"Kết quả thực hiện nhiệm vụ T = {_points(rules.max)} × ({counts[ON_TIME]} + "
        f"{_points(rules.late_weight)} × {counts[LATE]}) / {n} {'=' if exact else '≈'} {shown}."
    )


def _general(assessed: dict[str, Assessment], rulebook: Rulebook) -> tuple[Decimal, list[str]]:
    parts, notes = [], []
    total = Decimal(0)
    for criterion in rulebook.general_criteria:
        points = criterion.max
        assessment = assessed.get(criterion.code)
        if assessment is not None:
            given = Decimal(str(assessment.points))
            points = min(max(given, Decimal(0)), criterion.max)
            if points != given:
                notes.append(
                    f"Đánh giá '{criterion.label}' = {_points(given)} ngoài khoảng "
                    f"0–{_points(criterion.max)}: tính {_points(points)}."
                )
            parts.append(f"{criterion.label} {_points(points)} (lý do: {assessment.reason})")
        else:
            parts.append(f"{criterion.label} {_points(points)}")
        total += points
    for code, assessment in sorted(assessed.items()):
        if rulebook.criterion(code) is None:
            notes.append(
                f"Bỏ qua đánh giá tiêu chí '{code}' ({_points(Decimal(str(assessment.points)))} "
                "điểm): sổ quy tắc không có tiêu chí này."
            )
    return total, [f"Tiêu chí chung G = {_points(total)}: {'; '.join(parts)}.", *notes]


def _document_points(
    documents: list[Document], rulebook: Rulebook
) -> tuple[tuple[CountedDocument, ...], Decimal, Decimal, list[str]]:
    counted, lines = [], []
    deductions = Decimal(0)
    nominal_bonus = Decimal(0)
    for document in documents:
        what = (
            f"{DOCUMENT_KINDS[document.kind]} số {document.number} "
            f"ngày {format_date(document.issued_on)}"
        )
        if document.kind == BIEU_DUONG:
            signed = rulebook.bonus.bieu_duong
            nominal_bonus += signed
            lines.append(f"+{_points(signed)}: {what}")
        else:
            signed = -rulebook.deductions.for_kind(document.kind)
            deductions -= signed
            lines.append(f"{_points(signed)}: {what}")
        counted.append(CountedDocument(document.number, document.kind, document.issued_on, signed))
    bonus = min(nominal_bonus, rulebook.bonus.cap)
    if bonus < nominal_bonus:
        lines.append(
            f"Điểm thưởng {_points(nominal_bonus)} vượt mức tối đa {_points(rulebook.bonus.cap)} "
            f"trong kỳ: tính {_points(bonus)}."
        )
    if not documents:
        lines.append("Không có văn bản nhắc nhở, rút kinh nghiệm, phê bình hay biểu dương.")
    return tuple(counted), deductions, bonus, lines


def _band(
    score: Decimal,
    counts: dict[str, int],
    n: int,
    criticisms: int,
    documents: list[Document],
    rulebook: Rulebook,
    cutoff: date,
) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    bands, gates = rulebook.bands, rulebook.gates
    band = bands.band_for(score)
    if band in dict(bands.thresholds):
        threshold = f", S ≥ {_points(bands.threshold(band))}"
    else:
        threshold = f", S < {_points(bands.thresholds[-1][1])}"
    by_score = f"{bands.label(band)} ({band}{threshold})"
    lines: list[str] = []
    applied: list[str] = []

    def cap(current: str, at_most: str) -> str:
        return BAND_ORDER[max(BAND_ORDER.index(current), BAND_ORDER.index(at_most))]

    def refuse(code: str, reason: str, new_band: str) -> None:
        applied.append(code)
        lines.append(f"{reason}: {_capped_text(band, new_band, rulebook)}")

    if band == BAND_ORDER[0]:
        fallback = cap(band, gates.htxs_fallback)
        if gates.htxs_requires_no_overdue and counts[OVERDUE]:
            refuse(
                GATE_HTXS_OVERDUE,
                f"Có {counts[OVERDUE]} nhiệm vụ quá hạn tại ngày {format_date(cutoff)}",
                fallback,
            )
        if gates.htxs_requires_no_phe_binh and criticisms:
            numbers = ", ".join(d.number for d in documents if d.kind == PHE_BINH)
            refuse(GATE_HTXS_PHE_BINH, f"Bị phê bình trong kỳ (số {numbers})", fallback)
        if applied:
            band = fallback
    if criticisms >= gates.phe_binh_count and cap(band, gates.phe_binh_cap) != band:
        new_band = cap(band, gates.phe_binh_cap)
        refuse(
            GATE_PHE_BINH_CAP,
            f"Bị phê bình {criticisms} lần trong kỳ (từ {gates.phe_binh_count} lần trở lên)",
            new_band,
        )
        band = new_band
    done = counts[ON_TIME] + counts[LATE]
    low_share = n > 0 and Decimal(done) < gates.min_completed_share * n
    if low_share and cap(band, gates.low_share_band) != band:
        new_band = cap(band, gates.low_share_band)
        refuse(
            GATE_LOW_COMPLETION,
            f"Tỷ lệ hoàn thành {done}/{n} dưới {_points(gates.min_completed_share)}",
            new_band,
        )
        band = new_band
    if not applied:
        return band, (), (f"Xếp loại: {by_score}.",)
    return (
        band,
        tuple(applied),
        (
            f"Xếp loại theo điểm: {by_score}.",
            *lines,
            f"Xếp loại sau các điều kiện: {bands.label(band)} ({band}).",
        ),
    )


def _capped_text(before: str, after: str, rulebook: Rulebook) -> str:
    label = rulebook.bands.label
    if after == BAND_ORDER[-1]:
        return f"xếp {label(after)}"
    return f"không xếp {label(before)} (tối đa {label(after)})"


def _shared_fields(evaluation: _Evaluation) -> dict[str, Any]:
    return {name: getattr(evaluation, name) for name in _SHARED_FIELDS}


_SHARED_FIELDS = (
    "score",
    "band",
    "N",
    "on_time",
    "late",
    "overdue",
    "reminders",
    "criticisms",
    "commendations",
    "T",
    "G",
    "deductions",
    "bonus",
    "gates",
    "tasks",
    "documents",
)


def _rulebook_line(rulebook: Rulebook) -> str:
    return f"Sổ quy tắc: {rulebook.name}"


# -- numbers as people read them ------------------------------------------------------


def format_points(value: Decimal | float | int) -> str:
    """Points the Vietnamese way: `52,5`, `35`, `−2`."""
    return _points(Decimal(str(value)))


def _points(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    if text.startswith("-"):
        text = MINUS + text[1:]
    return text.replace(".", ",")


def _score(value: Decimal, rulebook: Rulebook) -> str:
    text = f"{value:.{rulebook.score.decimals}f}"
    return text.replace("-", MINUS).replace(".", ",")


def _rounding_text(mode: str) -> str:
    return ", nửa lên" if mode == "half_up" else ", nửa về số chẵn"
