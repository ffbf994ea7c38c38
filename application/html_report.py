"""`nhiemvu report html`: one self-contained HTML page for the city's leaders.

The page shows what the other report commands print — task statuses
(`report tasks`), reprimand counts (`report reprimands`) and the heads' ranking
(`rating compute`) — computed by the same domain functions on the same inputs,
so its figures are theirs; it adds the overdue trend month by month and the
list of overdue tasks. The ledger's tasks are read once for all of it.

Everything is inline (CSS, charts as SVG from matplotlib with text kept as
text), so the file opens without a network and prints to A4. Text from the
ledger is escaped by Jinja2's autoescape; chart labels are escaped by
matplotlib's SVG writer.

Choices (also in the project report):
- the cut-off is the end of the period, or today when the period is not over:
  statuses "at 31/12" of a year still running would call every task due in
  the coming months overdue. A future --as-of is refused for the same reason;
- the ranking is the year of the period rated at the cut-off (`rating compute
  --year Y --as-of CUTOFF`): for a quarter, the year up to the quarter's end;
- for --as-of, reprimands are counted from 1 January of that year to the date
  (the window the year's rating uses), and the trend covers the 12 months up to
  the date;
- the trend counts, at each month end, every task overdue on that day (all
  tasks assigned by then, like `report tasks --as-of`). A task's status on an
  earlier day is the same whether it is derived from the facts known then or
  from those known at the cut-off: an extension approved later is by then too
  late to move the effective deadline, and completions and cancellations count
  only from their own dates. So the tasks are loaded once.
"""

from __future__ import annotations

import io
import re
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection

from workflow import reports, scoring
from workflow.dates import document_date, format_date, parse_period, parse_period_as
from workflow.errors import DomainError
from workflow.rulebook import Rulebook, load_rulebook, rulebook_in_force_if_any
from workflow.tasks import (
    CANCELLED,
    DONE,
    DONE_LATE,
    DONE_ON_TIME,
    IN_PROGRESS,
    ONGOING,
    OVERDUE,
    STATUS_LABELS,
    STATUSES,
    TaskState,
)
from workflow.text import grouped, id_order

from . import loading
from . import rating as ratings
from .cutoffs import check_not_future, period_cutoff, provisional
from .files import written_whole
from .reporting import documents as document_rows

TREND_MONTHS_AS_OF = 12  # an --as-of report shows the year up to its date
# A chart with a hundred bars is unreadable on A4; the table below it has every agency.
CHART_MAX_AGENCIES = 40

# Sober, distinguishable in print and for the common colour-blindness types
# (the "muted" palette of seaborn); overdue is the one red.
STATUS_COLOURS = {
    IN_PROGRESS: "#4c72b0",
    OVERDUE: "#c44e52",
    DONE_ON_TIME: "#55a868",
    DONE_LATE: "#dd8452",
    ONGOING: "#8fa9d4",
    DONE: "#a8d5a2",
    CANCELLED: "#c4c4c4",
}
BAND_ORDER = ("HTXS", "HTT", "HT", "KHT", "KXL")

# -- the period -----------------------------------------------------------------------


@dataclass(frozen=True)
class ReportWindow:
    kind: str  # year | quarter | as_of
    start: date | None  # None for --as-of: every task assigned up to the cut-off
    end: date  # the period's last day as asked
    cutoff: date  # statuses are counted on this day
    label: str  # "năm 2023", "quý I năm 2023", "tính đến ngày 15/06/2023"
    reprimand_start: date
    reprimand_label: str
    rating_year: int
    trend_points: tuple[date, ...]  # month ends (the last one may be the cut-off)
    # The period is not over: its figures may change (see application.cutoffs).
    provisional: bool = False

    @property
    def active_since(self) -> date | None:
        """The first day any figure of the page looks at (None: every task, --as-of)."""
        if self.start is None:
            return None
        return min(self.start, self.trend_points[0].replace(day=1), date(self.rating_year, 1, 1))

    def task_period(self) -> reports.Period:
        return reports.Period(self.start, self.cutoff, self.label)


def report_window(
    today: date, year: int | None = None, quarter: str | None = None, as_of: date | None = None
) -> ReportWindow:
    """The window of exactly one of --year, --quarter, --as-of."""
    if as_of is not None:
        check_not_future(as_of, today)
        start_of_year = date(as_of.year, 1, 1)
        return ReportWindow(
            kind="as_of",
            start=None,
            end=as_of,
            cutoff=as_of,
            label=f"tính đến ngày {format_date(as_of)}",
            reprimand_start=start_of_year,
            reprimand_label=reports.period_label("range", start_of_year, as_of),
            rating_year=as_of.year,
            trend_points=_trend_points(
                _add_months(_month_start(as_of), 1 - TREND_MONTHS_AS_OF), as_of
            ),
        )
    if quarter is not None:
        kind = "quarter"
        start, end = parse_period_as(kind, quarter)
    elif year is not None:
        kind = "year"
        start, end = parse_period(str(year))
    else:
        raise DomainError("Hãy chọn một kỳ báo cáo: --year, --quarter hoặc --as-of.")
    label = reports.period_label(kind, start, end)
    cutoff = period_cutoff(start, end, label, None, today)
    return ReportWindow(
        kind=kind,
        start=start,
        end=end,
        cutoff=cutoff,
        label=label,
        reprimand_start=start,
        reprimand_label=label,
        rating_year=start.year,
        trend_points=_trend_points(start, cutoff),
        provisional=provisional(cutoff, end, today),
    )


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _trend_points(first_month: date, cutoff: date) -> tuple[date, ...]:
    points = []
    month = _month_start(first_month)
    while month <= cutoff:
        month_end = _add_months(month, 1) - timedelta(days=1)
        points.append(min(month_end, cutoff))
        month = _add_months(month, 1)
    return tuple(points)


# -- gathering the figures --------------------------------------------------------------


def gather(
    connection: Connection, window: ReportWindow, rulebook_path: str | Path | None = None
) -> dict[str, Any]:
    """Every figure on the page, JSON-like (ISO dates): what the template shows. The
    ranking is left out when no rulebook is in force at the cut-off and none is given
    (before QĐ 44/2019): the rest of the page does not depend on one."""
    tasks = list(loading.task_states(connection, window.cutoff, active_since=window.active_since))
    agencies = loading.load_agencies(connection)
    names = {code: agency.name_on(window.cutoff) for code, agency in agencies.items()}

    task_figures = reports.task_report(tasks, window.task_period())
    for row in task_figures["agencies"]:
        row["name"] = names.get(row["agency"], row["agency"])

    reprimands = reports.reprimand_report(
        document_rows(connection, window.cutoff, window.reprimand_start),
        window.reprimand_start,
        window.cutoff,
        window.reprimand_label,
    )

    if rulebook_path is not None:
        rulebook = load_rulebook(rulebook_path)
    else:
        rulebook = rulebook_in_force_if_any(window.cutoff)
    heads = [] if rulebook is None else _rate_heads(connection, tasks, window, rulebook, names)
    # As `rating compute` warns: a year before the ledger's first task rates every
    # head HTXS on no work at all.
    year = scoring.Window(date(window.rating_year, 1, 1), window.cutoff)
    early = ratings.before_the_records(connection, year) if heads else None

    return {
        "window": window,
        "tasks": task_figures,
        "reprimands": reprimands,
        "trend": overdue_trend(tasks, window.trend_points),
        "overdue": overdue_tasks(connection, tasks, window.cutoff, names),
        "ratings": heads,
        "before_the_records": early,
        "band_counts": Counter(h["band"] for h in heads),
        "rulebook": None if rulebook is None else rulebook.name,
        "band_labels": {} if rulebook is None else dict(rulebook.bands.labels),
    }


def _rate_heads(
    connection: Connection,
    tasks: Sequence[TaskState],
    window: ReportWindow,
    rulebook: Rulebook,
    names: dict[str, str],
) -> list[dict[str, Any]]:
    """`rating compute` for the window's year at the cut-off, on the tasks already loaded.

    application.rating.rate would load and derive every task a second time (a
    quarter of the page's render time for a city year); its inputs are the same
    tasks as of the same cut-off, so the scoring rules get the same facts. The
    browser test compares the result with `rating compute --json`.
    """
    results = scoring.rate_heads(
        # What rating.rate selects: a task that never had a deadline is never due.
        ratings.scored(t for t in tasks if t.original_deadline is not None),
        ratings._documents(connection, window.cutoff, date(window.rating_year, 1, 1)),
        ratings._assessments(connection),
        ratings._tenures(connection, rulebook),
        window.rating_year,
        window.cutoff,
        rulebook,
    )
    rows = []
    for result in results:
        # Without the per-task evidence (long; the explanation names the tasks).
        result = replace(result, tasks=())
        rows.append(dict(result.to_dict(), name=names.get(result.agency, result.agency)))
    return rows


def overdue_trend(tasks: Sequence[TaskState], points: Iterable[date]) -> list[dict[str, Any]]:
    """Number of tasks overdue at each point (a month end, or the cut-off; ascending).

    A task is overdue at `p` (TaskState.status) when it was assigned by `p`, its
    deadline is before `p`, and it was neither completed nor cancelled by `p`: one
    run of consecutive points, found by bisection — not tasks × points statuses.
    """
    points = list(points)
    if points != sorted(points):
        raise ValueError("trend points must be in ascending order")
    changes = [0] * (len(points) + 1)
    for task in tasks:
        deadline = task.effective_deadline
        if deadline is None:
            continue  # never overdue
        first = max(bisect_right(points, deadline), bisect_left(points, task.assigned_on))
        closed = [d for d in (task.completed_on, task.cancelled_on) if d is not None]
        stop = bisect_left(points, min(closed)) if closed else len(points)
        if first < stop:
            changes[first] += 1
            changes[stop] -= 1
    trend, count = [], 0
    for point, change in zip(points, changes, strict=False):
        count += change
        trend.append(
            {
                "date": point.isoformat(),
                "month": f"{point.month:02d}/{point.year}",
                "overdue": count,
            }
        )
    return trend


def overdue_tasks(
    connection: Connection, tasks: Iterable[TaskState], cutoff: date, names: dict[str, str]
) -> list[dict]:
    """Tasks overdue at the cut-off, most days overdue first (read whole for their titles)."""
    overdue = [task.id for task in tasks if task.status(cutoff) == OVERDUE]
    whole = loading.tasks_by_id(connection, overdue, cutoff)
    rows = [
        {
            "id": task.id,
            "title": task.title,
            "directive": task.directive,
            "clause": task.clause,
            "leads": list(task.leads),
            "lead_names": [names.get(code, code) for code in task.leads],
            "deadline": task.effective_deadline.isoformat(),
            "days_overdue": task.days_overdue(cutoff),
            "leader": task.leader,
        }
        for task in (whole[task_id] for task_id in overdue)
    ]
    rows.sort(key=lambda r: (-r["days_overdue"], r["deadline"], id_order(r["id"])))
    return rows


# -- charts ---------------------------------------------------------------------------------


def _chart_context():
    import matplotlib

    return matplotlib.rc_context(
        {
            # Text stays text: searchable, selectable, and Vietnamese diacritics are
            # drawn by the reader's fonts instead of being baked into paths.
            "svg.fonttype": "none",
            # Stable ids, so the same ledger gives the same file.
            "svg.hashsalt": "nhiemvu",
            "font.family": "sans-serif",
            "font.sans-serif": ["DejaVu Sans", "Liberation Sans", "Arial", "Helvetica"],
            "font.size": 8,
            "axes.edgecolor": "#6b6b6b",
            "axes.labelcolor": "#222222",
            "xtick.color": "#333333",
            "ytick.color": "#333333",
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )


def _svg(figure, prefix: str) -> str:
    """The figure as an inline <svg> element with ids private to this chart."""
    buffer = io.StringIO()
    figure.savefig(
        buffer,
        format="svg",
        # No creation date (reproducible output) and no RDF block with its URLs.
        metadata={"Date": None, "Creator": None, "Format": None, "Type": None},
    )
    text = buffer.getvalue()
    text = text[text.index("<svg") :]  # the XML prolog and DOCTYPE have no place inside HTML
    # Two charts in one page would otherwise both define "figure_1", "axes_1"…
    text = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', text)
    text = text.replace('xlink:href="#', f'xlink:href="#{prefix}-')
    text = text.replace("url(#", f"url(#{prefix}-")
    return text.replace(
        "<svg ", f'<svg class="chart-svg" role="img" aria-labelledby="{prefix}-caption" ', 1
    )


def _plain(text: str) -> str:
    """matplotlib reads $…$ as mathematics; ledger text must stay literal."""
    return text.replace("$", r"\$")


# Legend labels: the official ones, shortened where "có thời hạn" is implied.
CHART_LABELS = {
    IN_PROGRESS: "Đang thực hiện, trong hạn",
    OVERDUE: "Đang thực hiện, quá hạn",
    DONE_ON_TIME: "Hoàn thành đúng hạn",
    DONE_LATE: "Hoàn thành quá hạn",
    ONGOING: "Không thời hạn, đang thực hiện",
    DONE: "Không thời hạn, đã hoàn thành",
    CANCELLED: "Đã hủy",
}
CHART_WIDTH = 7.0  # inches: the A4 text width at 15 mm margins is 7.09 in


def _margins(figure, left: float, right: float, top: float, bottom: float) -> None:
    """Fixed margins in inches: a layout engine would measure every label again."""
    width, height = figure.get_size_inches()
    figure.subplots_adjust(
        left=left / width, right=1 - right / width, top=1 - top / height, bottom=bottom / height
    )


def status_chart(rows: Sequence[dict[str, Any]]) -> tuple[str, int]:
    """Stacked bars of tasks by status per lead agency; returns (svg, agencies shown)."""
    from matplotlib.collections import PolyCollection
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch
    from matplotlib.ticker import MaxNLocator

    shown = sorted(rows, key=lambda r: (-r[OVERDUE], -(r["total"] + r[CANCELLED]), r["agency"]))
    shown = shown[:CHART_MAX_AGENCIES]
    labels = [_plain(r["agency"]) for r in shown]
    with _chart_context():
        top, bottom, per_bar = 0.55, 0.45, 0.2
        figure = Figure(figsize=(CHART_WIDTH, top + bottom + per_bar * max(len(shown), 1)))
        longest = max((len(label) for label in labels), default=4)
        _margins(figure, left=0.2 + 0.062 * longest, right=0.2, top=top, bottom=bottom)
        axes = figure.add_subplot()
        # One collection per status, with only the non-empty segments: bars drawn
        # one patch at a time cost most of the page's render time.
        ends = [0] * len(shown)
        for status in STATUSES:
            boxes = []
            for i, row in enumerate(shown):
                if row[status]:
                    x0, x1 = ends[i], ends[i] + row[status]
                    boxes.append([(x0, i - 0.35), (x1, i - 0.35), (x1, i + 0.35), (x0, i + 0.35)])
                    ends[i] = x1
            if boxes:
                axes.add_collection(
                    PolyCollection(
                        boxes, facecolors=STATUS_COLOURS[status], edgecolors="white", linewidths=0.4
                    )
                )
        axes.set_xlim(0, max(max(ends, default=0) * 1.03, 1))
        axes.set_ylim(len(shown) - 0.5, -0.5)  # first agency on top
        # Agency codes as plain text beside the bars: forty matplotlib ticks (each
        # with its own lines and labels) took a third of the chart's time.
        axes.set_yticks([])
        beside = axes.get_yaxis_transform()  # x in axes units, y in data units
        for position, label in enumerate(labels):
            axes.text(-0.01, position, label, transform=beside, ha="right", va="center")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_xlabel("Số nhiệm vụ")
        axes.grid(axis="x", color="#dddddd", linewidth=0.6)
        axes.set_axisbelow(True)
        figure.legend(
            handles=[Patch(facecolor=STATUS_COLOURS[s], label=CHART_LABELS[s]) for s in STATUSES],
            loc="upper center",
            bbox_to_anchor=(0.5, 1.0),
            ncols=4,
            frameon=False,
            fontsize=7,
            handlelength=1.1,
            columnspacing=1.2,
        )
        return _svg(figure, "chart-status"), len(shown)


def trend_chart(trend: Sequence[dict[str, Any]]) -> str:
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    with _chart_context():
        figure = Figure(figsize=(CHART_WIDTH, 2.5))
        _margins(figure, left=0.6, right=0.2, top=0.15, bottom=0.35)
        axes = figure.add_subplot()
        xs = list(range(len(trend)))
        ys = [p["overdue"] for p in trend]
        axes.fill_between(xs, ys, color=STATUS_COLOURS[OVERDUE], alpha=0.10, linewidth=0)
        axes.plot(xs, ys, color=STATUS_COLOURS[OVERDUE], marker="o", markersize=4, linewidth=1.6)
        for x, y in zip(xs, ys, strict=True):
            axes.annotate(
                str(y), (x, y), textcoords="offset points", xytext=(0, 5), ha="center", fontsize=7
            )
        axes.set_xticks(xs, labels=[p["month"] for p in trend])
        axes.set_xlim(-0.5, len(xs) - 0.5)
        axes.set_ylim(0, max(ys, default=0) * 1.2 + 1)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_ylabel("Nhiệm vụ quá hạn")
        axes.grid(axis="y", color="#dddddd", linewidth=0.6)
        axes.set_axisbelow(True)
        return _svg(figure, "chart-trend")


# -- the page -------------------------------------------------------------------------------


def vn_number(value: float | int | None, places: int = 0) -> str:
    """Vietnamese notation: 1.234 and 12,50; a missing rate is a dash."""
    if value is None:
        return "—"
    quantum = Decimal(1).scaleb(-places)
    number = Decimal(str(value)).quantize(quantum, rounding=ROUND_HALF_UP)
    whole, _, fraction = f"{abs(number):f}".partition(".")
    text = ("-" if number < 0 else "") + grouped(int(whole))
    return f"{text},{fraction}" if fraction else text


def vn_date(value: str | date | None) -> str:
    if value is None:
        return "—"
    return format_date(date.fromisoformat(value) if isinstance(value, str) else value)


def _environment():
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("application", "templates"),
        autoescape=True,  # every value from the ledger is text, never markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(num=vn_number, vndate=vn_date)
    return environment


def render(figures: dict[str, Any], generated_at: datetime) -> str:
    from markupsafe import Markup

    window: ReportWindow = figures["window"]
    agencies = figures["tasks"]["agencies"]
    status_svg, charted = status_chart(agencies) if agencies else ("", 0)
    context = {
        **figures,
        "generated_at": generated_at,
        "generated_long": document_date(generated_at.date()),
        "status_svg": Markup(status_svg),  # matplotlib escaped the labels itself
        "trend_svg": Markup(trend_chart(figures["trend"])),
        "charted_agencies": charted,
        "statuses": STATUSES,
        "status_labels": STATUS_LABELS,
        "reprimand_groups": reports.REPRIMAND_GROUPS,
        "status_colours": STATUS_COLOURS,
        "band_order": BAND_ORDER,
        "cutoff_text": format_date(window.cutoff),
        # The last point is a month end unless the cut-off falls inside a month.
        "trend_partial": bool(window.trend_points)
        and (window.trend_points[-1] + timedelta(days=1)).day != 1,
        "kind_title": {
            "year": f"Năm {window.rating_year}",
            "quarter": window.label[:1].upper() + window.label[1:],
            "as_of": window.label[:1].upper() + window.label[1:],
        }[window.kind],
    }
    return _environment().get_template("report.html.j2").render(context)


def build(
    connection: Connection,
    window: ReportWindow,
    generated_at: datetime,
    rulebook_path: str | Path | None = None,
) -> str:
    return render(gather(connection, window, rulebook_path), generated_at)


def write_file(path: str | Path, page: str) -> Path:
    """Write the page whole or not at all: a half-written report must not be opened."""
    target = Path(path)
    with written_whole(target, "w") as handle:
        handle.write(page)
    return target
