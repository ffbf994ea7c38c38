"""The rating rules as data: a rulebook file names its sources and is checked on load.

The rules change over time (Hải Phòng decided in 2023 to amend QĐ 44/2019), so a
rating names the rulebook it used, and `rulebook_in_force` picks the file whose
effective window contains a date. Every parameter in a file carries its source
and says whether it is modelled (not read from the gazette text).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from .agencies import KINDS
from .dates import format_date
from .errors import DomainError
from .toml_errors import load_toml

HTXS, HTT, HT, KHT, KXL = "HTXS", "HTT", "HT", "KHT", "KXL"
# Best first: a gate "at most X" keeps the worse of the current band and X.
BAND_ORDER = (HTXS, HTT, HT, KHT)
THRESHOLD_BANDS = (HTXS, HTT, HT)

DEDUCTION_KINDS = ("nhac_nho", "rut_kinh_nghiem", "phe_binh")
ROUNDING_MODES = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN}
RANKING_KEYS = {
    "score": "điểm",
    "overdue": "số nhiệm vụ quá hạn",
    "late": "số nhiệm vụ hoàn thành quá hạn",
    "criticisms": "số văn bản phê bình",
    "reminders": "số văn bản nhắc nhở, rút kinh nghiệm",
    "n": "số nhiệm vụ đến hạn",
    "agency": "mã cơ quan",
}
ESCALATION_LEVELS = (1, 2, 3)
MAX_OVERDUE_DAYS = 366
MAX_REMINDER_WORKING_DAYS = 60

RULEBOOK_GLOB = "rulebook_*.toml"


class RulebookError(DomainError, ValueError):
    """A rulebook that cannot be used; `parameter` names the offending entry, if any."""

    def __init__(self, message: str, parameter: str | None = None) -> None:
        super().__init__(message)
        self.parameter = parameter


@dataclass(frozen=True)
class Source:
    key: str
    document: str
    supports: str
    text_obtained: bool


@dataclass(frozen=True)
class Parameter:
    """Where one number comes from: what a reviewer checks against the gazette."""

    name: str
    value: Any
    sources: tuple[str, ...]
    modelled: bool
    note: str = ""
    label: str | None = None


@dataclass(frozen=True)
class TaskResults:
    max: Decimal
    late_weight: Decimal
    when_no_tasks: Decimal


@dataclass(frozen=True)
class Criterion:
    code: str
    label: str
    max: Decimal


@dataclass(frozen=True)
class Deductions:
    nhac_nho: Decimal
    rut_kinh_nghiem: Decimal
    phe_binh: Decimal

    def for_kind(self, kind: str) -> Decimal:
        return getattr(self, kind)


@dataclass(frozen=True)
class Bonus:
    bieu_duong: Decimal
    cap: Decimal


@dataclass(frozen=True)
class ScoreScale:
    min: Decimal
    max: Decimal
    decimals: int
    rounding: str

    def finish(self, raw: Decimal) -> Decimal:
        """Clamp to the scale, then round: the number compared with the bands."""
        return self.finish_rounding(min(max(raw, self.min), self.max))

    def finish_rounding(self, value: Decimal) -> Decimal:
        step = Decimal(1).scaleb(-self.decimals)
        return value.quantize(step, rounding=ROUNDING_MODES[self.rounding])


@dataclass(frozen=True)
class Bands:
    thresholds: tuple[tuple[str, Decimal], ...]  # (HTXS, 90), (HTT, 70), (HT, 50)
    labels: tuple[tuple[str, str], ...]

    def band_for(self, score: Decimal) -> str:
        for code, threshold in self.thresholds:
            if score >= threshold:
                return code
        return KHT

    def label(self, code: str) -> str:
        return dict(self.labels)[code]

    def threshold(self, code: str) -> Decimal:
        return dict(self.thresholds)[code]


@dataclass(frozen=True)
class Gates:
    htxs_requires_no_overdue: bool
    htxs_requires_no_phe_binh: bool
    htxs_fallback: str
    phe_binh_count: int
    phe_binh_cap: str
    min_completed_share: Decimal
    low_share_band: str


@dataclass(frozen=True)
class TieBreak:
    key: str
    descending: bool


@dataclass(frozen=True)
class EscalationStep:
    level: int
    days_overdue: int  # calendar days after the deadline
    label: str


@dataclass(frozen=True)
class Escalation:
    reminder_working_days: int
    reminder_label: str
    levels: tuple[EscalationStep, ...]


@dataclass(frozen=True)
class Rulebook:
    id: str
    title: str
    version: str
    effective_from: date
    effective_to: date | None
    sources: tuple[Source, ...]
    parameters: tuple[Parameter, ...]
    task_results: TaskResults
    general_criteria: tuple[Criterion, ...]
    deductions: Deductions
    bonus: Bonus
    score: ScoreScale
    bands: Bands
    gates: Gates
    min_tenure_days: int
    tie_breaks: tuple[TieBreak, ...]
    escalation: Escalation
    cascade_phe_binh_to_deputy: bool
    # The first issue date the cascade applies to (None: every date the book covers).
    cascade_phe_binh_from: date | None = None
    # The kinds of agency (workflow.agencies.KINDS) whose heads are rated; None: all.
    rated_kinds: tuple[str, ...] | None = None
    origin: str = ""
    # What the book says, whatever its layout and comments (`content_digest`): a book
    # edited without a new version is not the book a rating was finalised under.
    digest: str = ""

    def rates_heads_of(self, kind: str) -> bool:
        return self.rated_kinds is None or kind in self.rated_kinds

    @property
    def stamp(self) -> dict[str, str]:
        """What names the book on a finalised rating."""
        return {"id": self.id, "version": self.version, "title": self.title, "digest": self.digest}

    @property
    def name(self) -> str:
        return f"{self.id} phiên bản {self.version}"

    def cascades_phe_binh_to_deputy(self, issued_on: date) -> bool:
        """Whether a phê bình of a head issued on that date also criticises the deputy
        in charge of its field (TB 129/2023 §2.8: not before the notice)."""
        start = self.cascade_phe_binh_from
        return self.cascade_phe_binh_to_deputy and (start is None or start <= issued_on)

    def in_force_on(self, day: date) -> bool:
        return self.effective_from <= day and (
            self.effective_to is None or day <= self.effective_to
        )

    def parameter(self, name: str) -> Parameter:
        for parameter in self.parameters:
            if parameter.name == name:
                return parameter
        raise KeyError(name)

    def criterion(self, code: str) -> Criterion | None:
        return next((c for c in self.general_criteria if c.code == code), None)

    @property
    def general_max(self) -> Decimal:
        return sum((c.max for c in self.general_criteria), Decimal(0))


def default_rulebooks_dir() -> Path:
    return Path(__file__).parent / "data"


def load_rulebook(path: str | Path) -> Rulebook:
    data = load_toml(path, "sổ quy tắc", RulebookError)
    return parse_rulebook(data, origin=str(path))


def rulebook_in_force(on: date, directory: str | Path | None = None) -> Rulebook:
    """The rulebook in force on `on` among the directory's files; the latest start wins."""
    folder, books = _books(directory)
    book = _in_force(on, folder, books)
    if book is None:
        raise _none_in_force(on, folder, books)
    return book


def _none_in_force(on: date, folder: Path, books: list[Rulebook]) -> RulebookError:
    known = "; ".join(f"{book.name} ({_window_text(book)})" for book in books)
    return RulebookError(
        f"Không có sổ quy tắc nào có hiệu lực vào ngày {format_date(on)} "
        f"trong thư mục '{folder}'. Các sổ hiện có: {known}. Hãy chọn một ngày trong "
        "thời gian hiệu lực của một sổ, hoặc chỉ rõ sổ bằng --rulebook TỆP nếu lệnh có "
        "tùy chọn đó."
    )


def rulebook_spans(
    until: date, directory: str | Path | None = None
) -> list[tuple[Rulebook, date, date]]:
    """The books in force up to `until`, each with the first and the last day it was
    (the day before the next one took over, or `until`), in date order; days no book
    covers are left out, and none covering `until` is refused as `rulebook_in_force`
    refuses it. A pass after downtime across a change of rules runs each span under
    its own book, as daily passes would have."""
    folder, books = _books(directory)
    if _in_force(until, folder, books) is None:
        raise _none_in_force(until, folder, books)
    days = sorted(
        {b.effective_from for b in books}
        | {b.effective_to + timedelta(days=1) for b in books if b.effective_to}
    )
    starts = [day for day in days if day <= until]
    spans: list[tuple[Rulebook, date, date]] = []
    for index, start in enumerate(starts):
        book = _in_force(start, folder, books)
        end = starts[index + 1] - timedelta(days=1) if index + 1 < len(starts) else until
        if book is None:
            continue
        if spans and spans[-1][0] is book:
            spans[-1] = (book, spans[-1][1], end)
        else:
            spans.append((book, start, end))
    return spans


def rulebook_in_force_if_any(on: date, directory: str | Path | None = None) -> Rulebook | None:
    """`rulebook_in_force`, or None on a date no book covers (before QĐ 44/2019)."""
    return _in_force(on, *_books(directory))


def _books(directory: str | Path | None) -> tuple[Path, list[Rulebook]]:
    folder = Path(directory) if directory is not None else default_rulebooks_dir()
    books = [load_rulebook(path) for path in sorted(folder.glob(RULEBOOK_GLOB))]
    if not books:
        raise RulebookError(
            f"Thư mục '{folder}' không có tệp sổ quy tắc nào (tên dạng {RULEBOOK_GLOB})."
        )
    return folder, books


def _in_force(on: date, folder: Path, books: list[Rulebook]) -> Rulebook | None:
    candidates = [book for book in books if book.in_force_on(on)]
    if not candidates:
        return None
    latest = max(book.effective_from for book in candidates)
    chosen = [book for book in candidates if book.effective_from == latest]
    if len(chosen) > 1:
        files = ", ".join(f"'{book.origin}'" for book in chosen)
        raise RulebookError(
            f"Có {len(chosen)} sổ quy tắc cùng hiệu lực từ ngày {format_date(latest)} "
            f"({files}): không biết chọn sổ nào. Hãy sửa ngày hiệu lực của một sổ."
        )
    return chosen[0]


def _window_text(book: Rulebook) -> str:
    end = format_date(book.effective_to) if book.effective_to else "nay"
    return f"{format_date(book.effective_from)}–{end}"


def parse_rulebook(data: Mapping[str, Any], origin: str = "sổ quy tắc") -> Rulebook:
    """Build and check a rulebook from parsed TOML; errors name the parameter."""
    return _Reader(data, origin).rulebook()


def content_digest(data: Mapping[str, Any]) -> str:
    """SHA-256 of a book's values (parsed TOML: comments, spacing and the order of its
    lines do not count; every value, label and note does)."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class _Reader:
    def __init__(self, data: Mapping[str, Any], origin: str) -> None:
        self.data = data
        self.origin = origin
        self.parameters: list[Parameter] = []
        self.read: set[str] = set()
        self.source_keys: set[str] = set()

    # -- errors ---------------------------------------------------------------

    def fail(self, message: str, parameter: str | None = None) -> RulebookError:
        return RulebookError(f"{message.rstrip('.')} (tệp '{self.origin}').", parameter)

    def missing(self, name: str) -> RulebookError:
        return self.fail(f"Sổ quy tắc thiếu tham số '{name}'.", name)

    # -- the whole book ---------------------------------------------------------

    def rulebook(self) -> Rulebook:
        identity = {key: self.header_text(key) for key in ("id", "title", "version")}
        effective_from = self.header_date("effective_from", required=True)
        effective_to = self.header_date("effective_to", required=False)
        if effective_to is not None and effective_to < effective_from:
            raise self.fail(
                f"Sổ quy tắc: 'effective_from' = {format_date(effective_from)} sau "
                f"'effective_to' = {format_date(effective_to)}",
                "effective_to",
            )
        sources = self.sources()
        score = self.score_scale()
        task_results = self.task_results(score)
        criteria = self.criteria(score)
        self.check_total(task_results, criteria, score)
        deductions = Deductions(
            **{kind: self.number(f"deductions.{kind}", 0, score.max) for kind in DEDUCTION_KINDS}
        )
        bonus = Bonus(
            bieu_duong=self.number("bonus.bieu_duong", 0, score.max),
            cap=self.number("bonus.cap", 0, score.max),
        )
        bands = self.bands(score)
        gates = self.gates()
        min_tenure_days = int(self.number("tenure.min_days", 0, 366, integer=True))
        tie_breaks = self.tie_breaks()
        escalation = self.escalation()
        cascade = self.boolean("cascade.phe_binh_head_to_deputy")
        cascade_from = self.optional_day("cascade.phe_binh_head_to_deputy_from")
        rated_kinds = self.rated_kinds()
        self.reject_unknown()
        return Rulebook(
            **identity,
            effective_from=effective_from,
            effective_to=effective_to,
            sources=sources,
            parameters=tuple(self.parameters),
            task_results=task_results,
            general_criteria=criteria,
            deductions=deductions,
            bonus=bonus,
            score=score,
            bands=bands,
            gates=gates,
            min_tenure_days=min_tenure_days,
            tie_breaks=tie_breaks,
            escalation=escalation,
            cascade_phe_binh_to_deputy=cascade,
            cascade_phe_binh_from=cascade_from,
            rated_kinds=rated_kinds,
            origin=self.origin,
            digest=content_digest(self.data),
        )

    def header_text(self, key: str) -> str:
        value = self.data.get(key)
        if value is None:
            raise self.missing(key)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(
                f"Sổ quy tắc: '{key}' phải là chuỗi khác rỗng (ví dụ {key} = \"1.0\"), "
                f"không phải {value!r}.",
                key,
            )
        self.read.add(key)
        return value.strip()

    def header_date(self, key: str, required: bool) -> date | None:
        self.read.add(key)
        value = self.data.get(key)
        if value is None or (value == "" and not required):
            if required:
                raise self.missing(key)
            return None
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        raise self.fail(
            f"Sổ quy tắc: '{key}' = {value!r} không phải một ngày. Hãy viết dạng 2019-12-20"
            + ("" if required else ', hoặc để trống "" nếu còn hiệu lực')
            + ".",
            key,
        )

    def sources(self) -> tuple[Source, ...]:
        raw = self.data.get("sources")
        self.read.add("sources")
        if not isinstance(raw, list) or not raw:
            raise self.fail(
                "Sổ quy tắc thiếu danh sách nguồn [[sources]] (mỗi nguồn có key, document, "
                "supports).",
                "sources",
            )
        result = []
        for index, entry in enumerate(raw, start=1):
            where = f"sources[{index}]"
            if not isinstance(entry, dict):
                raise self.fail(f"Sổ quy tắc: '{where}' phải là một bảng.", where)
            fields = {}
            for key in ("key", "document", "supports"):
                value = entry.get(key)
                if not isinstance(value, str) or not value.strip():
                    raise self.fail(
                        f"Sổ quy tắc: nguồn '{where}' thiếu '{key}' (chuỗi khác rỗng).",
                        f"{where}.{key}",
                    )
                fields[key] = value.strip()
            obtained = entry.get("text_obtained", False)
            if not isinstance(obtained, bool):
                raise self.fail(
                    f"Sổ quy tắc: '{where}.text_obtained' phải là true hoặc false.",
                    f"{where}.text_obtained",
                )
            if fields["key"] in self.source_keys:
                raise self.fail(f"Sổ quy tắc: khóa nguồn '{fields['key']}' bị lặp.", f"{where}.key")
            self.source_keys.add(fields["key"])
            result.append(Source(text_obtained=obtained, **fields))
        return tuple(result)

    # -- sections ---------------------------------------------------------------

    def score_scale(self) -> ScoreScale:
        low = self.number("score.min", 0, 100)
        high = self.number("score.max", 0, 100)
        if high <= low:
            raise self.fail(
                f"Sổ quy tắc: 'score.max' = {_show(high)} phải lớn hơn 'score.min' = {_show(low)}.",
                "score.max",
            )
        decimals = int(self.number("score.decimals", 0, 6, integer=True))
        rounding = self.choice("score.rounding", tuple(ROUNDING_MODES))
        return ScoreScale(low, high, decimals, rounding)

    def task_results(self, score: ScoreScale) -> TaskResults:
        top = self.number("task_results.max", 0, score.max)
        return TaskResults(
            max=top,
            late_weight=self.number("task_results.late_weight", 0, 1),
            when_no_tasks=self.number("task_results.when_no_tasks", 0, top),
        )

    def criteria(self, score: ScoreScale) -> tuple[Criterion, ...]:
        table = self.data.get("general_criteria")
        if not isinstance(table, dict) or not table:
            raise self.fail(
                "Sổ quy tắc thiếu bảng 'general_criteria' (ít nhất một tiêu chí chung).",
                "general_criteria",
            )
        result = []
        for code in table:
            name = f"general_criteria.{code}"
            points = self.number(name, 0, score.max)
            result.append(Criterion(code, self.label_of(name), points))
        return tuple(result)

    def check_total(self, tasks: TaskResults, criteria, score: ScoreScale) -> None:
        """T and G fill the scale exactly: a criterion deleted by mistake would
        otherwise lower every score silently."""
        total = tasks.max + sum((c.max for c in criteria), Decimal(0))
        if total != score.max:
            present = ", ".join(f"'general_criteria.{c.code}'" for c in criteria)
            raise self.fail(
                f"Sổ quy tắc: tổng điểm tối đa 'task_results.max' + 'general_criteria' = "
                f"{_show(total)}, phải bằng 'score.max' = {_show(score.max)}. "
                f"Các tiêu chí chung hiện có: {present} — thiếu hay thừa tiêu chí nào?",
                "general_criteria",
            )

    def bands(self, score: ScoreScale) -> Bands:
        thresholds = []
        for code in THRESHOLD_BANDS:
            name = f"bands.{code}"
            value = self.number(name, score.min, score.max)
            if thresholds and value >= thresholds[-1][1]:
                above = thresholds[-1]
                raise self.fail(
                    f"Sổ quy tắc: ngưỡng xếp loại phải giảm dần — tham số '{name}' = "
                    f"{_show(value)} phải nhỏ hơn 'bands.{above[0]}' = {_show(above[1])}.",
                    name,
                )
            thresholds.append((code, value))
        labels = self.data.get("band_labels")
        self.read.add("band_labels")
        if not isinstance(labels, dict):
            raise self.missing("band_labels")
        result = []
        for code in (*BAND_ORDER, KXL):
            label = labels.get(code)
            if not isinstance(label, str) or not label.strip():
                raise self.missing(f"band_labels.{code}")
            result.append((code, label.strip()))
        extra = sorted(set(labels) - {*BAND_ORDER, KXL})
        if extra:
            raise self.fail(
                f"Sổ quy tắc: 'band_labels.{extra[0]}' không phải mức xếp loại được hỗ trợ "
                f"({', '.join((*BAND_ORDER, KXL))}).",
                f"band_labels.{extra[0]}",
            )
        return Bands(tuple(thresholds), tuple(result))

    def gates(self) -> Gates:
        return Gates(
            htxs_requires_no_overdue=self.boolean("gates.htxs_requires_no_overdue"),
            htxs_requires_no_phe_binh=self.boolean("gates.htxs_requires_no_phe_binh"),
            htxs_fallback=self.choice("gates.htxs_fallback", BAND_ORDER[1:]),
            phe_binh_count=int(self.number("gates.phe_binh_count", 1, 100, integer=True)),
            phe_binh_cap=self.choice("gates.phe_binh_cap", BAND_ORDER),
            min_completed_share=self.number("gates.min_completed_share", 0, 1),
            low_share_band=self.choice("gates.low_share_band", BAND_ORDER),
        )

    def tie_breaks(self) -> tuple[TieBreak, ...]:
        name = "ranking.order"
        items = self.value(name)
        if not isinstance(items, list) or not items:
            raise self.fail(
                f"Sổ quy tắc: tham số '{name}' phải là danh sách dạng [\"score desc\", …].", name
            )
        result: list[TieBreak] = []
        for item in items:
            parts = item.split() if isinstance(item, str) else []
            if len(parts) != 2 or parts[0] not in RANKING_KEYS or parts[1] not in ("asc", "desc"):
                raise self.fail(
                    f"Sổ quy tắc: tham số '{name}' có mục {item!r} không hợp lệ. Mỗi mục là "
                    f"'<khóa> asc|desc' với khóa thuộc: {', '.join(RANKING_KEYS)}.",
                    name,
                )
            if any(t.key == parts[0] for t in result):
                raise self.fail(f"Sổ quy tắc: tham số '{name}' lặp khóa '{parts[0]}'.", name)
            result.append(TieBreak(parts[0], parts[1] == "desc"))
        return tuple(result)

    def escalation(self) -> Escalation:
        reminder = int(
            self.number(
                "escalation.reminder_working_days", 1, MAX_REMINDER_WORKING_DAYS, integer=True
            )
        )
        reminder_label = self.label_of("escalation.reminder_working_days")
        levels: list[EscalationStep] = []
        for level in ESCALATION_LEVELS:
            name = f"escalation.level_{level}_days_overdue"
            days = int(self.number(name, 1, MAX_OVERDUE_DAYS, integer=True))
            if levels and days <= levels[-1].days_overdue:
                previous = f"escalation.level_{levels[-1].level}_days_overdue"
                raise self.fail(
                    f"Sổ quy tắc: thang đôn đốc phải tăng dần — tham số '{name}' = {days} "
                    f"phải lớn hơn '{previous}' = {levels[-1].days_overdue}.",
                    name,
                )
            levels.append(EscalationStep(level, days, self.label_of(name)))
        return Escalation(reminder, reminder_label, tuple(levels))

    def label_of(self, name: str) -> str:
        """The Vietnamese name people see for a parameter already read."""
        label = next(p.label for p in self.parameters if p.name == name)
        if not label or not label.strip():
            raise self.fail(
                f"Sổ quy tắc: tham số '{name}' thiếu 'label' (tên hiển thị bằng tiếng Việt).",
                name,
            )
        return label.strip()

    # -- single parameters ------------------------------------------------------

    def value(self, name: str) -> Any:
        """The parameter's value, after recording its provenance."""
        raw = self.lookup(name)
        if not isinstance(raw, dict) or "value" not in raw:
            raise self.fail(
                f"Sổ quy tắc: tham số '{name}' phải có dạng "
                '{ value = …, source = "…", modelled = true|false }.',
                name,
            )
        unknown = sorted(set(raw) - {"value", "source", "modelled", "note", "label"})
        if unknown:
            raise self.fail(
                f"Sổ quy tắc: tham số '{name}' có khóa '{unknown[0]}' không được hỗ trợ.", name
            )
        sources = raw.get("source")
        sources = (sources,) if isinstance(sources, str) else sources
        if (
            not isinstance(sources, list | tuple)
            or not sources
            or not all(isinstance(s, str) for s in sources)
        ):
            raise self.fail(
                f"Sổ quy tắc: tham số '{name}' thiếu 'source' (khóa nguồn trong [[sources]]).",
                name,
            )
        for key in sources:
            if key not in self.source_keys:
                raise self.fail(
                    f"Sổ quy tắc: tham số '{name}' dẫn nguồn '{key}' không có trong [[sources]].",
                    name,
                )
        modelled = raw.get("modelled")
        if not isinstance(modelled, bool):
            raise self.fail(
                f"Sổ quy tắc: tham số '{name}' phải ghi rõ modelled = true (mô hình hóa, chưa "
                "đối chiếu văn bản gốc) hoặc modelled = false.",
                name,
            )
        for key in ("note", "label"):
            if key in raw and not isinstance(raw[key], str):
                raise self.fail(f"Sổ quy tắc: '{name}.{key}' phải là chuỗi.", name)
        self.parameters.append(
            Parameter(
                name=name,
                value=raw["value"],
                sources=tuple(sources),
                modelled=modelled,
                note=raw.get("note", ""),
                label=raw.get("label"),
            )
        )
        return raw["value"]

    def lookup(self, name: str) -> Any:
        node: Any = self.data
        for part in name.split("."):
            if not isinstance(node, dict) or part not in node:
                raise self.missing(name)
            node = node[part]
        self.read.add(name)
        return node

    def number(self, name: str, low, high, integer: bool = False) -> Decimal:
        value = self.value(name)
        kind_ok = isinstance(value, int) if integer else isinstance(value, int | float)
        if isinstance(value, bool) or not kind_ok:
            wanted = "số nguyên" if integer else "số"
            raise self.fail(f"Sổ quy tắc: tham số '{name}' = {value!r} phải là {wanted}.", name)
        # str() keeps 0.5 as 0.5 rather than the binary float's long expansion.
        number = Decimal(str(value))
        if not Decimal(low) <= number <= Decimal(high):
            raise self.fail(
                f"Sổ quy tắc: tham số '{name}' = {_show(number)} nằm ngoài khoảng "
                f"{_show(Decimal(low))}–{_show(Decimal(high))}.",
                name,
            )
        return number

    def boolean(self, name: str) -> bool:
        value = self.value(name)
        if not isinstance(value, bool):
            raise self.fail(
                f"Sổ quy tắc: tham số '{name}' = {value!r} phải là true hoặc false.", name
            )
        return value

    def rated_kinds(self) -> tuple[str, ...] | None:
        """`scope.rated_kinds`, which a book may leave out (every kind is rated)."""
        name = "scope.rated_kinds"
        if not self.present(name):
            return None
        value = self.value(name)
        if not isinstance(value, list) or not value or any(k not in KINDS for k in value):
            raise self.fail(
                f"Sổ quy tắc: tham số '{name}' phải là danh sách loại cơ quan, mỗi loại thuộc: "
                f"{', '.join(KINDS)}.",
                name,
            )
        return tuple(value)

    def present(self, name: str) -> bool:
        *sections, key = name.split(".")
        node: Any = self.data
        for section in sections:
            node = node.get(section) if isinstance(node, dict) else None
        return isinstance(node, dict) and key in node

    def optional_day(self, name: str) -> date | None:
        """A date parameter a book may leave out (None)."""
        if not self.present(name):
            return None
        value = self.value(name)
        if isinstance(value, datetime) or not isinstance(value, date):
            raise self.fail(
                f"Sổ quy tắc: tham số '{name}' = {value!r} phải là một ngày, "
                "viết không có ngoặc kép, ví dụ 2023-04-05.",
                name,
            )
        return value

    def choice(self, name: str, options: tuple[str, ...]) -> str:
        value = self.value(name)
        if value not in options:
            raise self.fail(
                f"Sổ quy tắc: tham số '{name}' = {value!r} không hợp lệ; chọn một trong: "
                f"{', '.join(options)}.",
                name,
            )
        return value

    def reject_unknown(self) -> None:
        """A misspelt or invented parameter would otherwise be silently ignored."""
        for name in _leaf_names(self.data):
            if not any(name == r or name.startswith(r + ".") for r in self.read):
                raise self.fail(
                    f"Sổ quy tắc: tham số '{name}' không được hỗ trợ (viết sai tên?).", name
                )


def _leaf_names(data: Mapping[str, Any], prefix: str = "") -> list[str]:
    names = []
    for key, value in data.items():
        name = f"{prefix}{key}"
        # A parameter is a table with `value`; any other table is a section to walk.
        if isinstance(value, dict) and "value" not in value:
            names.extend(_leaf_names(value, name + "."))
        else:
            names.append(name)
    return names


def _show(number: Decimal) -> str:
    """120 rather than 120.0; 0.5 as 0.5 — the way the file writes it."""
    return format(number.normalize(), "f")
