"""`nhiemvu demo`: a 2023 ledger built from the seed documents, through the same
commands the secretariat uses, then the tables the secretariat looks at.

The data (application/demo_ledger.toml) follows Thông báo 129/TB-UBND,
Chỉ thị 02/CT-UBND and the Thành ủy conclusions; people's names are invented.
Each event is recorded "on the day" of the timeline through a simulated clock,
so questions "as known at" a date make sense in the demo too.
"""

from __future__ import annotations

import contextlib
import sqlite3
import tomllib
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from events.locations import resolve_url, shown, sqlite_url
from events.migrate import upgrade
from workflow.dates import LOCAL_TZ, format_date
from workflow.documents import Addressees
from workflow.errors import DomainError
from workflow.tasks import OVERDUE, STATUS_LABELS, STATUSES

from .app import App
from .ledger import DeadlineInput

DATA_FILE = Path(__file__).with_name("demo_ledger.toml")
DEFAULT_DEMO_DB = "nhiemvu-demo.db"
# SQLite's user_version of the files the demo builds: the demo deletes no other
# file, whatever --file names. "NVDM".
DEMO_MARK = 0x4E56444D


class SimulatedClock:
    """Office hours of the day being replayed; each reading a second later."""

    def __init__(self) -> None:
        self.day = date(2000, 1, 1)
        self.tick = 0

    def set_day(self, day: date) -> None:
        if day != self.day:
            self.day, self.tick = day, 0

    def __call__(self) -> datetime:
        self.tick += 1
        start = datetime.combine(self.day, time(8, 0), tzinfo=LOCAL_TZ)
        return start + timedelta(seconds=self.tick)


def load_data(path: Path = DATA_FILE) -> dict[str, Any]:
    with path.open("rb") as handle:
        return tomllib.load(handle)


def _d(text: str) -> date:
    return date.fromisoformat(text)


def build(app: App, data: dict[str, Any], clock: SimulatedClock) -> dict[str, str]:
    """Replay the demo data through the ledger; returns task key → task id."""
    ledger = app.ledger
    clock.set_day(date(2023, 1, 1))
    for agency in data["agencies"]:
        ledger.register_agency(agency["code"], agency["name"], agency["kind"])
        for head in agency.get("heads", []):
            ledger.appoint_head(agency["code"], head["name"], _d(head["from"]))
        for deputy in agency.get("deputies", []):
            ledger.appoint_deputy(
                agency["code"], deputy["name"], deputy["field"], _d(deputy["from"])
            )
    task_ids: dict[str, str] = {}
    # Directives first: a Thông báo kết luận may be dated after the meeting at
    # which its tasks were given (and due).
    entries = [(date.min, 0, "directive", d) for d in data["directives"]]
    entries += [(_d(t["assigned_on"]), 1, "task", t) for t in data["tasks"]]
    entries += [(_d(e["on"]), 2, "timeline", e) for e in data["timeline"]]
    for day, _, kind, item in sorted(entries, key=lambda e: (e[0], e[1])):
        clock.set_day(_d(item.get("logged_on", item.get("date", day.isoformat()))))
        if kind == "directive":
            ledger.register_directive(
                item["number"],
                _d(item["date"]),
                item["title"],
                item.get("kind"),
                item.get("issuer"),
            )
        elif kind == "task":
            task_ids[item["key"]] = ledger.assign_task(
                item["directive"],
                item["title"],
                item["leads"],
                _deadline(item),
                clause=item.get("clause"),
                coordinators=item.get("coordinators", []),
                assigned_on=day,
                leader=item.get("leader"),
            ).key
        else:
            _timeline_entry(ledger, item, day, task_ids)
    return task_ids


def _deadline(task: dict[str, Any]) -> DeadlineInput:
    if "deadline" in task:
        return DeadlineInput("date", _d(task["deadline"]))
    if "period" in task:
        return DeadlineInput("period", task["period"])
    if "within_working_days" in task:
        return DeadlineInput("working_days", task["within_working_days"])
    return DeadlineInput("none")


def _timeline_entry(ledger, entry: dict[str, Any], on: date, task_ids: dict[str, str]) -> None:
    action = entry["action"]
    task = task_ids.get(entry.get("task", ""))
    if action == "progress":
        ledger.report_progress(task, entry["percent"], on, entry.get("note"))
    elif action == "extend":
        ledger.approve_extension(task, _d(entry["to"]), on, entry.get("reason"))
    elif action == "refuse_extension":
        ledger.refuse_extension(task, _d(entry["to"]), on, entry.get("reason"))
    elif action == "complete":
        ledger.complete(task, on, entry.get("doc"))
    elif action == "cancel":
        ledger.cancel(task, on, entry["reason"])
    elif action in ("reprimand", "commend"):
        kind = entry["kind"].replace("-", "_") if action == "reprimand" else "bieu_duong"
        ledger.issue_document(
            kind,
            entry["doc"],
            on,
            Addressees(
                tuple(entry.get("agencies", [])),
                tuple(entry.get("heads", [])),
                tuple(entry.get("persons", [])),
            ),
            reason=entry.get("reason"),
            issuer=entry.get("issuer"),
            field=entry.get("field"),
            task_ids=[task_ids[k] for k in entry.get("tasks", [])],
        )
    elif action == "head":
        ledger.appoint_head(entry["agency"], entry["name"], on)
    elif action == "deputy":
        ledger.appoint_deputy(entry["agency"], entry["name"], entry["field"], on)
    else:
        raise ValueError(f"demo data: unknown action {action!r}")


def run_demo(
    url: str | None,
    actor: str,
    demo_file: str = DEFAULT_DEMO_DB,
    echo: Callable[[str], None] = print,
) -> None:
    """Build the demo in `url` if given (it must be empty), else in a fresh `demo_file`.

    Only the demo's own file is ever deleted: a database named by --db is
    used only when it holds no events, so the demo cannot wipe real work.
    """
    if url is None:
        path = Path(demo_file)
        _check_a_demo_file(path)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        with contextlib.closing(sqlite3.connect(path)) as connection:
            connection.execute(f"PRAGMA user_version = {DEMO_MARK}")
        url = sqlite_url(str(path))
    url = resolve_url(url)
    upgrade(url)
    data = load_data()
    clock = SimulatedClock()
    app = App(url, actor, now=clock)
    try:
        if app.store.count():
            raise DomainError(
                "Cơ sở dữ liệu này đã có dữ liệu; bản minh họa chỉ dựng trên cơ sở dữ liệu "
                "trống. Bỏ --db để dùng tệp minh họa riêng."
            )
        build(app, data, clock)
        reference = _d(data["reference_date"])
        echo(f"Đã dựng sổ minh họa: {app.store.count()} sự kiện trong {shown(url)}.")
        echo("")
        for section in summary_sections(app, reference):
            echo(section)
            echo("")
    finally:
        app.close()


def _check_a_demo_file(path: Path) -> None:
    """Refuse to delete `path` unless it is missing, empty, or a demo's own file."""
    if not path.exists() or (path.is_file() and path.stat().st_size == 0):
        return
    mark = None
    if path.is_file():
        try:
            with contextlib.closing(
                sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
            ) as c:
                mark = c.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.Error:
            pass  # not an SQLite file: not the demo's either
    if mark != DEMO_MARK:
        raise DomainError(
            f"Tệp '{path}' đã có và không phải sổ minh họa do `nhiemvu demo` dựng: không xóa "
            "nó. Hãy chọn tên tệp khác với --file, hoặc tự xóa tệp đó nếu chắc chắn không cần."
        )


def summary_sections(app: App, reference: date) -> list[str]:
    from cli_support import render_table
    from workflow.text import clipped

    from . import queries

    with app.engine.connect() as connection:
        tasks = queries.list_tasks(connection, reference)
    overdue = sorted((t for t in tasks if t["status"] == OVERDUE), key=lambda t: -t["days_overdue"])
    sections = [
        f"NHIỆM VỤ QUÁ HẠN tại ngày {format_date(reference)} ({len(overdue)} nhiệm vụ)\n"
        + render_table(
            [
                {
                    **t,
                    "leads": ", ".join(t["leads"]),
                    "title": clipped(t["title"], 55),
                    "deadline": format_date(_d(t["deadline"])),
                }
                for t in overdue
            ],
            [
                ("id", "Mã"),
                ("directive", "Văn bản"),
                ("clause", "Mục"),
                ("title", "Nội dung"),
                ("leads", "Chủ trì"),
                ("deadline", "Thời hạn"),
                ("days_overdue", "Số ngày quá hạn"),
            ],
        )
    ]
    counts: dict[str, Counter] = {}
    for task in tasks:
        for lead in task["leads"]:
            counts.setdefault(lead, Counter())[task["status"]] += 1
    columns = [("agency", "Cơ quan")] + [(s, STATUS_LABELS[s]) for s in STATUSES]
    rows = [
        {"agency": code, **{s: c.get(s, 0) for s in STATUSES}} for code, c in sorted(counts.items())
    ]
    sections.append(
        f"TRẠNG THÁI NHIỆM VỤ THEO CƠ QUAN CHỦ TRÌ tại ngày {format_date(reference)}\n"
        + render_table(rows, columns)
    )
    sections.append(_ratings_section(app, reference))
    return sections


def _ratings_section(app: App, reference: date) -> str:
    from cli_support import render_table

    from . import rating

    book = rating.choose_rulebook(reference)
    with app.engine.connect() as connection:
        rows = rating.rate(connection, reference.year, reference, book)
    shown = [{**r, "rank": r["rank"] or "KXL", "band": r["band_label"]} for r in rows]
    return (
        f"XẾP LOẠI NGƯỜI ĐỨNG ĐẦU NĂM {reference.year} (chưa chốt; sổ quy tắc {book.name})\n"
        + render_table(
            shown,
            [
                ("rank", "Hạng"),
                ("agency", "Cơ quan"),
                ("head", "Người đứng đầu"),
                ("score", "Điểm"),
                ("band", "Xếp loại"),
                ("N", "NV đến hạn"),
                ("overdue", "Quá hạn"),
                ("criticisms", "Phê bình"),
            ],
        )
    )
