"""One task read back from its projection row, over any connection's `Raw` cursor:
SQLAlchemy's, or the bare driver's of the fast read commands (application.quick)."""

from __future__ import annotations

from datetime import date
from typing import Any

from events.sql import Raw
from workflow.dates import format_date, iso
from workflow.errors import DomainError, NotFound
from workflow.tasks import STATUS_LABELS, Task, derive_task
from workflow.text import code

from . import streams


def task_facts(raw: Raw, task_id: str) -> list[dict]:
    task_id = code(task_id)  # as `task assign --id` stored it
    row = raw.one("SELECT facts FROM proj_tasks WHERE task_id = :task_id", {"task_id": task_id})
    if row is None:
        raise missing_task(raw, task_id)
    return raw.dialect.to_json(row[0])


def missing_task(raw: Raw, task_id: str) -> DomainError:
    """Why there is no task `task_id`: its assignment was retracted — the log still
    holds its stream, and its history —, or there never was one."""
    stream = {"stream": streams.task(task_id)}
    first = "SELECT 1 FROM events WHERE stream_id = :stream AND stream_version = 1"
    if raw.one(first, stream) is None:
        return NotFound("nhiệm vụ", task_id, task_ids(raw))
    return retracted(task_id)


def retracted(task_id: str) -> DomainError:
    return DomainError(
        f"Nhiệm vụ {task_id} không còn: việc giao nhiệm vụ này đã được rút lại. Lịch sử vẫn "
        f"ở trong sổ (`nhiemvu task history {task_id}`); mã này không dùng lại được, nếu "
        "cần hãy giao lại nhiệm vụ với mã mới."
    )


def task_ids(raw: Raw) -> list[str]:
    return [row[0] for row in raw.all("SELECT task_id FROM proj_tasks")]


def load_task(raw: Raw, task_id: str, as_of: date | None = None) -> Task:
    facts = task_facts(raw, task_id)
    task = derive_task(facts, as_of)
    if task is None:
        raise not_yet_assigned(derive_task(facts), task_id, as_of)
    return task


def not_yet_assigned(task: Task | None, task_id: str, as_of: date | None) -> DomainError:
    """Why a task is not there as of a date: assigned after it (`task`, as it is now),
    or not at all (None: its assignment was retracted)."""
    if task is None:
        return retracted(task_id)
    if as_of is None:
        return NotFound("nhiệm vụ", task_id)
    return DomainError(
        f"Nhiệm vụ {task.id} được giao ngày {format_date(task.assigned_on)}, sau ngày "
        f"{format_date(as_of)} được hỏi (--as-of): khi đó chưa có nhiệm vụ này. Hãy xem tại "
        f"một ngày từ {format_date(task.assigned_on)} trở đi."
    )


def task_to_dict(task: Task, cutoff: date) -> dict[str, Any]:
    status = task.status(cutoff)
    return {
        "id": task.id,
        "title": task.title,
        "directive": task.directive,
        "clause": task.clause,
        "leads": task.leads,
        "coordinators": task.coordinators,
        "leader": task.leader,
        "assigned_on": iso(task.assigned_on),
        "deadline_kind": task.deadline_kind,
        "deadline_spec": task.deadline_spec,
        "deadline": iso(task.effective_deadline),
        "original_deadline": iso(task.original_deadline),
        "current_deadline": iso(task.current_deadline),
        "status": status,
        "status_label": STATUS_LABELS[status],
        "as_of": iso(cutoff),
        "completed_on": iso(task.completed_on),
        "completion_doc": task.completion_doc,
        "cancelled_on": iso(task.cancelled_on),
        "cancel_reason": task.cancel_reason,
        "days_overdue": task.days_overdue(cutoff),
        "progress": task.progress_percent,
        "progress_on": iso(task.progress_on),
        "progress_note": task.progress_note,
        "escalation_level": task.escalation_level,
        "escalation_step": _step(task.escalation_step),
        "extensions": [
            {
                "approved_on": iso(e.approved_on),
                "to": iso(e.to),
                "reason": e.reason,
                "in_time": e.in_time,
                "event_id": e.event_id,
            }
            for e in task.extensions
        ],
        "refused_extensions": [
            {
                "refused_on": r.get("on"),
                "to": r.get("to"),
                "reason": r.get("reason"),
                "event_id": r["event_id"],
            }
            for r in task.refusals
        ],
        "documents": task.documents,
    }


def _step(step: dict[str, Any] | None) -> dict[str, Any] | None:
    """The escalation step a task stands at: what it says, and the day it fell due."""
    return None if step is None else {"label": step["label"], "due_on": step["due_on"]}
