"""How long what people type may be, checked before anything is written.

The codes and numbers: the longest the projection's columns hold (application.tables
declares its columns with these). PostgreSQL refuses a longer value and SQLite
would keep it, so the commands refuse it first, the same on both — and a SQLite
log then moves to PostgreSQL whole (events export / import). Names and free text
live in the events only: their limits catch a paste gone wrong."""

from workflow.errors import DomainError
from workflow.text import grouped

AGENCY_CODE = 50
TASK_ID = 100
DOCUMENT_NUMBER = 100  # directives and reprimand documents alike
DIRECTIVE_KIND = 100
ISSUER = 200
# Not a column's: names live in the facts. The longest real one is under 100
# characters; a pasted paragraph is a mistake, and would break every table.
AGENCY_NAME = 300
# A person's name (a head, a deputy, a person a document names, the one who records).
PERSON_NAME = 200
# Free text typed into an event: a task's content, a directive's summary, a note, a
# reason. The longest real one (a conclusion's paragraph with its sub-items) runs to a
# few thousand characters; past ten thousand — some four pages — it is a paste gone
# wrong, and every table, letter and report that shows it would carry it whole.
FREE_TEXT = 10_000

# The fields of an event's data a person types, the longest each may be, and how the
# refusal names it (by the option that gives it, which the Excel import translates to
# its column). A field not named here is free text; codes, numbers and dates are
# checked before, by the commands that take them.
_TYPED_FIELDS = {
    "title": (FREE_TEXT, "Nội dung (--title)"),
    "note": (FREE_TEXT, "Ghi chú (--note)"),
    "reason": (FREE_TEXT, "Lý do (--reason)"),
    "clause": (DOCUMENT_NUMBER, "Mục, điểm trong văn bản (--clause)"),
    "leader": (PERSON_NAME, "Lãnh đạo UBND chỉ đạo (--leader)"),
    "field": (AGENCY_NAME, "Lĩnh vực (--field)"),
    "doc": (DOCUMENT_NUMBER, "Số văn bản (--doc)"),
    "person": (PERSON_NAME, "Họ tên (--name)"),
}


def check_length(value: str | None, longest: int, what: str) -> None:
    """Refuse `value` (normalised already) if it is longer than `longest` characters."""
    if value is not None and len(value) > longest:
        raise DomainError(
            f"{what} dài {grouped(len(value))} ký tự, quá {grouped(longest)} ký tự cho phép: "
            f"'{value[:40].rstrip()}…'. Hãy viết gọn lại."
        )


def check_typed_texts(data: dict) -> None:
    """Refuse an event whose data holds a text longer than its field may be."""
    for key, value in data.items():
        if isinstance(value, str):
            check_typed_text(key, value)


def check_typed_text(key: str, value: str) -> None:
    """Refuse a text longer than the field `key` of an event's data may be: before the
    events are made, where a command makes several of one text."""
    longest, what = _TYPED_FIELDS.get(key, (FREE_TEXT, f"Trường '{key}'"))
    check_length(value, longest, what)
