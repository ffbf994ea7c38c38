"""A deterministic synthetic city: agencies, heads, directives, tasks, documents.

    from benchmarks.workload import City, CityConfig, Runner

    city = City(CityConfig(seed=2023, tasks_per_year=20_000))
    runner = Runner(url)                      # an App with a simulated clock
    stats = runner.run(city.commands_until(date(2020, 12, 31)))

The generator is pure: `City` plans *commands* (what the secretariat would type,
with the business dates it would give) from a seeded `random.Random`, and
`Runner` feeds them, in recording order, to the same `application.ledger.Ledger`
methods the CLI calls — validation, the store's checks and the incremental
projection included. Nothing is inserted behind the ledger's back. Two cities
with the same configuration plan exactly the same commands; the logs they
produce differ only in random event ids and in nothing else (recording times
come from the simulated clock, task ids from the ledger's own numbering).

The plan is made as the commands are consumed: what a year decides as a whole
(head changes, the days of its directives and documents, assessments, escalation
passes) on its first day, and each month's directives, tasks (their whole lives)
and documents when that month begins. A national year (~9 million commands) then
holds only the months ahead in memory, not the year.

What a year of the city looks like (defaults, scaled by `tasks_per_year`):

- 100 agencies (departments, the 15 districts of Hải Phòng, public service
  units), each with a head appointed before the first year and two deputies with
  fields; each year about one head in eight is replaced on some working day.
- Directives (Thông báo kết luận, Chỉ thị, Kế hoạch, Công văn) on working days,
  each assigning 1–25 tasks (clauses 1, 2.3, 2.5.a…) until `tasks_per_year`.
- Deadline forms: a date (~45%, some "trước ngày X" entered as X−1), a period
  (~20%: month, quarter or year), N working days (~15%), none (~20%).
- Outcomes of tasks with a deadline: ~4% cancelled, ~72% completed on time,
  ~16% late, ~8% very late or never; ~10% get an extension approved in time,
  ~3% one approved too late, ~2% a refusal; 0–4 progress reports (tasks without
  deadline report about quarterly); completions are logged 0–5 days after the
  date on the report; a few tasks are reassigned and a few progress reports
  retracted (`correct`).
- `documents_per_year` documents (default 400): nhắc nhở, rút kinh nghiệm, phê
  bình (to heads with a field, so the deputy cascade of TB 129 §2.8 happens) and
  some biểu dương, addressed to agencies, heads and persons, citing overdue tasks.
- General-criteria assessments for about one agency in ten each December.
- An escalation pass (`run_escalation_pass`, what `nhiemvu escalate` runs) at the
  end of each month, as of that day. The ladder dates each step when it fell due,
  so monthly passes write the same steps daily passes would.
"""

from __future__ import annotations

import gc
import heapq
import itertools
import random
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from typing import Any

from application.ledger import DeadlineInput
from workflow.calendar import WorkingCalendar
from workflow.dates import LOCAL_TZ
from workflow.documents import Addressees

# -- configuration -------------------------------------------------------------------


@dataclass(frozen=True)
class CityConfig:
    seed: int = 2023
    start_year: int = 2020  # QĐ 44/2019 is in force from 20/12/2019
    tasks_per_year: int = 20_000
    agencies: int = 100
    documents_per_year: int | None = None  # None: 400 per 20,000 tasks, at least 12
    escalation: bool = True  # a pass at the end of every month
    head_change_rate: float = 0.12  # per agency and year

    @property
    def documents(self) -> int:
        if self.documents_per_year is not None:
            return self.documents_per_year
        return max(12, round(400 * self.tasks_per_year / 20_000))


# -- what the generator plans --------------------------------------------------------


@dataclass(frozen=True)
class TaskRef:
    """A task by its place in the plan; the ledger gives it its id (NV-00001…)."""

    n: int


@dataclass(frozen=True)
class EventRef:
    """The first event of an earlier command remembered under this name."""

    name: str


# Order of commands recorded on the same day.
SETUP, HEADS, DIRECTIVE, ASSIGN, PROGRESS, EXTENSION, DOCUMENT, CLOSE, CORRECT, ASSESS, PASS = (
    range(11)
)


@dataclass(frozen=True)
class Command:
    day: date  # the recording day: the simulated "today" when it is typed
    order: int
    seq: int
    kind: str  # the Ledger method (or "escalate")
    args: tuple = ()
    kwargs: tuple = ()  # sorted (name, value) pairs, so commands compare and hash
    remember: str | None = None  # remember the result under this name

    def key(self) -> tuple:
        return (self.day, self.order, self.seq, self.kind, self.args, self.kwargs, self.remember)


# -- names ---------------------------------------------------------------------------

DEPARTMENTS = [
    ("SNV", "Sở Nội vụ"),
    ("STP", "Sở Tư pháp"),
    ("SKHDT", "Sở Kế hoạch và Đầu tư"),
    ("STC", "Sở Tài chính"),
    ("SCT", "Sở Công Thương"),
    ("SNN", "Sở Nông nghiệp và Phát triển nông thôn"),
    ("SGTVT", "Sở Giao thông vận tải"),
    ("SXD", "Sở Xây dựng"),
    ("STNMT", "Sở Tài nguyên và Môi trường"),
    ("STTTT", "Sở Thông tin và Truyền thông"),
    ("SLDTBXH", "Sở Lao động - Thương binh và Xã hội"),
    ("SVHTT", "Sở Văn hóa và Thể thao"),
    ("SDL", "Sở Du lịch"),
    ("SKHCN", "Sở Khoa học và Công nghệ"),
    ("SGDDT", "Sở Giáo dục và Đào tạo"),
    ("SYT", "Sở Y tế"),
    ("SNGV", "Sở Ngoại vụ"),
    ("TTTP", "Thanh tra thành phố"),
    ("VPUB", "Văn phòng UBND thành phố"),
    ("BQLKKT", "Ban Quản lý Khu kinh tế Hải Phòng"),
    ("BQLDADD", "Ban Quản lý dự án đầu tư xây dựng các công trình dân dụng và công nghiệp"),
    ("BQLDAGT", "Ban Quản lý dự án đầu tư xây dựng các công trình giao thông"),
    ("CATP", "Công an thành phố"),
    ("BCHQS", "Bộ Chỉ huy Quân sự thành phố"),
    ("BDBP", "Bộ Chỉ huy Bộ đội Biên phòng thành phố"),
    ("CTHUE", "Cục Thuế thành phố"),
    ("CHQ", "Cục Hải quan Hải Phòng"),
    ("KBNN", "Kho bạc Nhà nước Hải Phòng"),
    ("BHXH", "Bảo hiểm xã hội thành phố"),
    ("NHNN", "Ngân hàng Nhà nước chi nhánh Hải Phòng"),
]
DISTRICTS = [
    ("HONGBANG", "UBND quận Hồng Bàng"),
    ("NGOQUYEN", "UBND quận Ngô Quyền"),
    ("LECHAN", "UBND quận Lê Chân"),
    ("HAIAN", "UBND quận Hải An"),
    ("KIENAN", "UBND quận Kiến An"),
    ("DOSON", "UBND quận Đồ Sơn"),
    ("DUONGKINH", "UBND quận Dương Kinh"),
    ("ANDUONG", "UBND quận An Dương"),
    ("THUYNGUYEN", "UBND huyện Thủy Nguyên"),
    ("ANLAO", "UBND huyện An Lão"),
    ("KIENTHUY", "UBND huyện Kiến Thụy"),
    ("TIENLANG", "UBND huyện Tiên Lãng"),
    ("VINHBAO", "UBND huyện Vĩnh Bảo"),
    ("CATHAI", "UBND huyện Cát Hải"),
    ("BACHLONGVI", "UBND huyện Bạch Long Vĩ"),
]
UNIT_KINDS = [
    "Trung tâm Xúc tiến đầu tư",
    "Trung tâm Phục vụ hành chính công",
    "Trung tâm Kiểm soát bệnh tật",
    "Trung tâm Quan trắc môi trường",
    "Trường Cao đẳng",
    "Bệnh viện",
    "Ban Quản lý",
    "Trung tâm Dịch vụ việc làm",
    "Trung tâm Phát triển quỹ đất",
    "Đài Phát thanh và Truyền hình",
]
FIELDS = [
    "xây dựng",
    "thương mại",
    "tài chính",
    "đầu tư",
    "giao thông",
    "đất đai",
    "môi trường",
    "giáo dục",
    "y tế",
    "văn hóa",
    "nông nghiệp",
    "chuyển đổi số",
    "cải cách hành chính",
]
SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Phan", "Ngô"]
MIDDLE = ["Văn", "Thị", "Đức", "Minh", "Thanh", "Quang", "Hữu", "Ngọc", "Xuân", "Khắc", "Thu"]
GIVEN = [
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Giang",
    "Hà",
    "Hải",
    "Hùng",
    "Hương",
    "Khánh",
    "Lan",
    "Long",
    "Mai",
    "Nam",
    "Nga",
    "Phong",
    "Quân",
    "Sơn",
    "Tâm",
    "Thảo",
    "Tuấn",
    "Việt",
    "Yến",
]
LEADERS = [
    "Chủ tịch UBND thành phố",
    "Phó Chủ tịch Thường trực UBND thành phố",
    "Phó Chủ tịch UBND thành phố phụ trách kinh tế",
    "Phó Chủ tịch UBND thành phố phụ trách đô thị",
    "Phó Chủ tịch UBND thành phố phụ trách văn hóa - xã hội",
]
VERBS = [
    "Rà soát, đề xuất",
    "Khẩn trương hoàn thiện",
    "Tham mưu UBND thành phố ban hành",
    "Chủ trì, phối hợp triển khai",
    "Báo cáo kết quả thực hiện",
    "Tổ chức kiểm tra, xử lý",
    "Đẩy nhanh tiến độ",
    "Xây dựng kế hoạch",
    "Tháo gỡ vướng mắc về",
    "Hướng dẫn các địa phương thực hiện",
]
OBJECTS = [
    "công tác giải phóng mặt bằng dự án đường ven biển",
    "giải ngân vốn đầu tư công",
    "thủ tục hành chính trên môi trường điện tử",
    "quy hoạch chi tiết khu đô thị mới",
    "kiến nghị của cử tri tại kỳ họp Hội đồng nhân dân",
    "phương án phòng, chống thiên tai",
    "chuyển đổi số trong cơ quan nhà nước",
    "thu ngân sách nhà nước",
    "xử lý rác thải sinh hoạt",
    "cải tạo chung cư cũ",
    "hạ tầng khu công nghiệp",
    "an toàn thực phẩm",
    "chất lượng giáo dục phổ thông",
    "cấp giấy chứng nhận quyền sử dụng đất",
    "các dự án chậm tiến độ",
]
DIRECTIVE_KINDS = [
    # (number suffix, kind, share of directives, tasks per directive)
    ("TB-UBND", "Thông báo kết luận", 0.30, (4, 15)),
    ("CT-UBND", "Chỉ thị", 0.03, (8, 25)),
    ("KH-UBND", "Kế hoạch", 0.12, (5, 20)),
    ("UBND-TH", "Công văn", 0.55, (1, 3)),
]
DOCUMENT_KINDS = [
    ("nhac_nho", 0.47),
    ("rut_kinh_nghiem", 0.16),
    ("phe_binh", 0.14),
    ("bieu_duong", 0.23),
]


# -- the plan of one task ------------------------------------------------------------


@dataclass
class TaskPlan:
    n: int
    leads: list[str]
    assigned_on: date
    due: date | None
    closed_on: date | None  # None: still open when the plan ends


def _weighted(rng: random.Random, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights)[0]


def _between(rng: random.Random, first: date, last: date) -> date:
    if last <= first:
        return first
    return first + timedelta(days=rng.randint(0, (last - first).days))


class City:
    """Plans the city's commands year by year; iterate them in recording order."""

    def __init__(self, config: CityConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.calendar = WorkingCalendar()
        self._heap: list[tuple[date, int, int, Command]] = []
        self._seq = itertools.count()
        self._task_counter = itertools.count(1)
        self._directive_numbers: dict[str, Iterator[int]] = defaultdict(lambda: itertools.count(1))
        self._document_numbers = itertools.count(1)
        self._completion_docs = itertools.count(1)
        self._planned_years: set[int] = set()
        # Planning still to do, by the day from which it plans: (day, order, what).
        # A month's tasks are planned only when the commands reach that month, so
        # the plan held in memory is the next months', not the whole horizon's.
        self._slices: list[tuple[date, int, int, Callable[[], None]]] = []
        self._slice_seq = itertools.count()  # its own: commands' numbers must not depend on it
        self._recent: dict[str, deque[TaskPlan]] = defaultdict(lambda: deque(maxlen=400))
        self.agencies: list[tuple[str, str, str]] = []  # code, name, kind
        self.weights: dict[str, float] = {}
        self.heads: dict[str, str] = {}
        self.deputy_fields: dict[str, list[str]] = {}
        self.planned_tasks = 0
        self._setup()

    # -- public ----------------------------------------------------------------------

    def year_days(self, year: int) -> tuple[date, date]:
        return date(year, 1, 1), date(year, 12, 31)

    def commands_until(self, last_day: date) -> Iterator[Command]:
        """Every planned command recorded on or before `last_day`, in recording order.

        The plan is the same however the horizon is cut (a year at a time or all at
        once): a slice of planning runs exactly when the commands reach its day."""
        for year in range(self.config.start_year, last_day.year + 1):
            self._schedule_year(year)
        heap, slices = self._heap, self._slices
        while True:
            # A slice plans commands on or after its day: it runs before any of them.
            if slices and slices[0][0] <= last_day and (not heap or slices[0][0] <= heap[0][0]):
                heapq.heappop(slices)[3]()
            elif heap and heap[0][0] <= last_day:
                yield heapq.heappop(heap)[3]
            else:
                return

    def commands_for_years(self, years: int) -> Iterator[Command]:
        return self.commands_until(date(self.config.start_year + years - 1, 12, 31))

    # -- planning helpers ------------------------------------------------------------

    def _push(self, day: date, order: int, kind: str, *args, remember=None, **kwargs) -> None:
        command = Command(
            day, order, next(self._seq), kind, tuple(args), tuple(sorted(kwargs.items())), remember
        )
        heapq.heappush(self._heap, (day, order, command.seq, command))

    def _person(self) -> str:
        rng = self.rng
        return f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"

    def _working_day(self, first: date, last: date) -> date:
        for _ in range(10):
            day = _between(self.rng, first, last)
            if self.calendar.is_working_day(day):
                return day
        return day

    # -- the agencies, before the first year ----------------------------------------------

    def _setup(self) -> None:
        rng, config = self.rng, self.config
        units: list[tuple[str, str, str]] = []
        for code, name in DEPARTMENTS:
            units.append((code, name, "so"))
        for code, name in DISTRICTS:
            units.append((code, name, "quan-huyen"))
        number = 1
        while len(units) < config.agencies:
            label = UNIT_KINDS[(number - 1) % len(UNIT_KINDS)]
            units.append((f"DV{number:03d}", f"{label} số {number}", "don-vi-su-nghiep"))
            number += 1
        self.agencies = units[: config.agencies]
        # Departments get most tasks, districts many, units few.
        for code, _, kind in self.agencies:
            base = {"so": 6.0, "quan-huyen": 3.0}.get(kind, 0.6)
            self.weights[code] = base * rng.uniform(0.4, 1.6)
        day0 = date(config.start_year, 1, 1)
        for code, name, kind in self.agencies:
            self._push(day0, SETUP, "register_agency", code, name, kind)
        for code, _, _ in self.agencies:
            person = self._person()
            self.heads[code] = person
            start = day0 - timedelta(days=rng.randint(30, 5 * 365))
            self._push(day0, HEADS, "appoint_head", code, person, start)
            fields = rng.sample(FIELDS, 2)
            self.deputy_fields[code] = fields
            for field_name in fields:
                self._push(day0, HEADS, "appoint_deputy", code, self._person(), field_name, start)

    # -- one year -----------------------------------------------------------------------

    def _schedule_year(self, year: int) -> None:
        if year in self._planned_years:
            return
        self._planned_years.add(year)
        self._add_slice(date(year, 1, 1), 0, lambda: self._plan_year(year))

    def _add_slice(self, day: date, order: int, plan: Callable[[], None]) -> None:
        heapq.heappush(self._slices, (day, order, next(self._slice_seq), plan))

    def _plan_year(self, year: int) -> None:
        """What is decided for the whole year on its first day; each month's directives,
        tasks and documents are planned when that month begins."""
        first, last = self.year_days(year)
        self._plan_head_changes(year)
        directives = self._directive_batches(first, last)
        documents = self._document_days(first, last)
        for month in range(1, 13):
            begins = date(year, month, 1)
            batches = [b for b in directives if b[0].month == month]
            days = [d for d in documents if d.month == month]
            self._add_slice(begins, 1, lambda b=batches, d=days: self._plan_month(b, d))
        self._plan_assessments(year)
        if self.config.escalation:
            for month in range(1, 13):
                end = (date(year, month, 28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
                self._push(end, PASS, "escalate", end)

    def _plan_month(self, batches, document_days: list[date]) -> None:
        self._plan_directives(batches)
        self._plan_documents(document_days)

    def _plan_head_changes(self, year: int) -> None:
        rng = self.rng
        for code, _, _ in self.agencies:
            if rng.random() < self.config.head_change_rate:
                start = self._working_day(date(year, 1, 2), date(year, 12, 31))
                person = self._person()
                while person == self.heads[code]:
                    person = self._person()
                self.heads[code] = person
                self._push(start, HEADS, "appoint_head", code, person, start)

    def _directive_batches(self, first: date, last: date) -> list[tuple]:
        """The year's directives: (day of issue, number suffix, kind, tasks), by day."""
        rng = self.rng
        target = self.config.tasks_per_year
        planned = 0
        kinds = [(k, k[2]) for k in DIRECTIVE_KINDS]
        batches = []
        while planned < target:
            suffix, kind, _, (low, high) = _weighted(rng, kinds)
            count = min(rng.randint(low, high), target - planned)
            issued = self._working_day(first, last)
            batches.append((issued, suffix, kind, count))
            planned += count
        # Numbers follow the dates of issue, as a registry would give them.
        batches.sort(key=lambda b: b[0])
        return batches

    def _plan_directives(self, batches) -> None:
        rng = self.rng
        codes = [c for c, _, _ in self.agencies]
        weights = [self.weights[c] for c in codes]
        for issued, suffix, kind, count in batches:
            number = f"{next(self._directive_numbers[suffix])}/{suffix}"
            leader = rng.choice(LEADERS)
            title = f"{kind} về {rng.choice(OBJECTS)}"
            self._push(
                issued,
                DIRECTIVE,
                "register_directive",
                number,
                issued,
                title,
                kind,
                "UBND thành phố" if kind != "Thông báo kết luận" else leader,
            )
            for index in range(count):
                clause = self._clause(index)
                self._plan_task(number, clause, issued, leader, codes, weights)

    def _clause(self, index: int) -> str:
        major, minor = divmod(index, 4)
        clause = f"{major + 1}.{minor + 1}"
        if self.rng.random() < 0.1:
            clause += ".a"
        return clause

    def _deadline(self, assigned: date) -> tuple[str, Any, date | None]:
        rng = self.rng
        form = _weighted(rng, [("date", 45), ("period", 20), ("working_days", 15), ("none", 20)])
        if form == "date":
            days = rng.choice([5, 7, 10, 15, 20, 30, 30, 45, 60, 60, 90, 120, 180, 270])
            due = assigned + timedelta(days=days)
            if rng.random() < 0.2:  # "trước ngày X": by the end of X − 1
                due -= timedelta(days=1)
            return "date", due, due
        if form == "period":
            shape = _weighted(rng, [("month", 3), ("quarter", 5), ("year", 2)])
            if shape == "year":
                return "period", str(assigned.year), date(assigned.year, 12, 31)
            if shape == "month":
                ahead = rng.randint(0, 2)
                month_index = assigned.year * 12 + assigned.month - 1 + ahead
                year, month = divmod(month_index, 12)
                month += 1
                end = (date(year, month, 28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
                return "period", f"{year}-{month:02d}", end
            quarter_index = assigned.year * 4 + (assigned.month - 1) // 3 + rng.randint(0, 2)
            year, quarter = divmod(quarter_index, 4)
            end_month = 3 * (quarter + 1)
            end = (date(year, end_month, 28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
            return "period", f"{year}Q{quarter + 1}", end
        if form == "working_days":
            n = rng.choice([3, 5, 7, 10, 10, 15, 20, 30])
            return "working_days", n, self.calendar.add_working_days(assigned, n)
        return "none", None, None

    def _plan_task(self, directive, clause, assigned, leader, codes, weights) -> None:
        rng = self.rng
        n = next(self._task_counter)
        self.planned_tasks += 1
        lead_count = _weighted(rng, [(1, 85), (2, 12), (3, 3)])
        leads: list[str] = []
        while len(leads) < lead_count:
            code = rng.choices(codes, weights)[0]
            if code not in leads:
                leads.append(code)
        coordinators: list[str] = []
        for _ in range(_weighted(rng, [(0, 45), (1, 25), (2, 20), (3, 10)])):
            code = rng.choices(codes, weights)[0]
            if code not in leads and code not in coordinators:
                coordinators.append(code)
        kind, value, due = self._deadline(assigned)
        self._push(
            assigned,
            ASSIGN,
            "assign_task",
            directive,
            f"{rng.choice(VERBS)} {rng.choice(OBJECTS)}",
            tuple(leads),
            DeadlineInput(kind, value),
            clause=clause,
            coordinators=tuple(coordinators),
            leader=leader if rng.random() < 0.6 else None,
            remember=f"task:{n}",
        )
        ref = TaskRef(n)
        closed_on = self._plan_life(ref, assigned, due, leads, codes, weights)
        plan = TaskPlan(n, leads, assigned, due, closed_on)
        for code in leads:
            self._recent[code].append(plan)

    def _plan_life(self, ref, a: date, due, leads, codes, weights) -> date | None:
        """Plan the task's facts after its assignment; returns the day it closes."""
        rng = self.rng
        extension = None  # (kind, on, to)
        if due is None:
            r = rng.random()
            if r < 0.03:
                close = ("cancel", a + timedelta(days=rng.randint(30, 300)))
            elif r < 0.33:
                close = ("complete", a + timedelta(days=rng.randint(60, 400)))
            else:
                close = None
            horizon = close[1] if close else a + timedelta(days=3 * 365)
            reports = []
            day = a + timedelta(days=rng.randint(60, 100))
            while day < horizon and len(reports) < 12:
                reports.append(day)
                day += timedelta(days=rng.randint(75, 110))
        else:
            effective = current = due
            r = rng.random()
            if r < 0.10 and due > a + timedelta(days=1):
                on = _between(rng, max(a + timedelta(days=1), due - timedelta(days=20)), due)
                to = due + timedelta(days=rng.randint(10, 60))
                extension = ("approve_extension", on, to)
                effective = current = to
            elif r < 0.13:
                on = due + timedelta(days=rng.randint(1, 20))
                to = on + timedelta(days=rng.randint(10, 45))
                extension = ("approve_extension", on, to)
                current = to
            elif r < 0.15:
                on = _between(rng, a, due)
                extension = ("refuse_extension", on, due + timedelta(days=30))
            o = rng.random()
            if o < 0.04:
                close = (
                    "cancel",
                    _between(rng, a + timedelta(days=1), current + timedelta(days=30)),
                )
            elif o < 0.76:
                span = max((effective - a).days, 1)
                early = min(int(rng.expovariate(1 / max(span * 0.25, 1))), span - 1)
                close = ("complete", max(a + timedelta(days=1), effective - timedelta(days=early)))
            elif o < 0.93:
                close = ("complete", effective + timedelta(days=rng.randint(1, 90)))
            else:
                close = ("complete", effective + timedelta(days=rng.randint(120, 700)))
            if extension is not None and extension[1] >= close[1]:
                extension = None  # closed before the leader decided: no decision
            last_report = close[1] - timedelta(days=1)
            k = _weighted(rng, [(0, 20), (1, 35), (2, 25), (3, 12), (4, 8)])
            if last_report <= a:
                k = 0
            reports = sorted({_between(rng, a + timedelta(days=1), last_report) for _ in range(k)})
        # Progress reports, with rising percentages.
        percent = 0
        for index, day in enumerate(reports):
            percent = min(95, percent + rng.randint(10, 40))
            note = f"Báo cáo số {rng.randint(1, 999)}/BC" if rng.random() < 0.5 else None
            # A report logged by mistake, retracted days later: only then is its event
            # id remembered (the runner would otherwise keep millions of them).
            name = f"progress:{ref.n}:{index}" if rng.random() < 0.004 else None
            self._push(day, PROGRESS, "report_progress", ref, percent, day, note, remember=name)
            if name is not None:
                later = day + timedelta(days=rng.randint(1, 5))
                self._push(later, CORRECT, "correct", EventRef(name), "Ghi nhầm báo cáo tiến độ")
        if extension is not None:
            kind, on, to = extension
            self._push(on, EXTENSION, kind, ref, to, on, "Đề nghị gia hạn do vướng mắc thủ tục")
        if rng.random() < 0.005 and close is not None and close[1] > a + timedelta(days=2):
            on = a + timedelta(days=1)
            others = [c for c in codes if c not in leads]
            self._push(
                on, PROGRESS, "reassign", ref, (rng.choice(others),), on, "Giao lại theo chức năng"
            )
        if close is None:
            return None
        kind, on = close
        if kind == "cancel":
            self._push(on, CLOSE, "cancel", ref, on, "Không còn phù hợp, dừng thực hiện")
        else:
            lag = 0 if rng.random() < 0.7 else rng.randint(1, 5)
            doc = f"{next(self._completion_docs)}/BC" if rng.random() < 0.8 else None
            self._push(on + timedelta(days=lag), CLOSE, "complete", ref, on, doc)
        return on

    def _document_days(self, first: date, last: date) -> list[date]:
        return sorted(self._working_day(first, last) for _ in range(self.config.documents))

    def _plan_documents(self, days: list[date]) -> None:
        rng = self.rng
        codes = [c for c, _, _ in self.agencies]
        weights = [self.weights[c] for c in codes]
        for day in days:
            kind = _weighted(rng, DOCUMENT_KINDS)
            targets: list[str] = []
            for _ in range(_weighted(rng, [(1, 70), (2, 20), (3, 10)])):
                code = rng.choices(codes, weights)[0]
                if code not in targets:
                    targets.append(code)
            agencies, heads, persons = [], [], []
            field_name = None
            for code in targets:
                r = rng.random()
                if kind == "phe_binh" and r < 0.5:
                    heads.append(code)
                    if rng.random() < 0.8:
                        field_name = rng.choice(self.deputy_fields[code])
                elif r < 0.25:
                    heads.append(code)
                else:
                    agencies.append(code)
            if rng.random() < 0.1:
                persons.append(self._person())
            cited: list[TaskRef] = []
            if kind != "bieu_duong":
                for code in targets:
                    overdue = [
                        p
                        for p in self._recent[code]
                        if p.due is not None
                        and p.due < day - timedelta(days=7)
                        and (p.closed_on is None or p.closed_on > day)
                    ]
                    for plan in rng.sample(overdue, min(len(overdue), rng.randint(0, 3))):
                        cited.append(TaskRef(plan.n))
            number = f"{next(self._document_numbers)}/UBND-NC"
            self._push(
                day,
                DOCUMENT,
                "issue_document",
                kind,
                number,
                day,
                Addressees(tuple(agencies), tuple(heads), tuple(persons)),
                reason=(
                    "Chậm thực hiện nhiệm vụ được giao"
                    if kind != "bieu_duong"
                    else "Hoàn thành xuất sắc nhiệm vụ"
                ),
                issuer=rng.choice(LEADERS),
                field=field_name,
                task_ids=tuple(cited),
            )

    def _plan_assessments(self, year: int) -> None:
        rng = self.rng
        day = date(year, 12, 15)
        for code, _, _ in self.agencies:
            if rng.random() < 0.1:
                criterion = rng.choice(["tham_muu", "phoi_hop", "che_do_bao_cao"])
                points = float(rng.randint(5, 9))
                self._push(
                    day,
                    ASSESS,
                    "record_assessment",
                    code,
                    year,
                    criterion,
                    points,
                    "Chất lượng chưa đạt yêu cầu theo đánh giá của Văn phòng UBND thành phố",
                )


# -- running the plan through the ledger ----------------------------------------------------


class SimClock:
    """The simulated "now": 08:00 local time on the recording day, 10 ms per call."""

    def __init__(self) -> None:
        self.base = datetime(2000, 1, 1, 8, 0, tzinfo=LOCAL_TZ)
        self.ticks = 0

    def set_day(self, day: date) -> None:
        base = datetime.combine(day, dtime(8, 0), tzinfo=LOCAL_TZ)
        if base != self.base:
            self.base = base
            self.ticks = 0

    def __call__(self) -> datetime:
        self.ticks += 1
        return self.base + timedelta(milliseconds=10 * self.ticks)


@dataclass
class RunStats:
    commands: int = 0
    events: int = 0
    seconds: float = 0.0
    by_kind: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    escalation_seconds: float = 0.0
    escalation_events: int = 0
    escalation_passes: int = 0
    warnings: int = 0
    batches: int = 0  # 0: one transaction per command
    # How long each full pass of the cycle collector took while commands ran one
    # per transaction: a pass walks every object of this process — the plan and
    # the ids it keeps among them —, inside whichever command it interrupted.
    full_collections_s: list[float] = field(default_factory=list)

    @property
    def command_events(self) -> int:
        return self.events - self.escalation_events

    def merge(self, other: RunStats) -> None:
        self.commands += other.commands
        self.events += other.events
        self.seconds += other.seconds
        for kind, values in other.by_kind.items():
            self.by_kind[kind].extend(values)
        self.escalation_seconds += other.escalation_seconds
        self.escalation_events += other.escalation_events
        self.escalation_passes += other.escalation_passes
        self.warnings += other.warnings
        self.batches += other.batches
        self.full_collections_s.extend(other.full_collections_s)


@contextmanager
def heap_frozen() -> Iterator[None]:
    """This process's objects so far — the plan, the ids the runner keeps — left out
    of the cycle collector's passes meanwhile. They live to the end, and a full pass
    would walk them all inside whichever command it interrupted: 2.2 s in one
    command of a tenth of a national year's sample, 17 s in the national year's —
    a cost of the benchmark's own heap, not of the command. A nhiemvu process holds
    no such heap (one command a process; the scheduler's passes are small)."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@contextmanager
def full_collections_timed(into: list[float]) -> Iterator[None]:
    """Append to `into` the duration of each full (generation 2) pass of the cycle
    collector meanwhile."""
    started: list[float] = []

    def on_collection(phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            started.append(time.perf_counter())
        elif started:
            into.append(time.perf_counter() - started.pop())

    gc.callbacks.append(on_collection)
    try:
        yield
    finally:
        gc.callbacks.remove(on_collection)


class Runner:
    """Feeds planned commands to an `App` with a simulated clock, timing each."""

    def __init__(self, url: str, actor: str = "benchmark", check_schema: bool = True) -> None:
        from application.app import App  # noqa: PLC0415

        self.clock = SimClock()
        self.app = App(url, actor, now=self.clock, check_schema=check_schema)
        self.ledger = self.app.ledger
        self.task_ids: dict[int, str] = {}
        self.event_ids: dict[str, str] = {}
        self._rulebooks: dict[int, Any] = {}

    def close(self) -> None:
        self.app.close()

    def _resolve(self, value):
        if isinstance(value, TaskRef):
            return self.task_ids[value.n]
        if isinstance(value, EventRef):
            return self.event_ids[value.name]
        if isinstance(value, tuple):
            return [self._resolve(v) for v in value]
        return value

    def _rulebook(self, year: int):
        if year not in self._rulebooks:
            from workflow.rulebook import rulebook_in_force  # noqa: PLC0415

            self._rulebooks[year] = rulebook_in_force(date(year, 12, 31))
        return self._rulebooks[year]

    def execute(self, command: Command):
        """Run one command; returns the ledger's result."""
        self.clock.set_day(command.day)
        args = [self._resolve(a) for a in command.args]
        kwargs = {k: self._resolve(v) for k, v in command.kwargs}
        ledger = self.ledger
        kind = command.kind
        if kind == "escalate":
            from application.escalation import run_escalation_pass  # noqa: PLC0415

            return run_escalation_pass(ledger, as_of=args[0])
        if kind == "assign_task":
            directive, title, leads, deadline = args
            return ledger.assign_task(directive, title, leads, deadline, **kwargs)
        if kind == "reassign":
            task_id, leads, on, reason = args
            return ledger.reassign(task_id, leads, on, reason)
        if kind == "record_assessment":
            code, year, criterion, points, reason = args
            return ledger.record_assessment(
                code, year, criterion, points, reason, self._rulebook(year)
            )
        if kind == "issue_document":
            kind_, number, on, addressees = args
            kwargs["task_ids"] = list(kwargs["task_ids"])
            return ledger.issue_document(kind_, number, on, addressees, **kwargs)
        return getattr(ledger, kind)(*args, **kwargs)

    def run(
        self,
        commands: Iterable[Command],
        on_progress: Callable[[int, RunStats], None] | None = None,
        batch_size: int | None = None,
    ) -> RunStats:
        """Feed the commands: one transaction each, or `batch_size` at a time in one
        `Ledger.batch()` each (the clock still moves from command to command)."""
        stats = RunStats()
        if batch_size is None:
            with full_collections_timed(stats.full_collections_s):
                for command in commands:
                    self._timed(command, stats)
                    if on_progress is not None and stats.commands % 5000 == 0:
                        on_progress(stats.commands, stats)
            return stats
        pending: list[Command] = []
        reported = 0
        for command in itertools.chain(commands, [None]):
            if pending and (command is None or len(pending) >= batch_size):
                started = time.perf_counter()
                with self.ledger.batch():
                    self.ledger.prefetch(self._known_tasks(pending))
                    for queued in pending:
                        self._timed(queued, stats, batched=True)
                stats.seconds += time.perf_counter() - started
                stats.batches += 1
                pending = []
                if on_progress is not None and stats.commands - reported >= 50_000:
                    reported = stats.commands
                    on_progress(stats.commands, stats)
            if command is not None:
                pending.append(command)
        return stats

    def _known_tasks(self, commands: list[Command]) -> list[str]:
        """Ids of the existing tasks these commands name (read in one go by a batch)."""
        refs = [
            value
            for command in commands
            for value in (*command.args, *(v for _, v in command.kwargs))
            for value in (value if isinstance(value, tuple) else (value,))
            if isinstance(value, TaskRef) and value.n in self.task_ids
        ]
        return [self.task_ids[ref.n] for ref in refs]

    def _timed(self, command: Command, stats: RunStats, batched: bool = False) -> None:
        started = time.perf_counter()
        result = self.execute(command)
        elapsed = time.perf_counter() - started
        stats.commands += 1
        if not batched:  # a batch is timed whole, its commit included
            stats.seconds += elapsed
            stats.by_kind[command.kind].append(elapsed)
        if command.kind == "escalate":
            raised = sum(1 for o in result.outcomes if o.raised)
            stats.events += raised
            stats.escalation_events += raised
            stats.escalation_seconds += elapsed
            stats.escalation_passes += 1
            return
        stats.events += len(result.events)
        stats.warnings += len(result.warnings)
        if command.kind == "assign_task":
            self.task_ids[int(command.remember.split(":")[1])] = result.key
        elif command.remember is not None:
            self.event_ids[command.remember] = result.events[0].event_id


# -- a fixed small workload, for the side-by-side comparison ---------------------------------


def simple_workload(n_tasks: int, seed: int = 7) -> list[tuple[str, int, date]]:
    """(step, task number, business date) for: assign, report twice, complete — each task."""
    rng = random.Random(seed)
    steps = []
    base = date(2024, 3, 1)
    for n in range(n_tasks):
        steps.append(("assign", n, base))
    for n in range(n_tasks):
        steps.append(("report", n, base + timedelta(days=rng.randint(1, 10))))
    for n in range(n_tasks):
        steps.append(("report", n, base + timedelta(days=rng.randint(11, 20))))
    for n in range(n_tasks):
        steps.append(("complete", n, base + timedelta(days=rng.randint(21, 30))))
    return steps
