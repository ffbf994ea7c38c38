"""The ledger projection: agencies, directives, tasks, documents, assessments, ratings.

The projection is fed one event at a time through a session (events.feeds): the
commands' transactions feed it each event they append, and `nhiemvu projections
rebuild` feeds it the whole log — the same `LedgerSession.apply`, so the two
cannot disagree.

Tasks and agencies are kept in the session's memory (their facts still in force,
retracted ones removed) and written out when the transaction flushes, so that
the commands of a batch read and update them without a round trip. A task row
also carries its state as columns (see application.tables), computed from its facts
when the row is written. Directives, documents, assessments and ratings are few
and are written through as their events arrive.

A rebuild feeds the log a range of tasks at a time, each range to a session of its
own (`LedgerProjection.rebuild_parts`), so memory is bounded by the range, not by
the tasks open at once, and no task is written out before its range ends.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from datetime import date
from functools import partial
from json.encoder import encode_basestring
from typing import Any

from events.errors import ProjectionOutOfStep
from events.serialization import canonical_json
from events.sql import Raw, loads
from events.store import RecordedEvent
from events.stream_ranges import (
    RebuildPart,
    StreamRange,
    count_streams,
    stream_ranges,
)
from workflow.agencies import Agency, derive_agency
from workflow.tasks import Task, apply_fact, derive_task, fact_date

from . import numbering
from .streams import LEDGER_PROJECTION

RETRACTED = "event.retracted"
PASS_COMPLETED = "escalation.pass_completed"
TASK_COUNTER = "task_number"
TASKS, DOCUMENTS = "task:", "document:"  # the prefixes of their stream ids
TASK_NUMBER = re.compile(r"^NV-(\d+)$")
# Tasks a rebuild folds at a time (see LedgerProjection.rebuild_parts), all held
# in memory until their part ends: a few KB each, facts as text and the task folded
# from them (a city's decade: some 320 MB at the peak of a rebuild).
TASKS_PER_REBUILD_PART = 40_000
# At most that many when parts are folded side by side, each worker process holding
# one: a city's decade then peaks at some 120 MB a worker (on SQLite, facts held as bytes).
TASKS_PER_DETACHED_PART = 12_000
# Fewer tasks are folded in the rebuild's own process: starting the workers (half a
# second of imports each) would cost more than they save.
TASKS_WORTH_WORKERS = 10_000
# Tasks a session kept between transactions holds at most (see LedgerProjection):
# some 8 KB each, their facts parsed and their task folded.
KEPT_TASKS = 5_000

_UNSET = object()

_TASK_COLUMNS = (
    "task_id", "version", "directive", "assigned_on", "leads", "original_deadline",
    "effective_deadline", "current_deadline", "completed_on", "cancelled_on", "closed_on",
    "last_fact_on", "escalation_level", "last_position", "lead_periods", "facts",
)  # fmt: skip
# The facts as text on PostgreSQL too (its driver would parse a `json` column): the
# row keeps the text, and writing it back does not encode every fact again.
_SELECT_TASK = {
    sqlite: f"SELECT {', '.join(_TASK_COLUMNS[:-1])}, "
    f"{'facts' if sqlite else 'CAST(facts AS text)'} FROM proj_tasks WHERE task_id"
    for sqlite in (True, False)
}
_DATE_COLUMNS = frozenset(
    ("assigned_on", "original_deadline", "effective_deadline", "current_deadline",
     "completed_on", "cancelled_on", "closed_on", "last_fact_on")
)  # fmt: skip


def _fact(event: RecordedEvent) -> dict[str, Any]:
    return {"id": event.event_id, "type": event.type, "data": event.data}


def _fact_json(event) -> str | bytes | None:
    """The fact's JSON spliced around the stored payload text (events read from the
    log have it), so that a rebuild does not encode what it has just decoded. The
    payload is stored canonical, so this is `facts_text` of the fact, byte for byte
    — or its UTF-8 bytes, if the payload came as bytes (LedgerSession.takes_payload_bytes)."""
    data = getattr(event, "data_json", None)
    if data is None:
        return None
    ident, kind = encode_basestring(event.event_id), encode_basestring(event.type)
    if type(data) is bytes:
        return b'{"data":%b,"id":%b,"type":%b}' % (data, ident.encode(), kind.encode())
    return f'{{"data":{data},"id":{ident},"type":{kind}}}'


def _facts_array(texts: list) -> str | bytes:
    """The JSON array of these facts' texts (at least one): bytes if any of them is."""
    try:
        if type(texts[0]) is bytes:
            return b"[%b]" % b",".join(texts)
        return f"[{','.join(texts)}]"
    except TypeError:  # both: in a rebuild, an upcast payload comes as text
        return b"[%b]" % b",".join(t if type(t) is bytes else t.encode() for t in texts)


def lead_periods_json(periods) -> str | None:
    """The column `lead_periods`: the task's lead periods as JSON, `[["2023-06-15",
    ["STC"]], …]` (see workflow.tasks.TaskState.lead_periods), or NULL — most tasks
    are never reassigned."""
    if not periods:
        return None
    return canonical_json([[since.isoformat(), list(leads)] for since, leads in periods])


def _data_text(event) -> str:
    """The event's payload as JSON for a projection row: the log's own canonical text
    when the event was read from it, else the same encoding."""
    text = getattr(event, "data_json", None)
    if text is None:
        return canonical_json(event.data)
    return text.decode() if type(text) is bytes else text


# Facts are stored compact, Vietnamese unescaped (a third of json.dumps' size), and
# canonical like the log's payloads: a task's row reads the same whether commands
# wrote it or a rebuild did.
facts_text = canonical_json


def all_leads(facts: list[dict[str, Any]]) -> list[str]:
    """Every agency that has led the task at some time: "as of" queries filter on
    these and then keep the task only if the agency led it on that date."""
    leads: list[str] = []
    for fact in facts:
        if fact["type"] == "task.assigned":
            leads.extend(fact["data"]["leads"])
        elif fact["type"] == "task.reassigned":
            leads.extend(fact["data"]["to"])
    return list(dict.fromkeys(leads))


class TaskRow:
    """One task in a session: its facts in force, its stream version, its row's fate."""

    __slots__ = ("task_id", "_facts", "_facts_text", "_added_texts", "version", "stored_leads",
                 "dirty", "last_position", "written", "_task", "_last_fact_on", "_leads_ever")  # fmt: skip

    def __init__(self, task_id, facts, version, last_position, written=None, facts_json=None):
        self.task_id = task_id
        self._facts: list[dict[str, Any]] | None = facts
        # The facts as JSON text, kept in step with `facts` when a fact is added, so
        # that writing the row does not encode every fact again (None: encode).
        self.facts_json = facts_json
        self.version: int = version
        # The row's columns as stored (None: no row): an update writes only what
        # changed, so that an index is rewritten only when its column changes.
        self.written: dict[str, Any] | None = written
        self.stored_leads = all_leads(facts) if written is not None else None
        self.dirty = False
        self.last_position: int = last_position
        self._task: Any = _UNSET
        self._last_fact_on: date | None = None  # None: work it out from the facts
        self._leads_ever: list[str] | None = None  # likewise

    @property
    def leads_ever(self) -> list[str]:
        """Every agency that has led the task (see all_leads)."""
        if self._leads_ever is None:
            self._leads_ever = all_leads(self.facts)
        return self._leads_ever

    @property
    def last_fact_on(self) -> date:
        """The latest business date among the facts."""
        if self._last_fact_on is None:
            self._last_fact_on = max(fact_date(f) for f in self.facts)
        return self._last_fact_on

    @property
    def facts_json(self) -> str | bytes | None:
        """The facts as JSON text (None: to be encoded from `facts`), or its UTF-8
        bytes in a rebuild (see LedgerSession.takes_payload_bytes)."""
        text = self._facts_text
        if text is not None and self._added_texts:
            inner = [text[1:-1]] if len(text) > 2 else []  # not "[]"
            text = _facts_array([*inner, *self._added_texts])
            self._facts_text, self._added_texts = text, []
        return text

    @facts_json.setter
    def facts_json(self, text: str | bytes | None) -> None:
        # The texts of facts added later are kept apart until the text is read: one
        # text growing by a fact at a time would be copied whole each time (a tenth
        # of a rebuild's folding).
        self._facts_text, self._added_texts = text, []

    @property
    def stored(self) -> bool:
        return self.written is not None

    @property
    def facts(self) -> list[dict[str, Any]]:
        if self._facts is None:  # kept as text only (see lighten): parse it again
            self._facts = loads(self.facts_json)
        return self._facts

    @facts.setter
    def facts(self, facts: list[dict[str, Any]]) -> None:
        self._facts = facts

    def lighten(self) -> None:
        """For a bulk session holding many tasks: keep the facts as text only (the task
        folded from them stays, so adding a fact needs neither), and after a write
        forget the stored values (the next write then writes every column)."""
        if self._facts_text is not None and self._task is not _UNSET:
            self._facts = None
        if self.written:
            self.written = {}

    @property
    def task(self) -> Task | None:
        """The task now (None: not assigned, or its assignment retracted)."""
        if self._task is _UNSET:
            self._task = derive_task(self.facts) if self.facts else None
        return self._task

    def added(self, fact: dict[str, Any], text: str | None = None) -> None:
        """One more fact at the end (`text`: its JSON, if known): the task folds it in
        place, without a new derivation. Commands read the task before they append."""
        if fact["type"] == "task.assigned":
            self.changed([*self.facts, fact])
            if len(self.facts) == 1:
                if text is not None:
                    self.facts_json = _facts_array([text])
                self._last_fact_on = fact_date(fact)
                self._leads_ever = list(dict.fromkeys(fact["data"]["leads"]))
            return
        if self._facts is not None:
            if not self._facts:
                return  # no assignment (retracted): nothing to add it to
            self._facts = [*self._facts, fact]
        if self._facts_text is not None:
            self._added_texts.append(text or facts_text(fact))
        if self._last_fact_on is not None:
            self._last_fact_on = max(self._last_fact_on, fact_date(fact))
        if self._leads_ever is not None and fact["type"] == "task.reassigned":
            self._leads_ever = list(dict.fromkeys([*self._leads_ever, *fact["data"]["to"]]))
        if self._task is not _UNSET and self._task is not None:
            apply_fact(self._task, fact)
        self.dirty = True

    def changed(self, facts: list[dict[str, Any]]) -> None:
        # The assignment is the first fact of a task; without it the task no longer
        # exists, and what follows starts afresh.
        if not facts or facts[0]["type"] != "task.assigned":
            facts = []
        self.facts = facts
        self.facts_json = None
        self._task = _UNSET
        self._last_fact_on = self._leads_ever = None
        self.dirty = True


class AgencyRow:
    __slots__ = ("code", "facts", "stored", "dirty", "_agency")

    def __init__(self, code, facts, stored) -> None:
        self.code = code
        self.facts: list[dict[str, Any]] = facts
        self.stored = stored
        self.dirty = False
        self._agency: Any = _UNSET

    @property
    def agency(self) -> Agency | None:
        if self._agency is _UNSET:
            self._agency = derive_agency(self.facts) if self.facts else None
        return self._agency

    def changed(self, facts: list[dict[str, Any]]) -> None:
        if not facts or facts[0]["type"] != "agency.registered":
            facts = []  # its registration was retracted
        self.facts = facts
        self._agency = _UNSET
        self.dirty = True


class LedgerProjection:
    """The projection's sessions, and the one kept between the transactions of a thread.

    A command reads the tasks, agencies and directives it needs from the session its
    transaction feeds. The session a transaction leaves behind when it commits is
    what the database holds at that head; as long as the head has not moved when the
    next transaction of the same thread takes the lock, that one goes on with it
    instead of reading the rows back (see events.feeds). Any write in between, from
    any process, moves the head, and the kept session is then dropped.
    """

    name = LEDGER_PROJECTION

    def __init__(self) -> None:
        self._kept = threading.local()

    def reset(self, connection) -> None:
        self._kept = threading.local()
        from .tables import PROJECTION_TABLES  # noqa: PLC0415 - SQLAlchemy, for rebuilds only

        for table in PROJECTION_TABLES:
            connection.execute(table.delete())

    @staticmethod
    def table_names() -> list[str]:
        from .tables import PROJECTION_TABLES  # noqa: PLC0415 - as in reset

        return [table.name for table in PROJECTION_TABLES]

    def rebuild_parts(self, raw: Raw, workers: int = 1) -> Iterator[RebuildPart]:
        """A rebuild a range of tasks at a time (see events.stream_ranges): first every
        stream but the tasks' — agencies, directives, documents… —, then each range of
        at most TASKS_PER_REBUILD_PART task streams with the documents again, whose
        facts go to the tasks of that range. A task's row depends on its own stream and
        the documents naming it, nothing else, and the task counter is kept as the
        highest any part saw. So each task is folded from its whole stream in memory
        and written once, however many tasks the log holds open at a time — a single
        pass must write out tasks it cannot hold, and read them back —, and the ranges
        read nothing from the projection: `workers` processes fold them side by side."""
        every_other = partial(LedgerSession, part_of_rebuild=True)
        yield RebuildPart(every_other, [StreamRange(TASKS)], excluding=True)
        documents = stream_ranges(raw, DOCUMENTS, 2**62)  # their whole span, if any
        tasks = count_streams(raw, TASKS)
        size = TASKS_PER_REBUILD_PART
        if tasks < TASKS_WORTH_WORKERS:
            workers = 1
        elif workers > 1:  # each worker holds a part, its process beside this one
            size = min(size, TASKS_PER_DETACHED_PART)
        session = partial(LedgerSession, part_of_rebuild=True, documents_stored=True)
        ranges = stream_ranges(raw, TASKS, size, workers, tasks)
        for streams in ranges:
            # Fed from its earliest task's assignment: a document before it names
            # none of the range's tasks (they did not exist), so it changes nothing.
            yield RebuildPart(
                session,
                [streams, *documents],
                detachable=workers > 1,
                from_position=streams.opened_at,
            )

    def open_session(self, raw: Raw, bulk: bool = False) -> LedgerSession:
        # `bulk` (a long feed of the log from its start) does not arise: the ledger
        # is rebuilt by parts (rebuild_parts), and a plain session can take any feed.
        return LedgerSession(raw)

    def resume_session(self, raw: Raw, position: int) -> LedgerSession | None:
        """The session kept at exactly this head, now over `raw` (taken: one user)."""
        kept = getattr(self._kept, "session", None)
        self._kept.session = None
        if kept is None or kept[1] != position:
            return None
        session = kept[0]
        session.rebind(raw)
        return session

    def keep_session(self, session: LedgerSession, position: int) -> None:
        """Keep a committed transaction's session, its state being the database's at
        `position`; the tasks beyond a bound are forgotten, the oldest first."""
        if session.part_of_rebuild:
            return  # nobody goes on with it
        session.forget_tasks_beyond(KEPT_TASKS)
        self._kept.session = (session, position)

    def apply(self, connection, events) -> None:
        """Apply events in one go (the plain projection protocol)."""
        session = self.open_session(Raw(connection))
        for event in events:
            session.apply(event)
        session.flush()


class LedgerSession:
    writes_blindly = True  # its flush only writes (see events.feeds)

    def __init__(
        self, raw: Raw, part_of_rebuild: bool = False, documents_stored: bool = False
    ) -> None:
        # A part of a rebuild (see LedgerProjection.rebuild_parts) is fed the whole
        # streams of its tasks and holds them all: a task it does not hold belongs to
        # another part, or is not assigned yet — nothing to read back. It holds back
        # the inserts of the rows it writes through and writes them together: one
        # statement each would cost a round trip.
        self.part_of_rebuild = part_of_rebuild
        self.raw = _InsertsHeldBack(raw) if part_of_rebuild else raw
        self.dialect = raw.dialect
        # A part after the first: the documents are in proj_documents already; it
        # only adds their facts to its tasks, and remembers which tasks each names.
        self.documents_stored = documents_stored
        self._document_tasks: dict[str, list[str]] = {}
        self.tasks: OrderedDict[str, TaskRow | None] = OrderedDict()
        self.agencies: dict[str, AgencyRow | None] = {}
        self._all_agencies_held = False  # every row of proj_agencies is in `agencies`
        self.directives: dict[str, dict[str, Any] | None] = {}
        self.directive_families: dict[str, list[dict[str, Any]]] = {}
        # The rows changed since the last flush: only these are written out.
        self._dirty_tasks: dict[str, TaskRow] = {}
        self._dirty_agencies: dict[str, AgencyRow] = {}
        self._leads_texts: dict[tuple[str, ...], str] = {}  # see _leads_json
        # A part of a rebuild counts from nothing (it may not read) and, when it
        # writes, keeps the higher of its count and the stored one (see _write_counter).
        self._counter: int | None = 0 if part_of_rebuild else None
        self._counter_stored = False
        self._counter_dirty = False

    @property
    def takes_payload_bytes(self) -> bool:
        """Whether it may be fed the payloads as bytes (events.stream_ranges.feed_part):
        a part of a rebuild holds no stored row, so it only inserts rows, and the
        INSERT stores their facts as the text the bytes encode (see _write_tasks; an
        UPDATE would store the bytes as such)."""
        return self.part_of_rebuild

    def rebind(self, raw: Raw) -> None:
        """Go on in another transaction (see LedgerProjection.resume_session)."""
        self.raw = raw

    def forget_tasks_beyond(self, limit: int) -> None:
        """Forget the tasks used longest ago, down to half of `limit` (all written
        out: this is for a session between transactions)."""
        if len(self.tasks) <= limit:
            return
        while len(self.tasks) > limit // 2:
            self.tasks.popitem(last=False)

    # -- reads ------------------------------------------------------------------

    def task_row(self, task_id: str) -> TaskRow | None:
        if self.part_of_rebuild:
            # It holds all its tasks, and forgets none: no order of use to keep.
            return self.tasks.get(task_id)
        if task_id in self.tasks:
            self.tasks.move_to_end(task_id)
            return self.tasks[task_id]
        self.prefetch_tasks([task_id])
        return self.tasks[task_id]

    def task(self, task_id: str) -> Task | None:
        row = self.task_row(task_id)
        return None if row is None else row.task

    def prefetch_tasks(self, task_ids) -> None:
        """Load the rows of these tasks (one statement) unless already held."""
        wanted = [i for i in dict.fromkeys(task_ids) if i not in self.tasks]
        select = _SELECT_TASK[self.dialect.sqlite]
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            if len(chunk) == 1:
                sql, params = f"{select} = :t", {"t": chunk[0]}
            else:
                placeholders, params = self.raw.in_list("t", chunk)
                sql = f"{select} IN {placeholders}"
            found = {}
            for values in self.raw.all(sql, params):
                written = self._as_written(dict(zip(_TASK_COLUMNS, values, strict=True)))
                facts = written.pop("facts")  # as text on either engine
                found[written["task_id"]] = TaskRow(
                    written["task_id"],
                    loads(facts),
                    written["version"],
                    written["last_position"],
                    written,
                    facts,
                )
            for task_id in chunk:
                self.tasks[task_id] = found.get(task_id)

    def agency(self, code: str) -> Agency | None:
        row = self.agency_row(code)
        return None if row is None else row.agency

    def agency_row(self, code: str) -> AgencyRow | None:
        if code not in self.agencies:
            self.prefetch_agencies([code])
        return self.agencies[code]

    def prefetch_agencies(self, codes) -> None:
        wanted = [c for c in dict.fromkeys(codes) if c not in self.agencies]
        if not wanted:
            return
        if self._all_agencies_held:  # then these have no row
            self.agencies.update(dict.fromkeys(wanted))
            return
        placeholders, params = self.raw.in_list("a", wanted)
        found = dict(
            self.raw.all(
                f"SELECT code, facts FROM proj_agencies WHERE code IN {placeholders}", params
            )
        )
        for code in wanted:
            facts = found.get(code)
            self.agencies[code] = (
                None if facts is None else AgencyRow(code, self.dialect.to_json(facts), True)
            )

    def directive(self, number: str) -> dict[str, Any] | None:
        """The directive with exactly this number (kept: its tasks come one by one)."""
        if number in self.directives:
            return self.directives[number]
        row = self.raw.one(
            "SELECT number, issued_on, kind, issuer, title FROM proj_directives "
            "WHERE number = :number",
            {"number": number},
        )
        found = None if row is None else {
            "number": row[0],
            "issued_on": self.dialect.to_day(row[1]),
            "kind": row[2],
            "issuer": row[3],
            "title": row[4],
        }  # fmt: skip
        self.directives[number] = found
        return found

    def directive_family(self, number: str) -> list[dict[str, Any]]:
        """The directive keyed `number` and those of its number in other years, keyed
        "number (year)" (application.numbering)."""
        if number not in self.directive_families:
            self.directive_families[number] = numbering.directive_family(self.raw, number)
        return self.directive_families[number]

    def prefetch_all_agencies(self) -> None:
        """Every agency in one statement (a batch touches most of them). Once is
        enough for a session: one kept between transactions (LedgerProjection) holds
        what the database holds, agencies registered since included, so the batches
        of an escalation pass do not read them all again, each."""
        if self._all_agencies_held:
            return
        found = self.raw.all("SELECT code, facts FROM proj_agencies")
        for code, facts in found:
            if code not in self.agencies:
                self.agencies[code] = AgencyRow(code, self.dialect.to_json(facts), True)
        self._all_agencies_held = True

    def task_counter(self) -> int:
        """The highest number of an `NV-…` task id ever assigned."""
        if self._counter is None:
            row = self.raw.one(
                "SELECT value FROM proj_counters WHERE name = :name", {"name": TASK_COUNTER}
            )
            self._counter_stored = row is not None
            self._counter = row[0] if row else 0
        return self._counter

    def stream_version(self, stream_id: str) -> int | None:
        """The version of a task stream this session holds (see events.feeds)."""
        if not stream_id.startswith("task:"):
            return None
        task_id = stream_id[5:]
        row = self.tasks.get(task_id)
        if row is not None:
            return row.version
        number = TASK_NUMBER.match(task_id)
        if number and int(number.group(1)) > self.task_counter():
            return 0  # never assigned: every task stream begins with its assignment
        return None

    # -- applying events -----------------------------------------------------------

    def apply(self, event: RecordedEvent) -> None:
        kind, _, key = event.stream_id.partition(":")
        if kind == "task":
            self._task_event(key, event)
        elif kind == "agency":
            self._agency_event(key, event)
        elif kind == "directive":
            self._directive_event(key, event)
        elif kind == "document":
            self._document_event(event)
        elif kind == "assessment":
            self._assessment_event(event)
        elif kind == "rating":
            self._rating_event(key, event)
        elif kind == "escalation":
            self._pass_event(event)

    def _task_event(self, task_id: str, event: RecordedEvent) -> None:
        if event.stream_version == 1:
            row = None  # the first event of a stream: nothing to read back
            self.tasks[task_id] = None
        else:
            row = self.task_row(task_id)
            if row is not None and event.stream_version <= row.version:
                raise ProjectionOutOfStep(
                    f"nhiệm vụ {task_id} đã có sự kiện #{event.stream_version} ở vị trí "
                    f"{event.position} mà mốc đã dựng nói là chưa"
                )
        if row is None:
            row = self.tasks[task_id] = TaskRow(task_id, [], 0, event.position)
        row.version = event.stream_version
        row.last_position = event.position
        self._dirty_tasks[task_id] = row
        if event.type == RETRACTED:
            row.changed([f for f in row.facts if f["id"] != event.data["event_id"]])
            return
        if event.type == "task.assigned":
            self._count_task(task_id)
        row.added(_fact(event), _fact_json(event))
        if self.part_of_rebuild:
            row.task  # noqa: B018 - fold it now, so that the facts can stay text
            row.lighten()

    def _count_task(self, task_id: str) -> None:
        number = TASK_NUMBER.match(task_id)
        if number and int(number.group(1)) > self.task_counter():
            self._counter = int(number.group(1))
            self._counter_dirty = True

    def _agency_event(self, code: str, event: RecordedEvent) -> None:
        row = self.agency_row(code)
        if row is None:
            row = self.agencies[code] = AgencyRow(code, [], False)
        elif any(fact["id"] == event.event_id for fact in row.facts):
            raise ProjectionOutOfStep(
                f"cơ quan {code} đã có sự kiện ở vị trí {event.position} mà mốc đã dựng nói là chưa"
            )
        self._dirty_agencies[code] = row
        if event.type == RETRACTED:
            row.changed([f for f in row.facts if f["id"] != event.data["event_id"]])
        else:
            row.changed([*row.facts, _fact(event)])

    def _directive_event(self, key: str, event: RecordedEvent) -> None:
        self.directives.clear()  # few, and cheap to read again
        self.directive_families.clear()
        if event.type == RETRACTED:
            numbers = [n for (n,) in self.raw.all("SELECT number FROM proj_directives")]
            for number in numbers:
                if number.upper() == key:
                    self.raw.execute(
                        "DELETE FROM proj_directives WHERE number = :number", {"number": number}
                    )
            return
        data = event.data
        self.raw.execute(
            "INSERT INTO proj_directives (number, issued_on, kind, issuer, title) "
            "VALUES (:number, :issued_on, :kind, :issuer, :title)",
            {
                "number": data["number"],
                "issued_on": data["issued_on"],
                "kind": data.get("kind"),
                "issuer": data.get("issuer"),
                "title": data["title"],
            },
        )

    def _document_event(self, event: RecordedEvent) -> None:
        if event.type == RETRACTED:
            retracted = event.data["event_id"]
            for task_id in self._retract_document(retracted):
                task = self.task_row(task_id)
                if task is not None:
                    task.changed([f for f in task.facts if f["id"] != retracted])
                    self._dirty_tasks[task_id] = task
            return
        data = event.data
        if self.documents_stored:
            self._document_tasks[event.event_id] = data.get("tasks", [])
        else:
            self._store_document(event)
        for task_id in data.get("tasks", []):
            task = self.task_row(task_id)
            if task is not None:
                task.added(_fact(event), _fact_json(event))
                self._dirty_tasks[task_id] = task

    def _retract_document(self, event_id: str) -> list[str]:
        """Forget a document; the tasks it named."""
        if self.documents_stored:
            return self._document_tasks.pop(event_id, [])
        row = self.raw.one("SELECT data FROM proj_documents WHERE event_id = :e", {"e": event_id})
        self.raw.execute("DELETE FROM proj_documents WHERE event_id = :e", {"e": event_id})
        return (self.dialect.to_json(row[0]) if row else {}).get("tasks", [])

    def _store_document(self, event: RecordedEvent) -> None:
        data = event.data
        self.raw.execute(
            "INSERT INTO proj_documents (number, event_id, kind, issued_on, data) "
            "VALUES (:number, :event_id, :kind, :issued_on, :data)",
            {
                "number": data["number"],
                "event_id": event.event_id,
                "kind": data["kind"],
                "issued_on": data["issued_on"],
                "data": _data_text(event),
            },
        )

    def _assessment_event(self, event: RecordedEvent) -> None:
        if event.type == RETRACTED:
            self.raw.execute(
                "DELETE FROM proj_assessments WHERE event_id = :e", {"e": event.data["event_id"]}
            )
            return
        data = event.data
        self.raw.execute(
            "INSERT INTO proj_assessments "
            "(event_id, position, agency, year, criterion, points, reason) "
            "VALUES (:event_id, :position, :agency, :year, :criterion, :points, :reason)",
            {
                "event_id": event.event_id,
                "position": event.position,
                "agency": data["agency"],
                "year": data["year"],
                "criterion": data["criterion"],
                "points": data["points"],
                "reason": data["reason"],
            },
        )

    def _rating_event(self, year: str, event: RecordedEvent) -> None:
        if event.type == RETRACTED:
            self.raw.execute(
                "DELETE FROM proj_ratings WHERE event_id = :e", {"e": event.data["event_id"]}
            )
            return
        self.raw.execute(
            "INSERT INTO proj_ratings (year, revision, event_id, data) "
            "VALUES (:year, :revision, :event_id, :data)",
            {
                "year": int(year),
                "revision": event.data["revision"],
                "event_id": event.event_id,
                "data": _data_text(event),
            },
        )

    def _pass_event(self, event: RecordedEvent) -> None:
        if event.type == RETRACTED:
            # Forget the ladder's last pass: the next one scans every task again.
            self.raw.execute(
                "DELETE FROM proj_escalation_passes WHERE event_id = :e",
                {"e": event.data["event_id"]},
            )
            return
        if event.type != PASS_COMPLETED:
            return
        data = event.data
        ladder = data["ladder"]
        current = self.raw.one(
            "SELECT as_of FROM proj_escalation_passes WHERE ladder = :ladder", {"ladder": ladder}
        )
        values = {
            "ladder": ladder,
            "as_of": data["as_of"],
            "through_position": data["through_position"],
            "event_id": event.event_id,
        }
        if current is None:
            self.raw.execute(
                "INSERT INTO proj_escalation_passes (ladder, as_of, through_position, event_id) "
                "VALUES (:ladder, :as_of, :through_position, :event_id)",
                values,
            )
        elif self.dialect.to_day(current[0]) <= date.fromisoformat(data["as_of"]):
            self.raw.execute(
                "UPDATE proj_escalation_passes SET as_of = :as_of, "
                "through_position = :through_position, event_id = :event_id "
                "WHERE ladder = :ladder",
                values,
            )

    # -- writing out ------------------------------------------------------------------

    def end_batch(self) -> None:
        """Between the batches of a long feed: nothing to do (a part of a rebuild
        holds its tasks until its flush)."""

    def flush(self) -> None:
        rows, self._dirty_tasks = self._dirty_tasks, {}
        self._write_tasks([row for row in rows.values() if row.dirty])
        self._write_agencies()
        self._write_counter()
        if isinstance(self.raw, _InsertsHeldBack):
            self.raw.write_held_back()

    def _as_written(self, values: dict[str, Any]) -> dict[str, Any]:
        """Stored values in the form `_task_values` gives them (PostgreSQL parses them)."""
        for column in _DATE_COLUMNS:
            value = values[column]
            if value is not None and not isinstance(value, str):
                values[column] = value.isoformat()
        for column in ("leads", "lead_periods"):
            value = values[column]
            if value is not None and not isinstance(value, str):
                values[column] = canonical_json(value)
        return values

    def _write_tasks(self, rows: list[TaskRow]) -> None:
        inserts, deletes = [], []
        updates: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        lead_rows, lead_resets = [], []
        for row in rows:
            task = row.task
            row.dirty = False
            if task is None:
                if row.stored:
                    deletes.append({"task_id": row.task_id})
                row.written, row.stored_leads = None, None
                continue
            values = self._task_values(row, task)
            leads = row.leads_ever
            if row.stored:
                changed = {k: v for k, v in values.items() if row.written.get(k, _UNSET) != v}
                changed["task_id"] = row.task_id
                updates.setdefault(tuple(changed), []).append(changed)
                if leads != row.stored_leads:
                    lead_resets.append({"task_id": row.task_id})
                    lead_rows.extend({"task_id": row.task_id, "agency": a} for a in leads)
            else:
                inserts.append(values)
                lead_rows.extend({"task_id": row.task_id, "agency": a} for a in leads)
            row.written, row.stored_leads = values, leads
        raw = self.raw
        if deletes:
            raw.executemany("DELETE FROM proj_tasks WHERE task_id = :task_id", deletes)
            raw.executemany("DELETE FROM proj_task_leads WHERE task_id = :task_id", deletes)
        if lead_resets:
            raw.executemany("DELETE FROM proj_task_leads WHERE task_id = :task_id", lead_resets)
        for columns, group in updates.items():
            assignments = ", ".join(f"{c} = :{c}" for c in columns if c != "task_id")
            raw.executemany(f"UPDATE proj_tasks SET {assignments} WHERE task_id = :task_id", group)
        raw.insert_rows("proj_tasks", _TASK_COLUMNS, inserts, texts=("facts",))
        raw.insert_rows("proj_task_leads", ("task_id", "agency"), lead_rows)

    def _task_values(self, row: TaskRow, task: Task) -> dict[str, Any]:
        day = self.dialect.day
        closed = [d for d in (task.completed_on, task.cancelled_on) if d is not None]
        return {
            "task_id": row.task_id,
            "version": row.version,
            "directive": task.directive,
            "assigned_on": day(task.assigned_on),
            "leads": self._leads_json(task.leads),
            "original_deadline": day(task.original_deadline),
            "effective_deadline": day(task.effective_deadline),
            "current_deadline": day(task.current_deadline),
            "completed_on": day(task.completed_on),
            "cancelled_on": day(task.cancelled_on),
            "closed_on": day(min(closed)) if closed else None,
            "last_fact_on": day(row.last_fact_on),
            "escalation_level": task.escalation_level,
            "last_position": row.last_position,
            "lead_periods": lead_periods_json(task.lead_periods),
            "facts": self._facts_json(row),
        }

    def _leads_json(self, leads: list[str]) -> str:
        """The column `leads`, encoded once for each set of leads: a city has a few
        hundred, and a rebuild writes a row for each of its tasks."""
        key = tuple(leads)
        text = self._leads_texts.get(key)
        if text is None:
            text = self._leads_texts[key] = canonical_json(leads)
        return text

    @staticmethod
    def _facts_json(row: TaskRow) -> str:
        if row.facts_json is None:
            row.facts_json = facts_text(row.facts)
        return row.facts_json

    def _write_agencies(self) -> None:
        rows, self._dirty_agencies = self._dirty_agencies, {}
        for row in rows.values():
            if not row.dirty:
                continue
            row.dirty = False
            params = {"code": row.code, "facts": canonical_json(row.facts)}
            if not row.facts:
                if row.stored:
                    self.raw.execute("DELETE FROM proj_agencies WHERE code = :code", params)
                row.stored = False
            elif row.stored:
                self.raw.execute(
                    "UPDATE proj_agencies SET facts = :facts WHERE code = :code", params
                )
            else:
                self.raw.execute(
                    "INSERT INTO proj_agencies (code, facts) VALUES (:code, :facts)", params
                )
                row.stored = True

    def _write_counter(self) -> None:
        if not self._counter_dirty:
            return
        params = {"name": TASK_COUNTER, "value": self._counter}
        if self.part_of_rebuild:
            self.raw.execute(_COUNTER_RAISED, params)
        elif self._counter_stored:
            self.raw.execute("UPDATE proj_counters SET value = :value WHERE name = :name", params)
        else:
            self.raw.execute(
                "INSERT INTO proj_counters (name, value) VALUES (:name, :value)", params
            )
            self._counter_stored = True
        self._counter_dirty = False


# The parts of a rebuild write the counter in any order: the highest stays.
_COUNTER_RAISED = (
    "INSERT INTO proj_counters (name, value) VALUES (:name, :value) "
    "ON CONFLICT (name) DO UPDATE SET value = CASE WHEN excluded.value > proj_counters.value "
    "THEN excluded.value ELSE proj_counters.value END"
)


class _InsertsHeldBack:
    """A Raw that holds back the INSERTs of the write-through tables and writes them
    in one go — when asked, or before any other statement, so that every statement
    sees the rows inserted before it."""

    TABLES = ("proj_directives", "proj_documents", "proj_assessments", "proj_ratings")

    def __init__(self, raw: Raw) -> None:
        self._raw = raw
        self.dialect = raw.dialect
        self.in_list = raw.in_list
        self._held: dict[str, list[dict[str, Any]]] = {}

    def write_held_back(self) -> None:
        held, self._held = self._held, {}
        for sql, rows in held.items():
            self._raw.executemany(sql, rows)

    def execute(self, text: str, params=None):
        if text.startswith("INSERT INTO ") and text.split(" ", 3)[2] in self.TABLES:
            self._held.setdefault(text, []).append(params)
            return None
        self.write_held_back()
        return self._raw.execute(text, params)

    def executemany(self, text: str, rows) -> None:
        self.write_held_back()
        self._raw.executemany(text, rows)

    def insert_rows(self, table: str, columns, rows, texts=()) -> None:
        self.write_held_back()
        self._raw.insert_rows(table, columns, rows, texts)

    def one(self, text: str, params=None):
        self.write_held_back()
        return self._raw.one(text, params)

    def all(self, text: str, params=None) -> list:
        self.write_held_back()
        return self._raw.all(text, params)
