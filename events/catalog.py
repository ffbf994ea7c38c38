"""Every event type nhiemvu writes, by stable name and current schema version.

Renaming a type breaks old logs: add a new type and an upcaster instead. When a
payload changes shape, raise the version here and register the upcaster from
the previous version below.
"""

from __future__ import annotations

from .registry import EventRegistry

EVENT_TYPES: dict[str, int] = {
    # agencies
    "agency.registered": 1,
    "agency.renamed": 1,
    "agency.head_appointed": 1,
    "agency.deputy_appointed": 1,
    "agency.dissolved": 1,
    "agency.merged": 1,
    # directives
    "directive.registered": 1,
    # tasks
    "task.assigned": 1,
    "task.progress_reported": 1,
    "task.extension_approved": 1,
    "task.extension_refused": 1,
    "task.completed": 1,
    "task.cancelled": 1,
    "task.reassigned": 1,
    "task.escalated": 1,
    # a completed escalation pass: every step due by its date is on the log
    "escalation.pass_completed": 1,
    # reprimands and commendations
    "document.issued": 1,
    # year-end evaluation
    "assessment.recorded": 1,
    "rating.finalized": 1,
    # corrections: retracts one earlier event of the same stream
    "event.retracted": 1,
}


def build_registry() -> EventRegistry:
    registry = EventRegistry()
    for name, version in EVENT_TYPES.items():
        registry.register(name, version)
    registry.check_complete()
    return registry


REGISTRY = build_registry()
