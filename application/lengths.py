"""The longest codes and numbers the projection's columns hold (application.tables
declares its columns with these). PostgreSQL refuses a longer value and SQLite
would keep it, so the commands refuse it first, the same on both — and a SQLite
log then moves to PostgreSQL whole (events export / import)."""

from workflow.errors import DomainError

AGENCY_CODE = 50
TASK_ID = 100
DOCUMENT_NUMBER = 100  # directives and reprimand documents alike
DIRECTIVE_KIND = 100
ISSUER = 200
# Not a column's: names live in the facts. The longest real one is under 100
# characters; a pasted paragraph is a mistake, and would break every table.
AGENCY_NAME = 300


def check_length(value: str | None, longest: int, what: str) -> None:
    """Refuse `value` (normalised already) if it is longer than `longest` characters."""
    if value is not None and len(value) > longest:
        raise DomainError(
            f"{what} dài {len(value)} ký tự, quá {longest} ký tự cho phép: "
            f"'{value[:40]}…'. Hãy viết gọn lại."
        )
