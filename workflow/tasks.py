"""A task's state, derived from the facts of its stream, and the rules on it.

The state keeps the facts themselves (each with its event id and business date)
rather than only their sum: a correction retracts one fact and the state is
derived again, and a state "as of" any date is the same derivation over the
facts dated on or before it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .dates import check_happened, format_date, from_iso, iso
from .errors import DomainError

IN_PROGRESS = "in_progress"
OVERDUE = "overdue"
DONE_ON_TIME = "done_on_time"
DONE_LATE = "done_late"
ONGOING = "ongoing"
DONE = "done"
CANCELLED = "cancelled"

STATUSES = [IN_PROGRESS, OVERDUE, DONE_ON_TIME, DONE_LATE, ONGOING, DONE, CANCELLED]
OPEN_STATUSES = {IN_PROGRESS, OVERDUE, ONGOING}

STATUS_LABELS = {
    IN_PROGRESS: "Đang thực hiện, trong hạn",
    OVERDUE: "Đang thực hiện, quá hạn",
    DONE_ON_TIME: "Hoàn thành đúng hạn",
    DONE_LATE: "Hoàn thành quá hạn",
    ONGOING: "Không có thời hạn, đang thực hiện",
    DONE: "Hoàn thành (không có thời hạn)",
    CANCELLED: "Đã hủy",
}

DEADLINE_KINDS = ("date", "period", "working_days", "none")

# Event types of a task stream.
ASSIGNED = "task.assigned"
PROGRESS = "task.progress_reported"
EXTENDED = "task.extension_approved"
EXTENSION_REFUSED = "task.extension_refused"
COMPLETED = "task.completed"
CANCELLED_EVENT = "task.cancelled"
REASSIGNED = "task.reassigned"
ESCALATED = "task.escalated"
RETRACTED = "event.retracted"
NAMED_IN_DOCUMENT = "document.issued"

# The payload field that carries each fact's business date.
BUSINESS_DATE_FIELD = {
    ASSIGNED: "assigned_on",
    PROGRESS: "on",
    EXTENDED: "on",
    EXTENSION_REFUSED: "on",
    COMPLETED: "on",
    CANCELLED_EVENT: "on",
    REASSIGNED: "on",
    ESCALATED: "due_on",
    NAMED_IN_DOCUMENT: "issued_on",
}


def fact_date(fact: dict[str, Any]) -> date:
    return date.fromisoformat(fact["data"][BUSINESS_DATE_FIELD[fact["type"]]])


def leads_on(leads, lead_periods, day: date) -> tuple[str, ...]:
    """The agencies that led a task on `day` (see TaskState.lead_periods): those of
    the last change recorded by then — a day before the assignment, the first."""
    for since, then in reversed(lead_periods):
        if since <= day:
            return then
    return lead_periods[0][1] if lead_periods else tuple(leads)


@dataclass
class Extension:
    event_id: str
    approved_on: date
    to: date
    reason: str
    in_time: bool  # approved on or before the deadline then in force


@dataclass(slots=True)
class TaskState:
    """What decides a task's status on a day: enough to count and to score it.

    The projection stores these as columns, so reports and ratings read them
    without deriving the task from its facts; a `Task` is one too.
    """

    id: str
    leads: list[str]
    assigned_on: date
    original_deadline: date | None
    effective_deadline: date | None = None  # for scoring: late extensions don't count
    current_deadline: date | None = None  # latest approved, late ones included
    completed_on: date | None = None
    cancelled_on: date | None = None
    # Who led it when, if that ever changed: (the day they took over, the leads) from
    # the assignment on, in log order; empty while `leads` have led it throughout.
    lead_periods: tuple[tuple[date, tuple[str, ...]], ...] = ()

    def leads_on(self, day: date) -> tuple[str, ...]:
        return leads_on(self.leads, self.lead_periods, day)

    @property
    def leads_since(self) -> date:
        """The day the task came to its present leads: its assignment, or the latest
        reassignment."""
        return (
            max(since for since, _ in self.lead_periods) if self.lead_periods else self.assigned_on
        )

    def status(self, cutoff: date) -> str:
        if self.cancelled_on is not None and self.cancelled_on <= cutoff:
            return CANCELLED
        done = self.completed_on is not None and self.completed_on <= cutoff
        if self.effective_deadline is None:
            return DONE if done else ONGOING
        if done:
            return DONE_ON_TIME if self.completed_on <= self.effective_deadline else DONE_LATE
        return IN_PROGRESS if self.effective_deadline >= cutoff else OVERDUE

    def days_overdue(self, cutoff: date) -> int:
        status = self.status(cutoff)
        if status == OVERDUE:
            return (cutoff - self.effective_deadline).days
        if status == DONE_LATE:
            return (self.completed_on - self.effective_deadline).days
        return 0

    @property
    def is_closed(self) -> bool:
        return self.completed_on is not None or self.cancelled_on is not None

    def open_on(self, day: date) -> bool:
        """Not yet completed nor cancelled on `day`. A step raised for a day the task
        turns out to have been closed on (the completion was logged after the pass)
        never applied."""
        return all(day < closed for closed in (self.completed_on, self.cancelled_on) if closed)

    def days_to_urge(self, day: date) -> int:
        """Days past the deadline now in force, for urging: escalation follows every
        approved extension, a late one too, which `days_overdue` (scoring) does not."""
        if self.current_deadline is None or not self.open_on(day):
            return 0
        return max((day - self.current_deadline).days, 0)


@dataclass(kw_only=True)
class Task(TaskState):
    directive: str
    clause: str | None
    title: str
    coordinators: list[str]
    leader: str | None
    deadline_kind: str
    deadline_spec: Any
    extensions: list[Extension] = field(default_factory=list)
    refusals: list[dict[str, Any]] = field(default_factory=list)
    progress_percent: int | None = None
    progress_on: date | None = None
    progress_note: str | None = None
    completion_doc: str | None = None
    completion_event: str | None = None  # its id: what `nhiemvu correct` would retract
    cancel_reason: str | None = None
    cancel_event: str | None = None
    escalations: list[dict[str, Any]] = field(default_factory=list)
    documents: list[dict[str, Any]] = field(default_factory=list)

    @property
    def escalation_level(self) -> int:
        """Highest overdue level raised against the deadline now in force."""
        step = self.escalation_step
        return step["level"] if step is not None else 0

    @property
    def escalation_step(self) -> dict[str, Any] | None:
        """The step of that level (its label, the day it fell due), if one was raised
        on a day the task was open (`open_on`; ISO dates compare as text, and every
        task row of a rebuild asks this)."""
        if not self.escalations:  # most tasks: no date to format
            return None
        deadline = iso(self.current_deadline)
        closed = [day for day in (self.completed_on, self.cancelled_on) if day is not None]
        closed_on = iso(min(closed)) if closed else "9999-12-31"
        steps = [
            e
            for e in self.escalations
            if e["deadline"] == deadline and e["level"] and e["due_on"] < closed_on
        ]
        return max(steps, key=lambda e: e["level"], default=None)

    # -- rules for new facts ----------------------------------------------------

    def check_open(self, action: str) -> None:
        if self.cancelled_on is not None:
            raise DomainError(
                f"Nhiệm vụ {self.id} đã bị hủy ngày {format_date(self.cancelled_on)}; "
                f"không thể {action}. Nếu việc hủy là nhầm, hãy rút lại sự kiện hủy: "
                f"{_correct_command(self.cancel_event)}."
            )
        if self.completed_on is not None:
            raise DomainError(
                f"Nhiệm vụ {self.id} đã hoàn thành ngày {format_date(self.completed_on)}; "
                f"không thể {action}. Nếu việc ghi hoàn thành là nhầm, hãy rút lại sự kiện "
                f"đó: {_correct_command(self.completion_event)}."
            )

    def check_business_date(self, on: date, today: date, what: str) -> None:
        if on < self.assigned_on:
            raise DomainError(
                f"Ngày {what} {format_date(on)} trước ngày giao nhiệm vụ "
                f"{format_date(self.assigned_on)}. Hãy kiểm tra lại ngày."
            )
        check_happened(on, today, what)

    def check_extension(self, to: date, on: date, today: date) -> None:
        self._check_closed_after(on, "gia hạn")
        self.check_open("gia hạn")
        self.check_business_date(on, today, "phê duyệt gia hạn")
        self._check_approved_in_order(on)
        self._check_extension_to(to, "Hạn mới")
        if to < on:
            raise DomainError(
                f"Hạn mới {format_date(to)} trước ngày phê duyệt gia hạn {format_date(on)}: "
                "gia hạn như vậy không cho thêm ngày nào. Hãy kiểm tra lại --to và --on "
                "(có thể đã ghi đảo hai ngày)."
            )

    def _check_closed_after(self, on: date, action: str) -> None:
        """Papers arrive out of order: an extension approved while the task was still
        open, recorded after its completion, needs the completion recorded again after it."""
        closed = [
            (day, what, event)
            for day, what, event in (
                (self.completed_on, "hoàn thành", self.completion_event),
                (self.cancelled_on, "hủy", self.cancel_event),
            )
            if day is not None and on < day
        ]
        if closed:
            day, what, event = closed[0]
            raise DomainError(
                f"Nhiệm vụ {self.id} đã được ghi {what} ngày {format_date(day)}, sau ngày "
                f"{format_date(on)} muốn {action}. Để ghi việc {action} đúng thứ tự, hãy rút "
                f"lại sự kiện đó ({_correct_command(event)}), ghi {action}, rồi ghi lại việc "
                f"{what}."
            )

    def _check_approved_in_order(self, on: date) -> None:
        """Extensions are recorded in the order they were approved: whether one came in
        time is judged against the deadline the ones before it left, and one approved
        earlier but recorded after a late one was scored late while escalation went by
        its new deadline."""
        later = [e for e in self.extensions if e.approved_on > on]
        if later:
            last = max(later, key=lambda e: e.approved_on)
            raise DomainError(
                f"Ngày phê duyệt {format_date(on)} trước lần gia hạn đã ghi (phê duyệt ngày "
                f"{format_date(last.approved_on)}, đến {format_date(last.to)}): các lần gia hạn "
                "phải ghi theo thứ tự ngày phê duyệt. Hãy rút lại lần đó "
                f"({_correct_command(last.event_id)}), ghi lần này, rồi ghi lại lần kia."
            )

    def check_extension_refusal(self, to: date, on: date, today: date) -> None:
        """A refusal answers a request that could have been approved: the same rules."""
        self.check_open("xử lý đề nghị gia hạn")
        self.check_business_date(on, today, "từ chối gia hạn")
        self._check_extension_to(to, "Hạn đề nghị")

    def _check_extension_to(self, to: date, what: str) -> None:
        if self.current_deadline is None:
            raise DomainError(f"Nhiệm vụ {self.id} không có thời hạn nên không cần gia hạn.")
        if to <= self.current_deadline:
            raise DomainError(
                f"{what} {format_date(to)} phải sau hạn hiện tại "
                f"{format_date(self.current_deadline)}."
            )

    def check_reassignment(self, leads: list[str], on: date, today: date) -> None:
        self.check_open("giao lại")
        self.check_business_date(on, today, "giao lại")
        since = self.leads_since
        if on < since:  # (not before the assignment: checked above)
            raise DomainError(
                f"Ngày giao lại {format_date(on)} trước lần giao lại gần nhất "
                f"({format_date(since)}, cho {', '.join(self.leads_on(since))} chủ trì): các "
                "lần giao lại phải ghi theo thứ tự ngày. Nếu lần đó ghi nhầm, hãy rút lại nó "
                "bằng `nhiemvu correct`."
            )
        if sorted(leads) == sorted(self.leads):
            raise DomainError(f"{', '.join(leads)} đã là cơ quan chủ trì của nhiệm vụ này.")

    def check_progress(self, percent: int, on: date, today: date) -> None:
        if not 0 <= percent <= 100:
            raise DomainError(f"Tỷ lệ tiến độ {percent}% phải nằm trong khoảng 0–100.")
        self.check_open("báo cáo tiến độ")
        self.check_business_date(on, today, "báo cáo tiến độ")

    def check_completion(self, on: date, today: date) -> None:
        if self.completed_on is not None:
            raise DomainError(
                f"Nhiệm vụ {self.id} đã được ghi hoàn thành ngày "
                f"{format_date(self.completed_on)}; không ghi hoàn thành lần thứ hai. "
                "Nếu ngày hoàn thành bị ghi sai, hãy rút lại sự kiện cũ: "
                f"{_correct_command(self.completion_event)}, rồi ghi lại."
            )
        self.check_open("ghi hoàn thành")
        self.check_business_date(on, today, "hoàn thành")
        self._check_closed_after_what_was_recorded(on, "hoàn thành")

    def check_cancellation(self, on: date, today: date) -> None:
        self.check_open("hủy")
        self.check_business_date(on, today, "hủy")
        self._check_closed_after_what_was_recorded(on, "hủy")

    def _check_closed_after_what_was_recorded(self, on: date, what: str) -> None:
        """A task is not closed before a day something was recorded of it as open: the
        other order is refused (check_open), and a reassignment dated after the
        completion would give the completion to the new lead. Escalation steps and
        documents may come after: a completion is often logged after the day's pass."""
        recorded = [(self.leads_since, "giao lại")] if self.lead_periods else []
        if self.progress_on is not None:
            recorded.append((self.progress_on, "báo cáo tiến độ"))
        recorded += [(e.approved_on, "gia hạn") for e in self.extensions]
        recorded += [(date.fromisoformat(r["on"]), "từ chối gia hạn") for r in self.refusals]
        later = [(day, kind) for day, kind in recorded if day > on]
        if later:
            day, kind = max(later)
            raise DomainError(
                f"Ngày {what} {format_date(on)} trước ngày {format_date(day)} của việc {kind} "
                f"đã ghi cho nhiệm vụ {self.id}. Hãy kiểm tra lại ngày; nếu việc {kind} ghi "
                f"nhầm, hãy rút lại nó (số thứ tự trong `nhiemvu task history {self.id}`) rồi "
                "ghi lại."
            )


def derive_task(facts: list[dict[str, Any]], as_of: date | None = None) -> Task | None:
    """Fold the retained facts of one task (in log order) into its state.

    Facts dated after `as_of` are left out. None when the task does not exist
    (not yet assigned on that date, or its assignment was retracted).
    """
    if as_of is not None:
        facts = [f for f in facts if fact_date(f) <= as_of]
    task: Task | None = None
    for fact in facts:
        if fact["type"] == ASSIGNED:
            task = _assigned(fact["data"])
        elif task is not None:
            _APPLY[fact["type"]](task, fact)
    return task


def apply_fact(task: Task, fact: dict[str, Any]) -> None:
    """Fold one more fact (not an assignment) into a task, in place: what
    `derive_task` does for each fact after the assignment."""
    _APPLY[fact["type"]](task, fact)


def _assigned(data: dict[str, Any]) -> Task:
    deadline = from_iso(data["deadline"]["due"])
    return Task(
        id=data["task_id"],
        directive=data["directive"],
        clause=data.get("clause"),
        title=data["title"],
        leads=list(data["leads"]),
        coordinators=list(data.get("coordinators", [])),
        leader=data.get("leader"),
        assigned_on=date.fromisoformat(data["assigned_on"]),
        deadline_kind=data["deadline"]["kind"],
        deadline_spec=data["deadline"].get("value"),
        original_deadline=deadline,
        effective_deadline=deadline,
        current_deadline=deadline,
    )


def _progress(task: Task, fact) -> None:
    data = fact["data"]
    on = date.fromisoformat(data["on"])
    if task.progress_on is None or on >= task.progress_on:
        task.progress_percent = data["percent"]
        task.progress_on = on
        task.progress_note = data.get("note")


def _extended(task: Task, fact) -> None:
    data = fact["data"]
    approved_on = date.fromisoformat(data["on"])
    to = date.fromisoformat(data["to"])
    in_time = task.effective_deadline is not None and approved_on <= task.effective_deadline
    if in_time and task.effective_deadline == task.current_deadline:
        task.effective_deadline = to
    else:
        in_time = False
    task.current_deadline = to
    task.extensions.append(Extension(fact["id"], approved_on, to, data.get("reason", ""), in_time))


def _refused(task: Task, fact) -> None:
    task.refusals.append({"event_id": fact["id"], **fact["data"]})


def _correct_command(event_id: str | None) -> str:
    return f"`nhiemvu correct {event_id or 'MÃ_SỰ_KIỆN'} --reason …`"


def _completed(task: Task, fact) -> None:
    task.completed_on = date.fromisoformat(fact["data"]["on"])
    task.completion_doc = fact["data"].get("doc")
    task.completion_event = fact["id"]


def _cancelled(task: Task, fact) -> None:
    task.cancelled_on = date.fromisoformat(fact["data"]["on"])
    task.cancel_reason = fact["data"].get("reason")
    task.cancel_event = fact["id"]


def _reassigned(task: Task, fact) -> None:
    data = fact["data"]
    leads = tuple(data["to"])
    periods = task.lead_periods or ((task.assigned_on, tuple(task.leads)),)
    task.lead_periods = (*periods, (date.fromisoformat(data["on"]), leads))
    task.leads = list(leads)
    # A coordinating agency made to lead stops coordinating: one role each, as at
    # the assignment.
    task.coordinators = [c for c in task.coordinators if c not in leads]


def _escalated(task: Task, fact) -> None:
    task.escalations.append(dict(fact["data"], event_id=fact["id"]))


def _named_in_document(task: Task, fact) -> None:
    data = fact["data"]
    task.documents.append(
        {
            "event_id": fact["id"],
            "number": data["number"],
            "kind": data["kind"],
            "issued_on": data["issued_on"],
        }
    )


_APPLY = {
    PROGRESS: _progress,
    EXTENDED: _extended,
    EXTENSION_REFUSED: _refused,
    COMPLETED: _completed,
    CANCELLED_EVENT: _cancelled,
    REASSIGNED: _reassigned,
    ESCALATED: _escalated,
    NAMED_IN_DOCUMENT: _named_in_document,
}
