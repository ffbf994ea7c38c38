"""The import itself: every row through the Ledger's commands, each in its savepoint."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from events.database import WRITE
from events.errors import EventStoreError
from events.schema import log_head
from events.sql import Raw
from events.store import WaitNotice
from workflow.dates import format_date, parse_period
from workflow.errors import DomainError
from workflow.text import clipped, fold

from .. import loading, numbering, streams
from ..ledger import DeadlineInput, Ledger
from .agency_names import COLUMN_OF_OPTION, AgencyIndex
from .cells import blank
from .columns import COLUMN_BY_KEY
from .rows import ParsedRow, infer_kind, parse_row, task_id_for, task_rows
from .sheet import read_sheet
from .transaction import ImportStore

CREATED = "created"
EXISTS = "exists"
INVALID = "invalid"
WOULD_CREATE = "would_create"
STATUS_LABELS = {
    CREATED: "Đã tạo",
    EXISTS: "Đã có",
    INVALID: "Lỗi",
    WOULD_CREATE: "Sẽ tạo",
}


@dataclass
class RowResult:
    row: int
    status: str
    task: str | None = None
    directive: str | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "status": self.status,
            "task": self.task,
            "directive": self.directive,
            "errors": self.errors,
            "warnings": self.warnings,
            "actions": self.actions,
        }


@dataclass
class ImportReport:
    file: str
    sheet: str
    header_row: int
    rows: list[RowResult]
    skipped_rows: list[int]
    ignored_columns: list[str]
    dry_run: bool
    written: bool
    skip_invalid: bool = False
    other_sheets: list[str] = field(default_factory=list)
    stray_cells: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for r in self.rows if r.status == status)

    @property
    def refused(self) -> bool:
        """Invalid rows stopped the whole import (exit status 1)."""
        return self.count(INVALID) > 0 and not self.written and not self.skip_invalid

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "sheet": self.sheet,
            "header_row": self.header_row,
            "rows": [r.to_json() for r in self.rows],
            "created": self.count(CREATED),
            "existing": self.count(EXISTS),
            "invalid": self.count(INVALID),
            "would_create": self.count(WOULD_CREATE),
            "written": self.written,
            "dry_run": self.dry_run,
            "skipped_rows": self.skipped_rows,
            "ignored_columns": self.ignored_columns,
            "other_sheets": self.other_sheets,
            "stray_cells": self.stray_cells,
        }


# `directive add` takes the summary as --title, which names a task's content elsewhere.
_DIRECTIVE_COLUMNS = {**COLUMN_OF_OPTION, "--title": "summary"}


class _RowInvalid(Exception):
    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


def import_workbook(
    app,
    path: str | Path,
    sheet: str | None = None,
    dry_run: bool = False,
    skip_invalid: bool = False,
) -> ImportReport:
    data = read_sheet(path, sheet)
    rows, skipped = task_rows(data.rows)
    parsed = [parse_row(row, values, data.headers) for row, values in rows]

    with app.engine.connect() as base:
        connection = base.execution_options(**{WRITE: True})
        # Behind another writer (an import, a rebuild), said as a command says it: SQLite
        # waits at the BEGIN, PostgreSQL at the head's lock.
        notice = WaitNotice(app.store.on_wait)
        try:
            transaction = connection.begin()
            try:
                # Hold the log's write lock from the first check to the commit, so
                # what was validated is what gets written.
                lock = sa.select(log_head).where(log_head.c.id == 1).with_for_update()
                connection.execute(lock)
            except BaseException:
                transaction.rollback()
                raise
        finally:
            notice.over()
        try:
            store = ImportStore(app.store, connection)
            ledger = Ledger(store, app.ledger.actor, app.ledger.now)
            importer = _Importer(ledger, connection, data.headers)
            results = importer.apply_all(parsed)
            invalid = any(r.status == INVALID for r in results)
            created = any(r.status == CREATED for r in results)
            write = created and not dry_run and (skip_invalid or not invalid)
            if write:
                store.write_head()
                transaction.commit()
                # Said if the report then cannot be printed (cli_support._output_failed).
                app.store.committed_events += store.committed_events
            else:
                transaction.rollback()
        except BaseException:
            transaction.rollback()
            raise
    if not write:
        for result in results:
            if result.status == CREATED:
                result.status = WOULD_CREATE
    return ImportReport(
        file=str(path),
        sheet=data.name,
        header_row=data.header_row,
        rows=results,
        skipped_rows=skipped,
        ignored_columns=data.ignored,
        dry_run=dry_run,
        written=write,
        skip_invalid=skip_invalid,
        other_sheets=data.other_tables,
        stray_cells=data.stray_cells,
    )


@dataclass
class _Named:
    """The agencies a row names, as named on the day its task is given."""

    leads: list[str]
    coordinators: list[str]
    errors: list[str]
    warnings: list[str]


@dataclass
class _Identified:
    """A row with its agencies resolved and its task named (errors: it cannot be)."""

    parsed: ParsedRow
    leads: list[str] = field(default_factory=list)
    coordinators: list[str] = field(default_factory=list)
    directive: Any = None
    task: str | None = None
    errors: list[str] = field(default_factory=list)


class _Importer:
    def __init__(self, ledger: Ledger, connection: Connection, headers: dict[str, str]) -> None:
        self.ledger = ledger
        self.connection = connection
        self.raw = Raw(connection)
        self.headers = headers
        self.agencies = AgencyIndex(loading.load_agencies(connection))
        self.seen: dict[str, int] = {}
        # Each directive number as the first row (or the ledger) spelled it.
        self.spelled: dict[str, str] = {}
        # The keys the workbook's new directives will take: number → year → key.
        self.to_come: dict[str, dict[int, str]] = {}
        # The dates the workbook's new directives are issued on, by number: a row naming
        # one by the number alone is given its task on a row above's date.
        self.issued_to_come: dict[str, list[date]] = {}
        # The tasks of each directive the ledger had (see _edited_twin), with their keys.
        self.tasks_before: dict[str, list[tuple[Any, str]]] = {}
        # While the rows are identified (nothing written yet), what the ledger answered
        # for each number: a workbook names each directive on row after row.
        self.directives_seen: dict[tuple[str, date | None], Any] | None = None
        # Then, the directives found (rows write: only what is there can be kept). A
        # row that registered one is in the import for good: its savepoint is released.
        self.directives_found: dict[tuple[str, date | None], Any] = {}

    def label(self, key: str) -> str:
        return self.headers.get(key) or COLUMN_BY_KEY[key].header

    def apply_all(self, parsed: list[ParsedRow]) -> list[RowResult]:
        self.directives_seen = {}
        try:
            rows = [self._identify(p) for p in parsed]
        finally:
            self.directives_seen = None  # the rows' writes change the answers
        # A task of the ledger that no row names any more may be one a row now edits
        # (see _edited_twin): known only once every row is identified.
        self.named = {row.task for row in rows if row.task is not None}
        return [self._apply(row) for row in rows]

    def _identify(self, p: ParsedRow) -> _Identified:
        named = self._agencies_named(p, self._assigned_on(p))
        errors = p.errors + named.errors
        if errors:
            p.warnings += named.warnings
            return _Identified(p, errors=errors)
        # As the ledger has it, if it has it, or as a row above: 129/tb-ubnd is 129/TB-UBND.
        typed = p.number
        directive = self._directive(p.number, p.issued_on, p.assigned_on)
        if directive is None and p.issued_on is not None:
            self.issued_to_come.setdefault(numbering.split_year(p.number)[0].upper(), []).append(
                p.issued_on
            )
        p.number = directive["number"] if directive else self._number_to_come(p.number, p.issued_on)
        p.number = self.spelled.setdefault(p.number.upper(), p.number)
        task = task_id_for(p.number, p.clause, p.title, named.leads)
        if directive is not None and p.issued_on is None and not self._task_exists(task):
            directive, task, named = self._imported_before(typed, directive, task, p, named)
            p.number = directive["number"]
        p.warnings += named.warnings
        return _Identified(p, named.leads, named.coordinators, directive, task)

    def _assigned_on(self, p: ParsedRow) -> date | None:
        """The day the row's task is given, as `_create` will take it — the row's own,
        or its directive's (in the ledger, or registered by a row above) — if known:
        the agencies it names are those that bore the names that day."""
        if p.assigned_on is not None or not p.number:
            return p.assigned_on or p.issued_on
        directive = self._directive(p.number, p.issued_on, p.assigned_on)
        if directive is not None:
            return directive["issued_on"]
        if p.issued_on is not None:
            return p.issued_on
        base, year = numbering.split_year(p.number)
        issued = self.issued_to_come.get(base.upper(), [])
        # As `_directive` chooses among the years: the one typed, else the latest.
        return max((d for d in issued if year is None or d.year == year), default=None)

    def _agencies_named(self, p: ParsedRow, on: date | None) -> _Named:
        leads = self.agencies.resolve_cell(p.values.get("leads"), self.label("leads"), on)
        coordinators = self.agencies.resolve_cell(
            p.values.get("coordinators"), self.label("coordinators"), on
        )
        named = _Named(
            leads.codes,
            coordinators.codes,
            leads.errors + coordinators.errors,
            leads.warnings + coordinators.warnings,
        )
        if leads.unspecific:
            named.errors.append(
                f"Cột '{self.label('leads')}' ghi '{'; '.join(leads.unspecific)}': không phải một "
                "cơ quan cụ thể. Hãy ghi cơ quan chủ trì theo tên hoặc mã đã đăng ký."
            )
        if coordinators.unspecific:
            named.warnings.append(
                f"Cột '{self.label('coordinators')}' ghi '{'; '.join(coordinators.unspecific)}': "
                "không phải một cơ quan cụ thể, không ghi vào sổ (chỉ các cơ quan đã đăng ký "
                "được theo dõi)."
            )
        if not blank(p.values.get("leads")) and not (
            leads.codes or leads.errors or leads.unspecific
        ):
            named.errors.append(f"Thiếu đơn vị chủ trì (cột '{self.label('leads')}').")
        return named

    def _imported_before(self, typed: str, directive, task: str, p: ParsedRow, named: _Named):
        """A row naming its directive by the number alone, with no date: the directive
        of another year whose task for this row the ledger has (an earlier import,
        before a later year's directive took the number), else the one chosen — with
        the agencies as named on the day of the directive taken."""
        base, year = numbering.split_year(typed)
        if year is not None:
            return directive, task, named
        for other in numbering.directive_family(self.raw, base):
            if other["number"] == directive["number"]:
                continue
            then = named
            if p.assigned_on is None and other["issued_on"] != directive["issued_on"]:
                then = self._agencies_named(p, other["issued_on"])
                if then.errors:
                    continue
            candidate = task_id_for(other["number"], p.clause, p.title, then.leads)
            if self._task_exists(candidate):
                return other, candidate, then
        return directive, task, named

    def _apply(self, row: _Identified) -> RowResult:
        p, leads, coordinators = row.parsed, row.leads, row.coordinators
        result = RowResult(p.row, INVALID, directive=p.number, warnings=list(p.warnings))
        if row.errors:
            result.errors = row.errors
            return result
        result.task = row.task
        if result.task in self.seen:
            result.errors = [
                f"Trùng với dòng {self.seen[result.task]}: cùng văn bản, mục, nội dung và đơn vị "
                "chủ trì."
            ]
            return result
        self.seen[result.task] = p.row
        if self._task_exists(result.task):
            result.status = EXISTS
            if self._task_retracted(result.task):
                result.warnings.append(
                    f"Nhiệm vụ {result.task} của dòng này đã được nhập trước đây rồi rút lại "
                    "(`nhiemvu correct`); không nhập lại. Nếu việc rút lại là nhầm, hãy giao lại "
                    "nhiệm vụ bằng `nhiemvu task assign`."
                )
            else:
                result.warnings += self._differences(result.task, p)
            return result
        twin = self._edited_twin(p)
        if twin is not None:
            result.warnings.append(_twin_warning(twin, result.task))
        # A directive the workbook brings in is in the ledger from its first row on.
        directive = row.directive or self._directive(p.number, p.issued_on)
        try:
            with self.ledger.store.row():
                result.actions = self._create(p, result, leads, coordinators, directive)
        except _RowInvalid as exc:
            result.errors = exc.errors
            return result
        except (DomainError, EventStoreError) as exc:
            result.errors = [self._in_columns(str(exc))]
            return result
        result.status = CREATED
        return result

    def _task_exists(self, task_id: str) -> bool:
        # Asked once or twice a row: plain SQL, not a statement for SQLAlchemy to build.
        found = self.raw.one(
            "SELECT 1 FROM events WHERE stream_id = :stream LIMIT 1",
            {"stream": streams.task(task_id)},
        )
        return found is not None

    def _task_retracted(self, task_id: str) -> bool:
        """Its stream is there but its assignment was retracted: no projection row."""
        found = self.raw.one("SELECT 1 FROM proj_tasks WHERE task_id = :task", {"task": task_id})
        return found is None

    def _in_columns(self, message: str, columns: dict[str, str] = COLUMN_OF_OPTION) -> str:
        """A command's refusal with the workbook's columns for the command's options
        it names: "(--kind)" is "(cột 'Loại văn bản')" here."""

        def column(match: re.Match) -> str:
            key = columns.get(match.group(1))
            return f"(cột '{self.label(key)}')" if key else match.group(0)

        return re.sub(r"\((--[a-z-]+)\)", column, message)

    def _edited_twin(self, p: ParsedRow):
        """A task of the same directive and clause, named by no row of the workbook,
        whose content this row's resembles: the row may be that task edited since it
        was imported, and importing it would count the task twice. Only a warning: a
        workbook need not hold every task of a directive (one a month, one an agency)."""
        key = _title_key(p.title)
        if p.number not in self.tasks_before:
            # Read once a directive: the tasks this import adds are all named by rows.
            tasks = loading.iter_tasks(self.connection, directive=p.number)
            self.tasks_before[p.number] = [(task, _title_key(task.title)) for task in tasks]
        for task, other in self.tasks_before[p.number]:
            if task.id in self.named or task.clause != p.clause:
                continue
            similar = key in other or other in key
            if similar or difflib.SequenceMatcher(None, key, other).ratio() >= TWIN_LIKENESS:
                return task
        return None

    def _directive(
        self, number: str, issued_on: date | None = None, assigned_on: date | None = None
    ):
        """The ledger's directive of this number, matched as `task assign` matches it:
        of the year it was issued in if the row says (numbers restart every year), else
        the latest issued by the day the task was given, if the row says."""
        base, year = numbering.split_year(number)
        year = year or (issued_on.year if issued_on is not None else None)
        typed = base if year is None else numbering.with_year(base, year)
        seen, key = self.directives_seen, (typed.upper(), assigned_on)
        if seen is not None and key in seen:
            return seen[key]
        if seen is None and key in self.directives_found:
            return self.directives_found[key]
        found = loading.find_directive(self.connection, typed, assigned_on)[0]
        if seen is not None:
            seen[key] = found
        elif found is not None:
            self.directives_found[key] = found
        return found

    def _number_to_come(self, number: str, issued_on: date | None) -> str:
        """The key a directive the ledger does not have yet will take (registered by
        the rows in their order): its number, or with its year if another year's holds
        the number — in the ledger, or in a row above. Task ids are made from it, so a
        second import finds the same ones."""
        base, _ = numbering.split_year(number)
        if issued_on is None:
            return base
        years = self.to_come.setdefault(base.upper(), {})
        if issued_on.year not in years:
            other = self._directive(base)
            first = next(iter(years.values()), None) or (other and other["number"])
            if first is None:
                years[issued_on.year] = base
            else:
                spelled = numbering.split_year(first)[0]
                years[issued_on.year] = numbering.with_year(spelled, issued_on.year)
        return years[issued_on.year]

    def _create(self, p: ParsedRow, result: RowResult, leads, coordinators, directive) -> list[str]:
        actions = []
        if directive is None:
            missing = []
            if p.issued_on is None:
                missing.append(f"ngày văn bản (cột '{self.label('issued_on')}')")
            if not p.summary:
                missing.append(f"trích yếu (cột '{self.label('summary')}')")
            if missing:
                raise _RowInvalid(
                    [
                        f"Văn bản {p.number} chưa có trong sổ; để ghi văn bản cần "
                        + " và ".join(missing)
                        + "."
                    ]
                )
            try:
                self.ledger.register_directive(
                    p.number, p.issued_on, p.summary, p.kind or infer_kind(p.number), p.issuer
                )
            except DomainError as exc:
                raise _RowInvalid([self._in_columns(str(exc), _DIRECTIVE_COLUMNS)]) from None
            actions.append(f"ghi văn bản {p.number}")
            issued_on = p.issued_on
        else:
            issued_on = directive["issued_on"]
            if p.issued_on is not None and p.issued_on != issued_on:
                raise _RowInvalid(
                    [
                        f"Văn bản {p.number} đã có trong sổ với ngày {format_date(issued_on)}, "
                        f"dòng này ghi ngày {format_date(p.issued_on)}. Kiểm tra lại số hoặc ngày "
                        "văn bản."
                    ]
                )
            if p.summary and _title_key(p.summary) != _title_key(directive["title"]):
                result.warnings.append(
                    f"Trích yếu khác với văn bản {p.number} đã có trong sổ; giữ trích yếu đã ghi."
                )
        assigned_on = p.assigned_on or issued_on
        due = _due_of(p.deadline)
        if due is not None and due < assigned_on:
            raise _RowInvalid(
                [
                    f"Thời hạn {format_date(due)} trước ngày giao {format_date(assigned_on)} "
                    f"({'cột ' + repr(self.label('assigned_on')) if p.assigned_on else 'ngày văn bản'}"
                    "). Hãy kiểm tra lại thời hạn."
                ]
            )
        assigned = self.ledger.assign_task(
            p.number,
            p.title,
            leads,
            p.deadline,
            clause=p.clause,
            coordinators=coordinators,
            assigned_on=p.assigned_on,
            leader=p.leader,
            task_id=result.task,
            done_on=p.completion.on,
        )
        result.warnings.extend(assigned.warnings)
        actions.append("giao nhiệm vụ")
        if p.completion.on is not None:
            self.ledger.complete(result.task, p.completion.on, p.completion.doc)
            actions.append(f"ghi hoàn thành ngày {format_date(p.completion.on)}")
        return actions

    def _differences(self, task_id: str, p: ParsedRow) -> list[str]:
        """What the workbook says that the ledger does not: shown, never written."""
        task = loading.load_task(self.connection, task_id)
        notes = []
        due = _due_of(p.deadline)
        if (
            p.deadline is not None
            and p.deadline.kind != "working_days"
            and (due != task.original_deadline)
        ):
            notes.append(
                f"Thời hạn trong tệp ({format_date(due) or 'không có'}) khác thời hạn đã ghi "
                f"({format_date(task.original_deadline) or 'không có'}); sổ không đổi. Gia hạn "
                f"ghi bằng `nhiemvu task extend {task_id}`."
            )
        on = p.completion.on
        if on is not None and task.completed_on is None:
            doc = f' --doc "{p.completion.doc}"' if p.completion.doc else ""
            notes.append(
                f"Tệp ghi hoàn thành ngày {format_date(on)} nhưng sổ chưa ghi: dùng "
                f"`nhiemvu task complete {task_id} --on {format_date(on)}{doc}`."
            )
        elif on is not None and on != task.completed_on:
            notes.append(
                f"Tệp ghi hoàn thành ngày {format_date(on)}, sổ ghi "
                f"{format_date(task.completed_on)}; sổ không đổi."
            )
        elif on is None and task.completed_on is not None:
            notes.append(
                f"Sổ đã ghi hoàn thành ngày {format_date(task.completed_on)}; tệp chưa cập nhật."
            )
        return notes


# How alike two contents of one clause must be for a row to be the other edited:
# a corrected typo or an added phrase, not another task of the clause.
TWIN_LIKENESS = 0.8


def _twin_warning(twin, new_task: str) -> str:
    where = f"mục {twin.clause} của " if twin.clause else ""
    return (
        f"Dòng này gần giống nhiệm vụ {twin.id} đã có trong sổ ({where}{twin.directive}: "
        f"'{clipped(twin.title, 80)}', chủ trì {', '.join(twin.leads)}) mà tệp không còn dòng "
        f"nào khớp. Nếu dòng là nhiệm vụ đó đã sửa, {new_task} sẽ tính trùng: rút lại bằng "
        f"`nhiemvu correct {new_task}#1`; đổi cơ quan chủ trì bằng `nhiemvu task reassign "
        f"{twin.id}`."
    )


def _title_key(text: str) -> str:
    # "UBND" and "Ủy ban nhân dân" are the same words in a trích yếu.
    return fold(text).replace("uy ban nhan dan", "ubnd")


def _due_of(deadline: DeadlineInput | None) -> date | None:
    if deadline is None or deadline.kind in ("none", "working_days"):
        return None
    if deadline.kind == "period":
        return parse_period(deadline.value)[1]
    return deadline.value
