"""`task list`: the tasks as of a day, as JSON-ready dictionaries, one after the other.

A city's log holds some 20,000 tasks a year. The list is read in batches — the state
columns first, which decide most filters, then the chosen tasks whole, a batch at a
time — so that a command can write each row as it comes: memory stays flat in the
number of tasks, and the first row is out before the last task is read.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from datetime import date
from itertools import islice
from typing import Any

from sqlalchemy.engine import Connection

from events.sql import Raw
from workflow.errors import DomainError
from workflow.tasks import OPEN_STATUSES, STATUSES, Task, TaskState
from workflow.text import code as norm_code
from workflow.text import nfc, words_matcher

from . import loading
from .task_reads import task_to_dict

# State rows fetched a statement (a round trip of the server-side cursor), and tasks
# read whole a statement.
READ_BATCH = 500
DERIVE_BATCH = 200


def list_tasks(
    connection: Connection,
    as_of: date,
    *,
    agency: str | None = None,
    status: str | None = None,
    directive: str | None = None,
    words: str | None = None,
    assigned_from: date | None = None,
    assigned_to: date | None = None,
    limit: int | None = None,
    warnings: list[str] | None = None,
    read_batch: int = READ_BATCH,
    derive_batch: int = DERIVE_BATCH,
) -> Iterator[dict[str, Any]]:
    """The tasks standing on `as_of`, in assignment order, optionally only those led by
    `agency`, with `status`, given by `directive`, whose title holds `words` one after
    another (workflow.text.matches_words: case and diacritics optional), or assigned
    from `assigned_from` to `assigned_to`; at most `limit` of them.

    What is asked is checked now (an unknown agency or directive, a bad status is
    refused before anything is read); the rows come as they are read. `warnings`
    gets what people should know of the choice made (a directive number several
    years used). Read it in one snapshot (events.database.read_snapshot): the
    batches are statements of their own."""
    if status is not None and status not in STATUSES:
        raise DomainError(
            f"Trạng thái '{status}' không hợp lệ; chọn một trong: {', '.join(STATUSES)}."
        )
    # As the commands store them: NFC (a keyboard may type NFD), codes upper-case.
    if agency is not None:
        agency = norm_code(agency)
        loading.load_agency(connection, agency)
    if directive is not None:
        row, chosen = loading.directive_choice(connection, nfc(directive), as_of)
        directive = row["number"]  # as registered
        if warnings is not None:
            warnings.extend(chosen)
    matches = words_matcher(words) if words else None
    batches = loading.task_state_batches(
        connection,
        as_of,
        # An open status on `as_of` leaves out every task settled before it.
        active_since=as_of if status in OPEN_STATUSES else None,
        agency=agency,
        directive=directive,
        assigned_from=assigned_from,
        assigned_to=assigned_to,
        titles=matches is not None,
        batch_size=read_batch,
    )
    chosen = _chosen(batches, as_of, status, matches)
    return _rows(connection, chosen, as_of, matches, limit, derive_batch)


def widest_keys(connection: Connection) -> dict[str, int]:
    """The longest task id and directive number the ledger holds, in characters. A
    table written as it is read sizes its columns before the first row; these cells
    are shown whole (people copy them), and an importer's id (XL-03517CF41B) or a
    directive number such as KL-HNTU-11-XVI wider than its column pushed the rest of
    its line from under the headings. Two index-sized reads, in the list's snapshot."""
    raw = Raw(connection)
    try:
        ids = raw.one("SELECT MAX(LENGTH(task_id)) FROM proj_tasks")[0]
        numbers = raw.one("SELECT MAX(LENGTH(directive)) FROM proj_tasks")[0]
    finally:
        raw.close()
    return {"id": ids or 0, "directive": numbers or 0}


def _chosen(batches, as_of: date, status: str | None, matches) -> Iterator[tuple[TaskState, bool]]:
    """The states the filters keep, each with whether its title is yet to be matched
    (its first fact was not the assignment: read whole, the task tells)."""
    with closing(batches):
        for batch in batches:
            for state, title in batch:
                if status is not None and state.status(as_of) != status:
                    continue
                if matches is None:
                    yield state, False
                elif title is None:
                    yield state, True
                elif matches(title):
                    yield state, False


def _rows(connection, chosen, as_of: date, matches, limit: int | None, derive_batch: int):
    """The chosen tasks as dictionaries, read whole `derive_batch` at a time."""
    if limit is not None and limit < 1:
        return
    written = 0
    with closing(chosen):
        while pending := list(islice(chosen, derive_batch)):
            for (_, unmatched), task in zip(
                pending, _whole(connection, pending, as_of), strict=True
            ):
                if unmatched and not matches(task.title):
                    continue
                yield task_to_dict(task, as_of)
                written += 1
                if written == limit:
                    return


def _whole(connection, pending, as_of: date) -> list[Task]:
    """The tasks of `pending` whole, in its order: those derived from their facts
    already (some dated after `as_of`) as they are, the others read."""
    to_read = [state.id for state, _ in pending if not isinstance(state, Task)]
    read = loading.tasks_by_id(connection, to_read, as_of) if to_read else {}
    return [state if isinstance(state, Task) else read[state.id] for state, _ in pending]
