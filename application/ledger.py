"""Application service: the secretariat's commands.

Each command runs in one write transaction: take the log's lock, load what it
needs from the projections, let the domain validate, append, and bring the
projection up to date — all or nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from events.memory import collector_paused
from events.sql import Raw
from events.store import ANY_VERSION, NO_STREAM, EventStore, NewEvent, StoreTransaction
from workflow import agencies as ag
from workflow import documents as docs
from workflow import tasks as tk
from workflow.dates import (
    LOCAL_TZ,
    canonical_period,
    check_happened,
    format_date,
    iso,
    parse_period,
    start_of_day,
)
from workflow.errors import DomainError, NotFound
from workflow.text import code as norm_code
from workflow.text import id_order, listed, nfc, optional

from . import lengths, numbering, references, streams
from .corrections import DIRECTIVE_REGISTERED, Corrections, retracted_ids
from .lengths import check_length
from .projection import LedgerProjection
from .results import Closure, CommandResult
from .task_reads import missing_task

if TYPE_CHECKING:
    from workflow.rulebook import Rulebook

# A task is given at a meeting before the notice of its conclusions is issued, days
# or weeks before; a year and more before is a typo in the year (2003 for 2023).
MEETING_BEFORE_ITS_NOTICE = timedelta(days=366)


def _loading():
    """application.loading, imported when first needed: it reads through SQLAlchemy,
    which the usual paths of the commands do without, so that a one-command process
    need not import it (events.driver)."""
    from . import loading  # noqa: PLC0415

    return loading


@dataclass(frozen=True)
class DeadlineInput:
    """One of the deadline forms of DOMAIN.md, as the user gave it."""

    kind: str  # date | period | working_days | none
    value: Any = None


class Ledger(Corrections):
    def __init__(
        self,
        store: EventStore,
        actor: str,
        now: Callable[[], datetime] = lambda: datetime.now(LOCAL_TZ),
        calendar_factory: Callable[[], Any] | None = None,
    ) -> None:
        self.store = store
        self.actor = actor
        self.now = now
        self.projection = LedgerProjection()
        self._calendar_factory = calendar_factory
        self._batch: StoreTransaction | None = None
        self._batch_failed = False

    def today(self) -> date:
        return self.now().astimezone(LOCAL_TZ).date()

    @contextmanager
    def command(self) -> Iterator[StoreTransaction]:
        """One command's transaction (or, inside `batch()`, the batch's)."""
        if self._batch is not None:
            if self._batch_failed:
                raise DomainError(
                    "Một lệnh trước trong lô đã lỗi; cả lô sẽ không được ghi. "
                    "Sửa lệnh đó rồi chạy lại cả lô."
                )
            try:
                yield self._batch
            except BaseException:
                self._batch_failed = True  # its appends may be half done: nothing commits
                raise
            return
        with self.store.transaction(projections=[self.projection]) as tx:
            tx.lock()
            yield tx

    @contextmanager
    def batch(self) -> Iterator[Ledger]:
        """Run many commands in one transaction: each is validated as it comes, against
        the ledger as the commands before it in the batch left it, and the batch is
        written at the end — all of it, or, if any command fails, nothing."""
        if self._batch is not None:
            yield self  # inside a batch already: its commands join it
            return
        with collector_paused(), self.store.transaction(projections=[self.projection]) as tx:
            tx.lock()
            self._session(tx).prefetch_all_agencies()
            self._batch, self._batch_failed = tx, False
            try:
                yield self
                if self._batch_failed:
                    raise DomainError(
                        "Một lệnh trong lô đã lỗi nên không ghi gì cả. Sửa lệnh đó rồi chạy lại."
                    )
            finally:
                self._batch = None

    def prefetch(self, task_ids) -> None:
        """Inside a batch: read these tasks now, in one round trip, rather than one by
        one as its commands come to them (unknown ids are simply not found later)."""
        if self._batch is not None:
            self._session(self._batch).prefetch_tasks([i.strip().upper() for i in task_ids])

    def prefetch_event_ids(self, event_ids) -> None:
        """Inside a batch: look up in one go the event ids its commands will name."""
        if self._batch is not None:
            self._batch.prefetch_event_ids(event_ids)

    @contextmanager
    def reading(self) -> Iterator[Any]:
        """A connection that sees the ledger as commands do: inside a batch, the
        batch's own (written out first); otherwise a fresh one."""
        if self._batch is not None:
            yield self._batch.connection
        else:
            with self.store.engine.connect() as connection:
                yield connection

    # -- what commands read, from the projection the transaction keeps current ----

    def _session(self, tx: StoreTransaction):
        return tx.session(self.projection)

    def _task(self, tx: StoreTransaction, task_id: str) -> tk.Task:
        task_id = task_id.strip().upper()
        task = self._session(tx).task(task_id)
        if task is None:
            raise missing_task(Raw(tx.connection), task_id)
        return task

    def _agency(self, tx: StoreTransaction, code: str) -> ag.Agency:
        agency = self._session(tx).agency(code)
        if agency is None:
            raise NotFound("cơ quan", code, _loading().agency_codes(tx.connection))
        return agency

    def _directive(self, tx: StoreTransaction, typed: str, on: date | None = None):
        """The directive `typed` names (its number, any case, with or without its year)
        and a warning if the number names several, one a year (application.numbering)."""
        base, year = numbering.split_year(typed)
        session = self._session(tx)
        row = session.directive(base) or _loading().directive_row(tx.connection, base)
        number = numbering.split_year(row["number"])[0]
        chosen, warnings = numbering.choose(session.directive_family(number), year, on, typed)
        if chosen is None:
            raise DomainError(
                f"Không có văn bản số {number} ban hành năm {year}. Danh sách văn bản: "
                "`nhiemvu directive list`."
            )
        return chosen, warnings

    def _new_number(self, tx, stream_of, typed: str, issued_on: date, registered: str, what: str):
        """The key a new directive or document takes, and the version its stream is at:
        its number while no other year's document holds it, else the number and its
        year (application.numbering). The same number in the same year is refused."""
        base = numbering.base_number(typed, issued_on)
        bare = _standing(tx, stream_of(base), registered)
        # Streams are named in upper case: the year's key in any spelling.
        spelled = base if bare is None else bare.data["number"]
        of_the_year = numbering.with_year(spelled, issued_on.year)
        for standing in (bare, _standing(tx, stream_of(of_the_year), registered)):
            issued = None if standing is None else date.fromisoformat(standing.data["issued_on"])
            if issued is not None and issued.year == issued_on.year:
                raise numbering.already_registered(what, standing.data["number"], issued)
        number = base if bare is None else of_the_year
        if number is of_the_year:
            # The year makes the key longer than the number typed, which was checked.
            check_length(
                number,
                lengths.DOCUMENT_NUMBER,
                f"{what} kèm năm (số này đã dùng cho văn bản năm khác)",
            )
        return number, tx.stream_version(stream_of(number))

    def _append(self, tx, stream_id, event_type, data, on: date | None, expected=None, **extra):
        # Commands validate under the log's lock, so the stream cannot move between
        # what they read and what they append: without an explicit expectation,
        # any version is the one they saw.
        occurred = start_of_day(on) if on is not None else self.now()
        expected_version = ANY_VERSION if expected is None else expected
        # A fresh id, named by the store: no one can retry this very event, so the
        # store need not look for it in the log first.
        extra.setdefault("event_id", None)
        lengths.check_typed_texts(data)
        event = NewEvent(event_type, data, occurred, **extra)
        return tx.append(stream_id, [event], expected_version, self.actor).events

    # -- agencies -------------------------------------------------------------

    def register_agency(
        self,
        code: str,
        name: str,
        kind: str,
        since: date | None = None,
        merging: Sequence[str] = (),
        reason: str | None = None,
    ) -> CommandResult:
        """`since`: the day it was established; None for one standing since before the
        ledger begins (every agency registered before the date could be given).
        `merging`: the agencies it is formed by merging, each merged into it on `since`
        for `reason` exactly as `dissolve_agency` records a merger, in the same
        transaction: the new agency may bear the name of one of them."""
        code = norm_code(code)
        name = nfc(name)
        if kind not in ag.KINDS:
            raise DomainError(
                f"Loại cơ quan '{kind}' không hợp lệ; chọn một trong: {', '.join(ag.KINDS)}."
            )
        if not code or not name:
            raise DomainError("Mã và tên cơ quan không được để trống.")
        check_length(code, lengths.AGENCY_CODE, "Mã cơ quan")
        check_length(name, lengths.AGENCY_NAME, "Tên cơ quan (--name)")
        ag.check_code(code)
        merged = [norm_code(c) for c in merging]
        if merged:
            reason = _required(reason, "Lý do sáp nhập (--reason)")
            _check_merging(code, merged, since)
        if since is not None:
            self._not_future(since, "thành lập cơ quan")
        with self.command() as tx:
            stream = streams.agency(code)
            version = tx.stream_version(stream)
            if _standing(tx, stream, ag.REGISTERED) is not None:
                raise DomainError(f"Cơ quan {code} đã được đăng ký. Dùng mã khác.")
            # The agencies merged into it close the day it opens: their names are free.
            references.check_name_free(Raw(tx.connection), name, None, code, closing=merged)
            data = {"code": code, "name": name, "kind": kind}
            if since is not None:
                # Absent rather than null without one: such a payload is the one
                # registrations had before the date could be given.
                data["since"] = iso(since)
            # A retracted registration leaves its stream behind: this one follows it.
            events = self._append(tx, stream, ag.REGISTERED, data, since, version)
            # Caused by the registration: retracting it retracts them (Corrections).
            mergers = tuple(
                self._close_agency(tx, old, since, reason, code, events[0].event_id, "--since")
                for old in merged
            )
        return CommandResult(stream, events, key=code, mergers=mergers)

    def rename_agency(self, code: str, name: str, on: date) -> CommandResult:
        name = _required(name, "Tên mới của cơ quan (--name)")
        check_length(name, lengths.AGENCY_NAME, "Tên mới của cơ quan (--name)")
        self._not_future(on, "đổi tên cơ quan")
        with self.command() as tx:
            agency = self._agency(tx, norm_code(code))
            agency.check_rename(name, on)
            references.check_name_free(Raw(tx.connection), name, on, agency.code)
            stream = streams.agency(agency.code)
            data = {"name": name, "on": iso(on)}
            return CommandResult(stream, self._append(tx, stream, ag.RENAMED, data, on))

    def appoint_head(self, code: str, person: str, start: date) -> CommandResult:
        person = _required(person, "Họ tên người đứng đầu (--name)")
        self._not_future(start, "bắt đầu giữ chức vụ")
        with self.command() as tx:
            agency = self._agency(tx, norm_code(code))
            agency.check_head_appointment(person, start)
            _check_documents_keep_their_head(tx, agency.code, person, start)
            stream = streams.agency(agency.code)
            data = {"person": person, "from": iso(start)}
            return CommandResult(stream, self._append(tx, stream, ag.HEAD_APPOINTED, data, start))

    def appoint_deputy(self, code: str, person: str, field: str, start: date) -> CommandResult:
        person = _required(person, "Họ tên cấp phó (--name)")
        field = nfc(field)
        if not field:
            raise DomainError("Hãy ghi lĩnh vực phụ trách của cấp phó (--field).")
        self._not_future(start, "bắt đầu phụ trách")
        with self.command() as tx:
            agency = self._agency(tx, norm_code(code))
            agency.check_deputy_appointment(person, field, start)
            stream = streams.agency(agency.code)
            data = {"person": person, "field": field, "from": iso(start)}
            facts = self._session(tx).agency_row(agency.code).facts
            appointed = ag.derive_agency([*facts, {"type": ag.DEPUTY_APPOINTED, "data": data}])
            _check_criticisms_keep_their_deputy(tx, appointed, person, start)
            events = self._append(tx, stream, ag.DEPUTY_APPOINTED, data, start)
            return CommandResult(stream, events)

    def dissolve_agency(self, code: str, on: date, reason: str, into: str | None = None):
        """Dissolve an agency; merging moves its open tasks to the successor."""
        reason = _required(reason, "Lý do giải thể, sáp nhập (--reason)")
        self._not_future(on, "giải thể, sáp nhập")
        with self.command() as tx:
            closure = self._close_agency(tx, norm_code(code), on, reason, into)
            return CommandResult(closure.stream_id, closure.events)

    def _close_agency(
        self,
        tx,
        code: str,
        on: date,
        reason: str,
        into: str | None,
        cause: str | None = None,
        date_option: str = "--on",
    ) -> Closure:
        """Record the dissolution of `code` on `on`, or its merger into `into` with the
        moves of its open tasks, after the checks; `cause`: the event that made it (the
        registration of the agency it is merged into). `date_option`: the option the
        refusals name for the date."""
        agency = self._agency(tx, code)
        agency.check_dissolution(on, date_option)
        successor = None if into is None else self._successor(tx, agency, into, on)
        self._check_no_merger_into_it_since(tx, agency, on, date_option)
        moved = self._tasks_to_move(tx, agency, successor, on, date_option)
        later = references.documents_from(Raw(tx.connection), agency.code, on)
        if later:
            raise DomainError(
                f"{agency.code} đã nhận văn bản {listed(later)} từ ngày {format_date(on)} trở "
                "đi: không giải thể, sáp nhập trước ngày của văn bản. Kiểm tra lại ngày; nếu "
                "văn bản gửi nhầm, hãy rút lại (`nhiemvu correct "
                f'"{later[0]}" --reason …`{", từng văn bản" if len(later) > 1 else ""}) '
                "rồi gửi cho cơ quan kế thừa."
            )
        stream = streams.agency(agency.code)
        data = {"on": iso(on), "reason": reason}
        if successor is not None:
            data["into"] = successor.code
        event_type = ag.MERGED if successor else ag.DISSOLVED
        events = self._append(tx, stream, event_type, data, on, causation_id=cause)
        if successor is not None:
            for task in moved:
                leads = [successor.code if c == agency.code else c for c in task.leads]
                leads = list(dict.fromkeys(leads))
                self._append(
                    tx,
                    streams.task(task.id),
                    tk.REASSIGNED,
                    {
                        "on": iso(on),
                        "from": task.leads,
                        "to": leads,
                        "reason": f"{agency.code} sáp nhập vào {successor.code}",
                    },
                    on,
                    causation_id=events[0].event_id,
                )
        ids = sorted((t.id for t in moved), key=id_order)
        return Closure(agency.code, stream, events, tuple(ids))

    def _successor(self, tx, agency: ag.Agency, into: str, on: date) -> ag.Agency:
        successor = self._agency(tx, norm_code(into))
        successor.check_active(on)
        if successor.code == agency.code:
            raise DomainError("Không thể sáp nhập một cơ quan vào chính nó.")
        return successor

    def _check_no_merger_into_it_since(
        self, tx, agency: ag.Agency, on: date, date_option: str = "--on"
    ) -> None:
        """An agency closes after the last merger into it: one on or after `on` would
        have merged into an agency no longer there (two merged into each other, too)."""
        merged = references.merged_into(Raw(tx.connection), agency.code)
        since = [
            other
            for other in (self._agency(tx, code) for code in merged)
            if other.closed_on is not None and other.closed_on >= on
        ]
        if since:
            named = ", ".join(f"{o.code} (từ ngày {format_date(o.closed_on)})" for o in since)
            raise DomainError(
                f"{named} đã sáp nhập vào {agency.code}: không giải thể, sáp nhập "
                f"{agency.code} từ ngày {format_date(on)}, trước khi nhận cơ quan đó. Kiểm tra "
                f"lại ngày ({date_option}); nếu việc sáp nhập kia ghi nhầm, hãy rút lại nó trước (mã sự "
                f"kiện trong `nhiemvu agency history {since[0].code}`)."
            )

    def _tasks_to_move(
        self, tx, agency: ag.Agency, successor: ag.Agency | None, on: date, date_option: str
    ):
        """The tasks `agency` leads on `on` and not closed before it — completed later,
        or that day, too: business dates, not the order things were recorded in, decide
        who led a task when, and on `on` the agency is no more. A merger moves them to
        `successor`; a dissolution would leave them with nobody, and is refused."""
        eve = on - timedelta(days=1)
        tasks = [t for t in _loading().iter_tasks(tx.connection, agency.code) if t.open_on(eve)]
        self._check_none_led_away_since(tx, agency, on)
        if successor is None:
            ag.check_nothing_left_open(agency.code, on, tasks)
            return []
        ag.check_tasks_movable(agency.code, successor.code, on, tasks, date_option)
        if tasks and successor.closed_on is not None:
            ids = sorted((t.id for t in tasks), key=id_order)
            raise DomainError(
                f"{successor.code} đã {successor.closure()}: {listed(ids)} "
                f"chuyển từ {agency.code} sang ngày {format_date(on)} sẽ còn do "
                f"{successor.code} chủ trì cả khi nó không còn. Nếu {agency.code} thật sự sáp "
                f"nhập vào {successor.code} ngày đó, hãy rút lại việc sáp nhập "
                f"{successor.code} trước (mã sự kiện trong `nhiemvu agency history "
                f"{successor.code}`), ghi việc sáp nhập này, rồi ghi lại việc kia: các nhiệm "
                "vụ sẽ được chuyển tiếp."
            )
        return tasks

    def _check_none_led_away_since(self, tx, agency: ag.Agency, on: date) -> None:
        """A task the agency led on `on`, given to another lead since, would be left with
        it from `on` until then (ag.check_none_led_away)."""
        named = references.tasks_naming(Raw(tx.connection), agency.code)
        eve = on - timedelta(days=1)
        away = [
            task
            for task in _loading().tasks_by_id(tx.connection, named).values()
            if task.assigned_on <= on
            and agency.code in task.leads_on(on)
            and agency.code not in task.leads  # led still: check_tasks_movable's
            and task.open_on(eve)
        ]
        ag.check_none_led_away(agency.code, on, away)

    # -- directives -----------------------------------------------------------

    def register_directive(
        self, number: str, issued_on: date, title: str, kind: str | None, issuer: str | None
    ) -> CommandResult:
        number = nfc(number)
        if not number or not nfc(title):
            raise DomainError("Số hiệu và trích yếu văn bản không được để trống.")
        check_length(number, lengths.DOCUMENT_NUMBER, "Số hiệu văn bản")
        # Its own words: the event's check would name a task's content (--title too).
        check_length(nfc(title), lengths.FREE_TEXT, "Trích yếu văn bản (--title)")
        check_length(nfc(kind), lengths.DIRECTIVE_KIND, "Loại văn bản (--kind)")
        check_length(nfc(issuer), lengths.ISSUER, "Cơ quan ban hành (--issuer)")
        self._not_future(issued_on, "ban hành văn bản")
        with self.command() as tx:
            number, version = self._new_number(
                tx, streams.directive, number, issued_on, DIRECTIVE_REGISTERED, "Văn bản"
            )
            stream = streams.directive(number)
            data = {
                "number": number,
                "issued_on": iso(issued_on),
                "title": nfc(title),
                "kind": optional(kind),
                "issuer": optional(issuer),
            }
            # A retracted registration leaves its stream behind: this one follows it.
            events = self._append(tx, stream, DIRECTIVE_REGISTERED, data, issued_on, version)
            return CommandResult(stream, events, key=number)

    # -- tasks ------------------------------------------------------------------

    def assign_task(
        self,
        directive: str,
        title: str,
        leads: list[str],
        deadline: DeadlineInput,
        clause: str | None = None,
        coordinators: list[str] | None = None,
        assigned_on: date | None = None,
        leader: str | None = None,
        task_id: str | None = None,
        done_on: date | None = None,
    ) -> CommandResult:
        """`done_on`: the completion the caller records next in the same batch (a past
        task, from a tracking workbook): with it, a lead closed since may be given a task
        done before it closed."""
        if not nfc(title):
            raise DomainError("Nội dung nhiệm vụ (--title) không được để trống.")
        lead_codes = list(dict.fromkeys(norm_code(c) for c in leads))
        coordinator_codes = list(dict.fromkeys(norm_code(c) for c in coordinators or []))
        if not lead_codes:
            raise DomainError("Nhiệm vụ cần ít nhất một cơ quan chủ trì (--lead).")
        both = sorted(set(lead_codes) & set(coordinator_codes))
        if both:
            raise DomainError(
                f"{', '.join(both)} vừa là cơ quan chủ trì vừa là cơ quan phối hợp; chọn một vai trò."
            )
        given_id = None if task_id is None else _given_task_id(task_id)
        with self.command() as tx:
            row, warnings = self._directive(tx, nfc(directive), assigned_on)
            on = assigned_on or row["issued_on"]
            if on < row["issued_on"] - MEETING_BEFORE_ITS_NOTICE:
                raise DomainError(
                    f"Ngày giao {format_date(on)} trước ngày ban hành văn bản {row['number']} "
                    f"({format_date(row['issued_on'])}) hơn một năm: nhiệm vụ không thể được giao "
                    "trước văn bản giao nó lâu như vậy. Kiểm tra lại năm của ngày giao "
                    "(--assigned-on), hoặc số văn bản (--directive)."
                )
            if on < row["issued_on"]:
                # A Thông báo kết luận is often dated days after the meeting whose
                # conclusions it records; the tasks were given at the meeting.
                warnings.append(
                    f"Ngày giao {format_date(on)} trước ngày ban hành văn bản {row['number']} "
                    f"({format_date(row['issued_on'])}): ghi nhận như nhiệm vụ được giao tại "
                    "cuộc họp trước khi văn bản được ban hành."
                )
            self._not_future(on, "giao nhiệm vụ")
            for agency_code in lead_codes:
                self._agency(tx, agency_code).check_can_lead_from(on, done_on)
            for agency_code in coordinator_codes:
                self._agency(tx, agency_code).check_active(on)
            due = self._resolve_deadline(deadline, on)
            task_id = given_id or self._next_task_id(tx)
            stream = streams.task(task_id)
            if tx.stream_version(stream):
                # A task whose assignment was retracted keeps its stream, and its id.
                taken = (
                    "tồn tại"
                    if self._session(tx).task(task_id)
                    else (
                        "dùng cho một nhiệm vụ đã rút lại việc giao (xem `nhiemvu task history "
                        f"{task_id}`)"
                    )
                )
                raise DomainError(f"Mã nhiệm vụ {task_id} đã {taken}. Chọn mã khác cho --id.")
            data = {
                "task_id": task_id,
                "directive": row["number"],
                "clause": optional(clause),
                "title": nfc(title),
                "leads": lead_codes,
                "coordinators": coordinator_codes,
                "leader": optional(leader),
                "assigned_on": iso(on),
                "deadline": {
                    "kind": deadline.kind,
                    # As stored, the same however typed: "2023Q2", not " 2023q2".
                    "value": canonical_period(deadline.value)
                    if deadline.kind == "period"
                    else _json_value(deadline.value),
                    "due": iso(due),
                },
            }
            events = self._append(tx, stream, tk.ASSIGNED, data, on, NO_STREAM)
            return CommandResult(stream, events, tuple(warnings), key=task_id)

    def _resolve_deadline(self, deadline: DeadlineInput, assigned_on: date) -> date | None:
        if deadline.kind == "none":
            return None
        if deadline.kind == "date":
            due = deadline.value
        elif deadline.kind == "period":
            due = parse_period(deadline.value)[1]
        elif deadline.kind == "working_days":
            from workflow.calendar import check_deadline_working_days  # noqa: PLC0415 - holidays

            days = check_deadline_working_days(deadline.value)
            due = self.calendar().add_working_days(assigned_on, days)
        else:
            raise DomainError(f"Loại thời hạn không hợp lệ: {deadline.kind}.")
        if due < assigned_on:
            raise DomainError(
                f"Thời hạn {format_date(due)} trước ngày giao {format_date(assigned_on)}. "
                "Hãy kiểm tra lại thời hạn hoặc ngày giao (--assigned-on)."
            )
        return due

    def calendar(self):
        if self._calendar_factory is None:
            from workflow.calendar import WorkingCalendar

            self._calendar_factory = WorkingCalendar
        return self._calendar_factory()

    def _next_task_id(self, tx: StoreTransaction) -> str:
        # A counter, not a count of streams: ids are never reused, even when an
        # assignment is retracted, and finding the next one costs nothing.
        return f"NV-{self._session(tx).task_counter() + 1:05d}"

    def report_progress(self, task_id: str, percent: int, on: date, note: str | None):
        with self.command() as tx:
            task = self._task(tx, nfc(task_id))
            task.check_progress(percent, on, self.today())
            data = {"on": iso(on), "percent": percent, "note": optional(note)}
            result = self._task_event(tx, task, tk.PROGRESS, data, on)
            if percent < 100:  # (none is taken once the task is complete)
                return result
            # A report of 100 % is often taken for the completion, which the scores
            # and the escalation ladder wait for: the task stays open until it is logged.
            done = (
                f"Tiến độ 100% không phải là hoàn thành: {task.id} vẫn đang thực hiện (vẫn bị "
                "đôn đốc, tính quá hạn nếu qua hạn) cho đến khi ghi `nhiemvu task complete "
                f"{task.id} --on NGÀY --doc SỐ_VĂN_BẢN`."
            )
            return CommandResult(result.stream_id, result.events, (done,))

    def approve_extension(self, task_id: str, to: date, on: date, reason: str | None):
        with self.command() as tx:
            task = self._task(tx, nfc(task_id))
            task.check_extension(to, on, self.today())
            data = {"on": iso(on), "to": iso(to), "reason": nfc(reason) or ""}
            warnings = ()
            # Read before appending: the task then moves on to the new deadline.
            if task.effective_deadline is not None and on > task.effective_deadline:
                warnings = (
                    f"Gia hạn được duyệt ngày {format_date(on)}, sau hạn đang có hiệu lực "
                    f"{format_date(task.effective_deadline)}: hạn mới dùng cho việc đôn đốc, "
                    "nhưng khi chấm điểm nhiệm vụ vẫn tính là quá hạn.",
                )
            result = self._task_event(tx, task, tk.EXTENDED, data, on)
            return CommandResult(result.stream_id, result.events, warnings)

    def refuse_extension(self, task_id: str, to: date, on: date, reason: str | None):
        with self.command() as tx:
            task = self._task(tx, nfc(task_id))
            task.check_extension_refusal(to, on, self.today())
            data = {"on": iso(on), "to": iso(to), "reason": nfc(reason) or ""}
            return self._task_event(tx, task, tk.EXTENSION_REFUSED, data, on)

    def complete(self, task_id: str, on: date, doc: str | None):
        with self.command() as tx:
            task = self._task(tx, nfc(task_id))
            task.check_completion(on, self.today())
            data = {"on": iso(on), "doc": optional(doc)}
            return self._task_event(tx, task, tk.COMPLETED, data, on)

    def cancel(self, task_id: str, on: date, reason: str):
        if not nfc(reason):
            raise DomainError("Hãy ghi lý do hủy nhiệm vụ (--reason).")
        with self.command() as tx:
            task = self._task(tx, nfc(task_id))
            task.check_cancellation(on, self.today())
            data = {"on": iso(on), "reason": nfc(reason)}
            return self._task_event(tx, task, tk.CANCELLED_EVENT, data, on)

    def reassign(self, task_id: str, leads: list[str], on: date, reason: str | None):
        codes = list(dict.fromkeys(norm_code(c) for c in leads))
        if not codes:
            raise DomainError("Hãy chỉ rõ cơ quan chủ trì mới (--lead).")
        with self.command() as tx:
            task = self._task(tx, nfc(task_id))
            task.check_reassignment(codes, on, self.today())
            for agency_code in codes:
                self._agency(tx, agency_code).check_can_lead_from(on)
            leaving = [c for c in codes if c in task.coordinators]
            warnings = (
                (f"{', '.join(leaving)} thôi là cơ quan phối hợp: từ nay chủ trì nhiệm vụ.",)
                if leaving
                else ()
            )
            data = {"on": iso(on), "from": task.leads, "to": codes, "reason": nfc(reason) or ""}
            result = self._task_event(tx, task, tk.REASSIGNED, data, on)
            return CommandResult(result.stream_id, result.events, warnings)

    def _task_event(self, tx, task: tk.Task, event_type: str, data: dict, on: date):
        stream = streams.task(task.id)
        return CommandResult(stream, self._append(tx, stream, event_type, data, on))

    # -- reprimands and commendations ---------------------------------------------

    def issue_document(
        self,
        kind: str,
        number: str,
        on: date,
        addressees: docs.Addressees,
        reason: str | None = None,
        issuer: str | None = None,
        field: str | None = None,
        task_ids: list[str] | None = None,
        rulebook: Rulebook | None = None,
    ) -> CommandResult:
        """Log a reprimand or a commendation; a phê bình of a head reaches the deputy
        in charge of `field` if `rulebook` (default: the one in force on `on`) says so."""
        number = nfc(number)
        if kind not in docs.KIND_LABELS:
            raise DomainError(f"Loại văn bản không hợp lệ: {kind}.")
        if not number:
            raise DomainError("Hãy ghi số văn bản (--doc).")
        check_length(number, lengths.DOCUMENT_NUMBER, "Số văn bản (--doc)")
        self._not_future(on, "ban hành văn bản")
        addressees = docs.Addressees(
            agencies=tuple(dict.fromkeys(norm_code(c) for c in addressees.agencies)),
            heads=tuple(dict.fromkeys(norm_code(c) for c in addressees.heads)),
            persons=tuple(dict.fromkeys(nfc(p) for p in addressees.persons)),
        )
        if not all(addressees.persons):
            raise DomainError("Tên cá nhân nhận văn bản (--person) không được để trống.")
        for person in addressees.persons:
            check_length(person, lengths.PERSON_NAME, "Tên cá nhân nhận văn bản (--person)")
        with self.command() as tx:
            number, version = self._new_number(
                tx, streams.document, number, on, docs.ISSUED, "Văn bản số"
            )
            stream = streams.document(number)
            agencies = {c: self._agency(tx, c) for c in addressees.agencies + addressees.heads}
            for agency in agencies.values():
                _check_addressable(agency, on)
            task_ids = list(dict.fromkeys(norm_code(i) for i in task_ids or []))
            for task_id in task_ids:
                named = self._task(tx, task_id)
                if on < named.assigned_on:
                    raise DomainError(
                        f"Văn bản ngày {format_date(on)} nêu nhiệm vụ {named.id}, mà nhiệm vụ "
                        f"này được giao ngày {format_date(named.assigned_on)}: văn bản không "
                        "nhắc một nhiệm vụ chưa được giao. Kiểm tra lại --on hoặc --task."
                    )
            book = _phe_binh_rulebook(on, rulebook) if kind == docs.PHE_BINH else None
            cascade = book is not None and book.cascades_phe_binh_to_deputy(on)
            targets, warnings = docs.resolve_targets(
                kind, on, addressees, agencies, nfc(field), cascade and docs.by_the_chairman(issuer)
            )
            if addressees.persons:
                session = self._session(tx)
                session.prefetch_all_agencies()
                held = [row.agency for row in session.agencies.values() if row is not None]
                warnings += docs.heads_addressed_by_name(addressees, filter(None, held), on)
            warnings += docs.field_reaching_no_one(
                kind, addressees, nfc(field), on, nfc(issuer), book
            )
            data = {
                "number": number,
                "kind": kind,
                "issued_on": iso(on),
                "issuer": optional(issuer),
                "reason": nfc(reason) or "",
                "field": optional(field),
                "targets": targets,
                "tasks": task_ids,
            }
            # A retracted document leaves its stream behind: this one follows it.
            events = self._append(tx, stream, docs.ISSUED, data, on, version)
            return CommandResult(stream, events, tuple(warnings), key=number)

    # -- year-end assessments and corrections -------------------------------------

    def record_assessment(
        self, code: str, year: int, criterion: str, points: float, reason: str, rulebook
    ) -> CommandResult:
        """A manual assessment of a general criterion (below its maximum, with a reason)."""
        known = rulebook.criterion(criterion)
        if known is None:
            codes = ", ".join(f"{c.code} ({c.label})" for c in rulebook.general_criteria)
            raise DomainError(f"Tiêu chí '{criterion}' không có trong sổ quy tắc; chọn: {codes}.")
        if not 0 <= points <= known.max:
            raise DomainError(
                f"Số điểm {points:g} cho tiêu chí '{known.label}' phải nằm trong khoảng "
                f"0–{known.max:g}."
            )
        places = rulebook.score.decimals
        if round(points, places) != points:
            # Finer than the scores it goes into: shown rounded, summed unrounded.
            raise DomainError(
                f"Số điểm {str(points).replace('.', ',')} có nhiều chữ số thập phân hơn "
                f"điểm của sổ quy tắc: hãy ghi tối đa {places} chữ số sau dấu phẩy."
            )
        points += 0.0  # -0 is 0
        if not nfc(reason):
            raise DomainError("Hãy ghi lý do đánh giá (--reason).")
        if year > self.today().year:
            raise DomainError(f"Năm {year} chưa đến; không đánh giá trước.")
        with self.command() as tx:
            agency = self._agency(tx, norm_code(code))
            if not agency.stands_in(date(year, 1, 1), date(year, 12, 31)):
                state = (
                    f"đã {agency.closure()}: năm {year} cơ quan không còn"
                    if agency.opened_by(date(year, 12, 31))
                    else f"được thành lập từ ngày {format_date(agency.since)}: năm {year} cơ "
                    "quan chưa có"
                )
                raise DomainError(
                    f"{agency.code} {state}, không có gì để đánh giá (điểm của năm đó không "
                    "tính cho nó)."
                )
            stream = streams.assessment(agency.code, year)
            data = {
                "agency": agency.code,
                "year": year,
                "criterion": criterion,
                "points": points,
                "reason": nfc(reason),
                "rulebook": {"id": rulebook.id, "version": rulebook.version},
            }
            events = self._append(tx, stream, "assessment.recorded", data, None)
            return CommandResult(stream, events)

    def _not_future(self, on: date, what: str) -> None:
        check_happened(on, self.today(), what)


def _standing(tx: StoreTransaction, stream_id: str, event_type: str):
    """The stream's event of `event_type` not retracted since, if any: an agency's or a
    directive's registration, a document's issue. Streams are named by the key in upper
    case, so this holds for the key in any case."""
    if not tx.stream_version(stream_id):
        return None
    stream = tx.read_stream(stream_id)
    retracted = retracted_ids(stream)
    return next((e for e in stream if e.type == event_type and e.event_id not in retracted), None)


def _cascades_phe_binh(on: date, rulebook: Rulebook | None) -> bool:
    """Whether a phê bình of a head issued `on` reaches the deputy in charge of its
    field: under `rulebook`, else under the one in force that day (none: no)."""
    book = _phe_binh_rulebook(on, rulebook)
    return book is not None and book.cascades_phe_binh_to_deputy(on)


def _phe_binh_rulebook(on: date, rulebook: Rulebook | None) -> Rulebook | None:
    """`rulebook`, else the one in force on `on` (None before QĐ 44/2019): read for a
    phê bình only, which may cascade."""
    if rulebook is not None:
        return rulebook
    from workflow.rulebook import rulebook_in_force_if_any  # noqa: PLC0415 - phê bình only

    return rulebook_in_force_if_any(on)


def _required(text: str | None, what: str) -> str:
    """`text` normalised (workflow.text.nfc), or a refusal if nothing is left of it."""
    normalised = nfc(text)
    if not normalised:
        raise DomainError(f"{what} không được để trống.")
    return normalised


def _check_merging(code: str, merged: list[str], since: date | None) -> None:
    """The agencies a new one `code` is formed by merging: each named once, none of
    them itself, and a day for the mergers (`since`, its first)."""
    if since is None:
        raise DomainError(
            "Cơ quan hình thành do sáp nhập cần ngày thành lập (--since NGÀY): các cơ quan "
            "sáp nhập vào nó kết thúc từ ngày đó."
        )
    if not all(merged):
        raise DomainError("Mã cơ quan sáp nhập (--merging) không được để trống.")
    if code in merged:
        raise DomainError(
            f"{code} vừa là mã cơ quan mới vừa được ghi ở --merging: cơ quan mới không sáp "
            f"nhập chính nó. Nếu cơ quan mới giữ tên của {code}, hãy đăng ký nó với mã khác "
            f"(ví dụ {code}-{since.year}) và --merging {code}."
        )
    twice = [c for c in dict.fromkeys(merged) if merged.count(c) > 1]
    if twice:
        raise DomainError(
            f"{', '.join(twice)} được ghi nhiều lần ở --merging: hãy ghi mỗi cơ quan một lần."
        )


def _given_task_id(task_id: str) -> str:
    """A task id given with --id, normalised, or a refusal of one that cannot be used:
    `nhiemvu correct NV-00001#3` splits a reference at its last '#', and an id is typed
    as one word."""
    normalised = norm_code(task_id)
    if not normalised:
        raise DomainError(
            "Mã nhiệm vụ (--id) không được để trống. Hãy ghi một mã, hoặc bỏ --id để dùng "
            "mã tự động (NV-00001…)."
        )
    check_length(normalised, lengths.TASK_ID, "Mã nhiệm vụ (--id)")
    if "#" in normalised or any(c.isspace() for c in normalised):
        raise DomainError(
            f"Mã nhiệm vụ '{normalised}' không được chứa dấu # hay khoảng trắng (dấu # dùng "
            "để chỉ số thứ tự sự kiện, như NV-00001#3). Hãy dùng mã liền một từ, ví dụ "
            "NV-2023-001."
        )
    return normalised


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _check_documents_keep_their_head(tx, code: str, person: str, start: date) -> None:
    """A head appointed from `start` is the one a document to the head after it counts
    for: not over a document already addressed to the head by another name (a back-
    dated appointment would move its criticism to someone it does not name)."""
    named = references.documents_to_another_head(Raw(tx.connection), code, start, person)
    if named:
        raise DomainError(
            f"Văn bản {listed(named)} gửi người đứng đầu {code} từ ngày {format_date(start)} "
            f"trở đi mang tên người khác: bổ nhiệm {person} từ ngày đó sẽ tính văn bản cho "
            "người mà văn bản không ghi tên. Kiểm tra lại --from; nếu ngày đó đúng, hãy rút "
            "lại các văn bản đó (`nhiemvu correct MÃ_SỰ_KIỆN`), ghi bổ nhiệm, rồi ghi lại "
            "văn bản."
        )


def _check_criticisms_keep_their_deputy(tx, appointed: ag.Agency, person: str, start: date):
    """A phê bình of the head reaches the deputy in charge of its field that day, named
    in the document when it is logged (workflow.documents): a deputy appointed from
    `start` is not to be in charge, after the fact, on the day of one that reached
    someone else or nobody."""
    missed = []
    for number, data in references.criticisms_of_head(Raw(tx.connection), appointed.code, start):
        on = date.fromisoformat(data["issued_on"])
        deputy = appointed.deputy_for(data.get("field"), on)
        if deputy is None or deputy.person != person:
            continue
        if not (_cascades_phe_binh(on, None) and docs.by_the_chairman(data.get("issuer"))):
            continue
        reached = {t["person"].casefold() for t in data["targets"] if t["kind"] == "deputy"}
        if person.casefold() not in reached:
            missed.append(number)
    if missed:
        raise DomainError(
            f"Văn bản {listed(missed)} phê bình người đứng đầu {appointed.code} từ ngày "
            f"{format_date(start)} trở đi đã ghi, không kèm {person}: bổ nhiệm {person} phụ "
            "trách lĩnh vực đó từ ngày đó thì người này phải bị phê bình kèm theo (TB "
            "129/TB-UBND §2.8), mà văn bản không ghi. Kiểm tra lại --from; nếu ngày đó đúng, "
            "hãy rút lại các văn bản đó (`nhiemvu correct MÃ_SỰ_KIỆN`), ghi bổ nhiệm, rồi ghi "
            "lại văn bản."
        )


def _check_addressable(agency: ag.Agency, on: date) -> None:
    """A document goes to an agency that exists on its date: not to one established
    after it, nor to one closed by then — one merged has a successor, which answers for
    it (and counts in the scores) from then on."""
    if agency.is_active(on):
        return
    agency.check_opened(on)
    successor = agency.merged_into
    instead = (
        f" Hãy gửi cho cơ quan kế thừa: --agency {successor} hoặc --head {successor}."
        if successor
        else ""
    )
    raise DomainError(
        f"Văn bản ngày {format_date(on)} không gửi được cho {agency.code}: cơ quan đã "
        f"{agency.closure()}.{instead}"
    )
