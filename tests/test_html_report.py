"""`nhiemvu report html`: a self-contained page whose figures are the CLI's own.

The browser test builds the 2023 demo ledger, writes the page through the CLI,
opens it in headless Chromium and reads back every figure a leader sees (from
ids and data-* attributes; the text in Vietnamese notation) to compare it with
`report tasks`, `report reprimands` and `rating compute --json`. Without
Chromium it is skipped with the reason, unless CI=true, where it fails
(`scripts/ensure-chromium.sh` installs it first).

The other tests need no browser: the period rules, the option checks, the
escaping of ledger text, and a small ledger whose figures are known by hand.
"""

from __future__ import annotations

import calendar
import json
import os
import re
from datetime import date, datetime
from pathlib import Path

import browser
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from nhiemvu_cli import Nhiemvu, records_from_march_2023

import workflow
from application.app import App
from application.demo import run_demo
from application.html_report import overdue_trend, report_window, vn_number
from application.ledger import DeadlineInput
from cli import cli
from workflow.dates import LOCAL_TZ
from workflow.documents import Addressees
from workflow.errors import DomainError
from workflow.tasks import OVERDUE, STATUSES, TaskState

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


# Anything that would make the browser fetch something: src/href/url() to another host.
EXTERNAL = re.compile(
    r"""(?:\b(?:src|href|xlink:href|action|poster|data)\s*=\s*["']?\s*(?:https?:)?//)"""
    r"""|(?:url\(\s*["']?\s*(?:https?:)?//)|(?:@import)""",
    re.IGNORECASE,
)
HOSTILE = '<script>alert("x")</script> & <b>đậm</b>'


def run(url: str, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--db", url, "--actor", "tester", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def cli_json(url: str, *args: str):
    return json.loads(run(url, *args, "--json"))


def parse_vn(text: str) -> float | None:
    """What the page shows, back to a number: 1.234 → 1234, 12,50 → 12.5, — → None."""
    text = text.replace("%", "").strip()
    if text in {"—", ""}:
        return None
    return float(text.replace(".", "").replace(",", "."))


# -- the browser test -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    chromium_path, driver_path, reason = browser.locate()
    if reason:
        if IN_CI:
            pytest.fail(f"{reason} (CI=true: the browser test is mandatory)")
        pytest.skip(reason)
    driver = browser.start(chromium_path, driver_path, tmp_path_factory.mktemp("chromium-profile"))
    yield driver
    driver.quit()


def _add_hostile_task(url: str) -> None:
    """A task whose title looks like markup: the page must show it, not run it."""
    app = App(url, "tester")
    try:
        app.ledger.assign_task(
            "02/CT-UBND",
            HOSTILE,
            ["SXD"],
            DeadlineInput("date", date(2023, 12, 1)),
            clause="9.9",
            assigned_on=date(2023, 11, 20),
        )
    finally:
        app.close()


# Everything the test compares, read in one round trip.
COLLECT = """
const text = (el) => el ? el.textContent.trim() : null;
const byId = {};
document.querySelectorAll('[id]').forEach((el) => {
  if (!el.closest('svg') && el.children.length === 0) byId[el.id] = text(el);
});
const agencies = {};
document.querySelectorAll('#agency-table tbody td[data-agency][data-key]').forEach((td) => {
  (agencies[td.dataset.agency] ||= {})[td.dataset.key] = text(td);
});
const ratings = Array.from(document.querySelectorAll('details.rating')).map((d) => ({
  agency: d.dataset.agency, head: d.dataset.head,
  rank: text(d.querySelector('[data-key=rank]')),
  score: text(d.querySelector('[data-key=score]')),
  band: text(d.querySelector('[data-key=band]')),
  explanation: Array.from(d.querySelectorAll('.explain li')).map(text),
}));
return {
  lang: document.documentElement.lang,
  charset: document.characterSet,
  title: document.title,
  byId: byId,
  agencies: agencies,
  ratings: ratings,
  trend: Array.from(document.querySelectorAll('td[data-key=trend]')).map(
    (td) => [td.dataset.date, text(td)]),
  overdue: Array.from(document.querySelectorAll('#overdue-table tbody tr')).map((tr) => ({
    id: tr.dataset.task, title: text(tr.children[3].firstChild),
    days: text(tr.querySelector('[data-key=days_overdue]'))})),
  charts: Array.from(document.querySelectorAll('figure > svg')).map((svg) => ({
    id: svg.closest('figure').id,
    texts: Array.from(svg.querySelectorAll('text')).map(text),
    images: svg.querySelectorAll('image').length,
    width: svg.getBoundingClientRect().width})),
  scripts: document.scripts.length,
  resources: performance.getEntriesByType('resource').map((e) => e.name),
};
"""


def test_report_html_in_chromium_matches_the_cli(db_url, chromium, tmp_path):
    run_demo(db_url, "tester", echo=lambda _: None)
    _add_hostile_task(db_url)
    out = tmp_path / "bao-cao-2023.html"
    run(db_url, "report", "html", "--year", "2023", "--out", str(out))

    tasks = cli_json(db_url, "report", "tasks", "--year", "2023")
    reprimands = cli_json(db_url, "report", "reprimands", "--year", "2023")
    heads = cli_json(db_url, "rating", "compute", "--year", "2023")
    overdue = cli_json(db_url, "task", "list", "--status", "overdue", "--as-of", "2023-12-31")

    source = out.read_text(encoding="utf-8")
    assert not EXTERNAL.findall(source), "the page must not load anything from elsewhere"
    assert "&lt;script&gt;alert(" in source and "<script" not in source

    chromium.get(out.as_uri())
    page = chromium.execute_script(COLLECT)
    assert browser.severe_console_messages(chromium) == []
    assert page["resources"] == []  # nothing fetched beyond the file itself
    assert page["lang"] == "vi" and page["charset"] == "UTF-8"
    assert "Báo cáo tình hình thực hiện nhiệm vụ" in page["title"]
    assert page["scripts"] == 0  # the hostile title stayed text

    # I. Headline figures: `report tasks` totals, both overdue rates.
    ids, total = page["byId"], tasks["total"]
    for status in STATUSES:
        assert parse_vn(ids[f"total-{status.replace('_', '-')}"]) == total[status], status
    assert parse_vn(ids["total-total"]) == total["total"]
    assert parse_vn(ids["total-with-deadline"]) == total["with_deadline"]
    assert parse_vn(ids["total-completed"]) == total["completed"]
    assert parse_vn(ids["overdue-count"]) == total["overdue"]
    assert parse_vn(ids["rate-overdue-all"]) == total["overdue_rate_all"]
    assert parse_vn(ids["rate-overdue-with-deadline"]) == total["overdue_rate_with_deadline"]
    assert ids["cutoff"] == "31/12/2023"

    # Reprimands: seed 000's sentence and the counts behind it.
    assert ids["reprimand-sentence"] == reprimands["sentence"]
    for group in ("reminder", "criticism", "commendation"):
        for part in ("docs", "targets", "units", "individuals"):
            assert parse_vn(ids[f"{group}-{part}"]) == reprimands[f"{group}_{part}"], group

    # II. Per agency: every status count and both rates.
    assert set(page["agencies"]) == {row["agency"] for row in tasks["agencies"]}
    for row in tasks["agencies"]:
        shown = page["agencies"][row["agency"]]
        for key in [*STATUSES, "total", "overdue_rate_all", "overdue_rate_with_deadline"]:
            assert parse_vn(shown[key]) == row[key], (row["agency"], key)

    # III. Trend: overdue at each month end of 2023; the last one is the cut-off.
    month_ends = [date(2023, m, calendar.monthrange(2023, m)[1]).isoformat() for m in range(1, 13)]
    assert [day for day, _ in page["trend"]] == month_ends
    assert page["trend"][-1] == ["2023-12-31", str(total["overdue"])]

    # IV. Ranking: order, ranks, scores and bands of `rating compute`, with explanations.
    assert [(r["agency"], r["head"]) for r in page["ratings"]] == [
        (h["agency"], h["head"]) for h in heads
    ]
    for shown, head in zip(page["ratings"], heads, strict=True):
        assert shown["rank"] == (str(head["rank"]) if head["rank"] is not None else "—")
        assert parse_vn(shown["score"]) == head["score"]
        assert shown["band"] == head["band"]
        assert shown["explanation"] == head["explanation"]
    assert parse_vn(ids["band-count-KXL"]) == sum(1 for h in heads if h["band"] == "KXL")

    # V. Overdue tasks at the cut-off, most days overdue first.
    assert sorted(r["id"] for r in page["overdue"]) == sorted(t["id"] for t in overdue)
    days = [int(parse_vn(r["days"])) for r in page["overdue"]]
    assert days == sorted(days, reverse=True)
    assert {r["id"]: int(parse_vn(r["days"])) for r in page["overdue"]} == {
        t["id"]: t["days_overdue"] for t in overdue
    }
    assert HOSTILE in [r["title"] for r in page["overdue"]]

    # Charts: matplotlib's inline SVG, text kept as text (diacritics included).
    charts = {c["id"]: c for c in page["charts"]}
    assert set(charts) == {"chart-status", "chart-trend"}
    assert "Số nhiệm vụ" in charts["chart-status"]["texts"]
    assert "Đang thực hiện, quá hạn" in charts["chart-status"]["texts"]
    assert "Nhiệm vụ quá hạn" in charts["chart-trend"]["texts"]
    assert all(c["images"] == 0 and c["width"] > 300 for c in charts.values())

    # The explanations unfold without script on screen, and print unfolded.
    first = "document.querySelector('details.rating .explain')"
    assert chromium.execute_script(f"return {first}.checkVisibility()") is False
    chromium.execute_script("document.querySelector('details.rating summary').click()")
    assert chromium.execute_script(f"return {first}.checkVisibility()") is True
    chromium.execute_script("document.querySelector('details.rating').open = false")
    browser.emulate_print(chromium)
    try:
        assert chromium.execute_script(f"return {first}.checkVisibility()") is True
    finally:
        browser.emulate_print(chromium, on=False)

    png = browser.full_page_png(chromium)
    (tmp_path / "bao-cao-2023.png").write_bytes(png)
    assert png.startswith(b"\x89PNG") and len(png) > 50_000
    pdf = browser.print_pdf(chromium)
    (tmp_path / "bao-cao-2023.pdf").write_bytes(pdf)
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page\b", pdf)) >= 2
    # Every page is A4 portrait (595 × 842 pt), from the stylesheet's @page rule: without
    # it Chromium prints on Letter.
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert boxes and all(
        abs(float(w) - 595.28) < 1.5 and abs(float(h) - 841.89) < 1.5 for w, h in boxes
    ), boxes


# -- without a browser ----------------------------------------------------------------------


def test_period_rules():
    today = date(2024, 5, 15)
    quarter = report_window(today, quarter="2023Q1")
    assert (quarter.start, quarter.cutoff, quarter.label) == (
        date(2023, 1, 1),
        date(2023, 3, 31),
        "quý I năm 2023",
    )
    assert quarter.trend_points == (date(2023, 1, 31), date(2023, 2, 28), date(2023, 3, 31))
    assert quarter.rating_year == 2023 and not quarter.provisional

    # A year still running is counted up to today, not at 31/12.
    running = report_window(today, year=2024)
    assert running.cutoff == today and running.provisional
    assert running.trend_points[-2:] == (date(2024, 4, 30), today)
    assert len(running.trend_points) == 5
    # On its last day a period is not over: a task may still be completed in time.
    last_day = report_window(date(2024, 3, 31), quarter="2024Q1")
    assert last_day.cutoff == date(2024, 3, 31) and last_day.provisional
    assert not report_window(date(2024, 4, 1), quarter="2024Q1").provisional

    as_of = report_window(today, as_of=date(2023, 6, 15))
    assert as_of.start is None and as_of.cutoff == date(2023, 6, 15)
    assert as_of.trend_points[0] == date(2022, 7, 31) and as_of.trend_points[-1] == date(
        2023, 6, 15
    )
    assert len(as_of.trend_points) == 12
    assert (as_of.reprimand_start, as_of.rating_year) == (date(2023, 1, 1), 2023)

    with pytest.raises(DomainError, match="chưa bắt đầu"):
        report_window(today, year=2025)
    with pytest.raises(DomainError, match="tương lai"):
        report_window(today, as_of=date(2024, 5, 16))
    with pytest.raises(DomainError, match="Quý .2023-05. không hợp lệ. Hãy nhập dạng 2023Q2"):
        report_window(today, quarter="2023-05")


def test_vietnamese_number_notation():
    assert vn_number(1234567) == "1.234.567"
    assert vn_number(12.5, 2) == "12,50"
    assert vn_number(66.665, 2) == "66,67"  # half up, as the city rounds
    assert vn_number(0) == "0"
    assert vn_number(None, 2) == "—"
    assert vn_number(-1234.5, 1) == "-1.234,5"


def _small_ledger(url: str) -> None:
    """Two agencies, five tasks, two documents: every figure below is known by hand."""
    app = App(url, "tester", now=lambda: datetime(2024, 1, 10, 9, 0, tzinfo=LOCAL_TZ))
    ledger = app.ledger
    try:
        ledger.register_agency("SXD", "Sở Xây dựng <img src=x onerror=alert(1)>", "so")
        # A code the commands refuse now, as older or imported data may still hold:
        # the page must escape it too.
        with ledger.command() as tx:
            data = {"code": "Q&<$X$>", "name": "Sở Tài chính", "kind": "so"}
            ledger._append(tx, "agency:Q&<$X$>", "agency.registered", data, None)
        ledger.appoint_head("SXD", "Nguyễn Văn An", date(2023, 1, 1))
        ledger.appoint_head("Q&<$X$>", "Trần Thị Bình", date(2023, 1, 1))
        ledger.register_directive("01/TB-UBND", date(2023, 1, 5), "Kết luận", None, None)

        def task(leads, deadline, title):
            due = DeadlineInput("date", deadline) if deadline else DeadlineInput("none")
            return ledger.assign_task("01/TB-UBND", title, leads, due, clause="1").key

        on_time = task(["SXD"], date(2023, 2, 15), "Đúng hạn")
        open_task = task(["SXD"], date(2023, 2, 20), "Còn quá hạn")
        late = task(["SXD", "Q&<$X$>"], date(2023, 3, 10), "Xong muộn")
        regular = task(["Q&<$X$>"], None, "Thường xuyên")
        cancelled = task(["Q&<$X$>"], date(2023, 6, 30), "Bị hủy")
        ledger.complete(on_time, date(2023, 2, 10), None)
        ledger.complete(late, date(2023, 4, 5), None)
        ledger.complete(regular, date(2023, 3, 20), None)
        ledger.cancel(cancelled, date(2023, 3, 1), "Không còn cần")
        ledger.issue_document("nhac_nho", "10/UBND", date(2023, 3, 15), Addressees(("SXD",)))
        ledger.issue_document("phe_binh", "20/UBND", date(2023, 5, 2), Addressees((), ("SXD",)))
        assert open_task == "NV-00002"
    finally:
        app.close()


def _by_id(page: str, element_id: str) -> str:
    match = re.search(rf'id="{re.escape(element_id)}"[^>]*>([^<]*)<', page)
    assert match, element_id
    return match.group(1).strip()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_quarter_page_of_a_small_ledger(db_url, tmp_path):
    _small_ledger(db_url)
    out = tmp_path / "q1.html"
    run(db_url, "report", "html", "--quarter", "2023Q1", "--out", str(out))
    page = out.read_text(encoding="utf-8")

    # At 31/03/2023: one on time, two overdue (NV-00002 since 20/02, NV-00003 since
    # 10/03), one without deadline (done), one cancelled.
    assert _by_id(page, "total-total") == "4"
    assert _by_id(page, "total-completed") == "2"
    assert "đúng hạn 1, quá hạn 0, không có thời hạn 1</div>" in page  # the parts add up
    assert _by_id(page, "total-overdue") == "2"
    assert _by_id(page, "total-cancelled") == "1"
    assert _by_id(page, "rate-overdue-all") == "50,00"
    assert _by_id(page, "rate-overdue-with-deadline") == "66,67"
    assert _by_id(page, "reminder-docs") == "1" and _by_id(page, "criticism-docs") == "0"
    trend = re.findall(r'data-key="trend" data-date="([\d-]+)">(\d+)<', page)
    assert trend == [("2023-01-31", "0"), ("2023-02-28", "1"), ("2023-03-31", "2")]
    overdue = re.findall(r'<tr data-task="([^"]+)">', page)
    assert overdue == ["NV-00002", "NV-00003"]  # 39 days, then 21

    # Ledger text is escaped everywhere: tables, attributes and the chart's labels.
    assert "<img" not in page and "Sở Xây dựng &lt;img src=x onerror=alert(1)&gt;" in page
    assert 'data-agency="Q&amp;&lt;$X$&gt;"' in page
    status_svg = page[page.index('<figure id="chart-status">') : page.index("</figure>")]
    assert ">Q&amp;&lt;$X$&gt;</text>" in status_svg  # literal: no mathtext, no markup

    # The same figures as `report tasks`, and the trend as `report tasks --as-of`.
    figures = cli_json(db_url, "report", "tasks", "--quarter", "2023Q1")
    assert figures["total"]["overdue"] == 2 and figures["total"]["total"] == 4
    for day, count in trend:
        assert cli_json(db_url, "report", "tasks", "--as-of", day)["total"]["overdue"] == int(count)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_as_of_page_counts_reprimands_from_the_start_of_the_year(db_url, tmp_path):
    _small_ledger(db_url)
    out = tmp_path / "as-of.html"
    run(db_url, "report", "html", "--as-of", "10/05/2023", "--out", str(out))
    page = out.read_text(encoding="utf-8")
    assert _by_id(page, "cutoff") == "10/05/2023"
    assert _by_id(page, "reminder-docs") == "1" and _by_id(page, "criticism-docs") == "1"
    assert "từ ngày 01/01/2023 đến ngày 10/05/2023" in _by_id(page, "reprimand-sentence")
    assert len(re.findall(r'data-key="trend"', page)) == 12
    assert "Xếp loại người đứng đầu năm 2023" in page


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_period_before_any_rulebook_is_reported_without_the_ranking(db_url, tmp_path):
    """Task and reprimand figures need no rulebook: a quarter before QĐ 44/2019 gets
    its page, the ranking section saying why it is missing — or ranked under the
    rulebook given with --rulebook."""
    nv = Nhiemvu(db_url)
    nv.ok("agency", "add", "SXD", "--name", "Sở Xây dựng", "--kind", "so")
    nv.ok("agency", "head", "SXD", "--name", "Nguyễn Văn An", "--from", "01/01/2019")
    nv.ok("directive", "add", "1/KH-UBND", "--date", "01/07/2019", "--title", "Kế hoạch")
    nv.ok("task", "assign", "--directive", "1/KH-UBND", "--title", "Việc", "--lead", "SXD",
          "--deadline", "31/08/2019")  # fmt: skip
    out = tmp_path / "2019q3.html"
    run(db_url, "report", "html", "--quarter", "2019Q3", "--out", str(out))
    page = out.read_text(encoding="utf-8")
    assert _by_id(page, "total-overdue") == "1"
    assert _by_id(page, "no-rulebook").startswith(
        "Không có sổ quy tắc xếp loại nào có hiệu lực vào ngày 30/09/2019"
    )
    assert 'id="ranking"' not in page
    book = Path(workflow.__file__).parent / "data" / "rulebook_qd44_2019_haiphong.toml"
    run(db_url, "report", "html", "--quarter", "2019Q3", "--out", str(out), "--rulebook", str(book))
    page = out.read_text(encoding="utf-8")
    assert 'id="no-rulebook"' not in page
    assert 'data-agency="SXD" data-head="Nguyễn Văn An"' in page


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_ranking_before_the_ledger_s_first_task_says_it_says_nothing(db_url, tmp_path):
    """As `rating compute` warns: in a year before the records begin every head has all
    the task points and ranks HTXS, on no work at all. The page said nothing of it."""
    records_from_march_2023(db_url)
    out = tmp_path / "r.html"
    run(db_url, "report", "html", "--year", "2021", "--out", str(out))
    page = out.read_text(encoding="utf-8")
    assert 'data-agency="SXD" data-head="Lê Văn A"' in page  # the ranking is there…
    assert _by_id(page, "before-the-records").startswith(  # …and says what it is worth
        "Lưu ý: Kỳ này kết thúc trước khi sổ có nhiệm vụ (nhiệm vụ đầu tiên giao ngày 10/03/2023)"
    )
    run(db_url, "report", "html", "--year", "2023", "--out", str(out))
    assert 'id="before-the-records"' not in out.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        ([], 2, "Hãy chọn kỳ báo cáo"),
        (["--year", "2023", "--quarter", "2023Q1"], 2, "Chỉ chọn một kỳ báo cáo"),
        (["--quarter", "2023-05"], 1, "Quý '2023-05' không hợp lệ"),
        (["--as-of", "01/01/2999"], 1, "ở tương lai"),
        (["--year", "2999"], 1, "chưa bắt đầu"),
    ],
)
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_bad_periods_are_refused_and_nothing_is_written(db_url, tmp_path, args, status, message):
    out = tmp_path / "r.html"
    result = CliRunner().invoke(cli, ["--db", db_url, "report", "html", *args, "--out", str(out)])
    assert result.exit_code == status, result.output
    assert message in result.output
    assert not out.exists()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_an_unwritable_destination_is_a_vietnamese_error(db_url, tmp_path):
    out = tmp_path / "no-such-folder" / "r.html"
    result = CliRunner().invoke(
        cli, ["--db", db_url, "report", "html", "--year", "2023", "--out", str(out)]
    )
    assert result.exit_code == 1 and "Không ghi được tệp" in result.output
    assert not list(Path(tmp_path).glob("**/*.tmp"))


# -- the overdue trend counts what TaskState.status says, point by point ---------------------

_day = st.dates(min_value=date(2023, 1, 1), max_value=date(2024, 12, 31))


@st.composite
def _task_states(draw):
    assigned = draw(_day)
    later = st.one_of(st.none(), st.dates(min_value=assigned, max_value=date(2025, 3, 31)))
    deadline = draw(later)
    return TaskState(
        id="NV-1",
        leads=["SXD"],
        assigned_on=assigned,
        original_deadline=deadline,
        effective_deadline=deadline,
        current_deadline=deadline,
        completed_on=draw(later),
        cancelled_on=draw(later),
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(_task_states(), max_size=40), st.lists(_day, min_size=1, max_size=14, unique=True))
def test_overdue_trend_counts_the_tasks_overdue_at_each_point(tasks, points):
    points = sorted(points)
    trend = overdue_trend(tasks, points)
    assert [row["date"] for row in trend] == [p.isoformat() for p in points]
    assert [row["overdue"] for row in trend] == [
        sum(1 for t in tasks if t.assigned_on <= p and t.status(p) == OVERDUE) for p in points
    ]
