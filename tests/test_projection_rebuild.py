"""Property: the ledger projection built command by command equals one rebuilt from the log.

Hypothesis drives `application.ledger.Ledger` directly (the CLI would only add
process-like overhead) with random, mostly valid commands dated in 2023 while
"today" is fixed at 30/06/2024. Commands the domain refuses raise `DomainError`
and are skipped — that is part of the property: a refused command must leave no
trace. Anything else that escapes is a failure.

After each sequence the test checks, on SQLite and PostgreSQL:

1. the incremental projection agrees with the log itself (an independent
   derivation from each task stream), and
2. `events.projections.rebuild` — with a batch size drawn so that batch
   boundaries fall anywhere, the tasks folded a few at a time, in this process
   or by two worker processes — gives back the same projection rows (their
   state columns included) and the same query answers at several cut-offs.

Databases: SQLite gets a fresh file per example (a copy of the pristine migrated
`db_url` file), so examples cannot see each other. PostgreSQL uses the one
`db_url` database of the test for all examples: creating a database per example
costs more than the example itself, and the log cannot be emptied between
examples (its triggers refuse DELETE/TRUNCATE, on purpose). Every key an example
creates therefore carries a per-example prefix, the checks that concern "this
example" look only at its own keys, and the rebuild check covers the whole,
growing log — which also exercises rebuilds over history from earlier examples.
"""

from __future__ import annotations

import itertools
import json
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from projection_rows import json_texts, snapshot
from sqlalchemy.engine import make_url

from application import loading, projection, queries
from application import tables as t
from application.app import App
from application.ledger import DeadlineInput
from events.projections import get_checkpoint, rebuild
from events.serialization import canonical_json
from workflow.dates import LOCAL_TZ
from workflow.documents import Addressees
from workflow.errors import DomainError

NOW = datetime(2024, 6, 30, 12, 0, tzinfo=LOCAL_TZ)
YEAR_START = date(2023, 1, 1)
DATES_2023 = st.dates(min_value=YEAR_START, max_value=date(2023, 12, 31))
CUTOFFS = [
    date(2023, 1, 1),
    date(2023, 3, 31),
    date(2023, 6, 30),
    date(2023, 9, 30),
    date(2023, 12, 31),
    NOW.date(),
]
FIELDS = ["xây dựng", "tài chính"]
KINDS = ["nhac_nho", "rut_kinh_nghiem", "phe_binh", "bieu_duong"]
# Weighted by repetition: task commands are what the secretariat logs most; a merge
# closes an agency for the rest of the example, so it stays rare.
OPERATIONS = (
    ["assign"] * 6
    + ["progress"] * 3
    + ["extend"] * 3
    + ["complete"] * 3
    + ["document"] * 3
    + ["correct"] * 3
    + ["reassign"] * 2
    + ["cancel", "refuse", "head", "merge"]
)


def answers(engine, agencies: list[str]) -> dict[str, object]:
    """What people are shown: task lists at several cut-offs (also per agency), agencies,
    directives."""

    def answer(query, *args, **kwargs):
        # An agency whose registration was retracted is "not found": an answer too.
        try:
            return query(connection, *args, **kwargs)
        except DomainError as exc:
            return f"Lỗi: {exc}"

    with engine.connect() as connection:
        result: dict[str, object] = {}
        for cutoff in CUTOFFS:
            result[f"tasks@{cutoff}"] = answer(queries.list_tasks, cutoff)
            # What reports and ratings read: the state columns where they suffice.
            result[f"states@{cutoff}"] = [
                (s.id, s.leads, s.effective_deadline, s.completed_on, s.cancelled_on)
                for s in loading.task_states(connection, cutoff)
            ]
            for code in agencies:
                result[f"tasks@{cutoff}/{code}"] = answer(queries.list_tasks, cutoff, agency=code)
        result["agencies"] = queries.list_agencies(connection, date(2023, 12, 31))
        result["directives"] = queries.list_directives(connection)
    return result


class Example:
    """One generated history: the ledger, the keys it created, what it did."""

    def __init__(self, app: App, prefix: str) -> None:
        self.app = app
        self.ledger = app.ledger
        self.prefix = prefix
        self.agencies = [f"{prefix}A{i}" for i in range(3)]
        self.directives: list[tuple[str, date]] = []
        self.tasks: list[str] = []
        self.documents: list[str] = []
        self.events: list[tuple[str, str]] = []  # (event id, stream kind)
        self.applied: list[str] = []
        self.seen_position = app.store.head_position()

    def run(self, name: str, command) -> None:
        try:
            command()
        except DomainError:
            return  # refused: checked below to have written nothing
        self.applied.append(name)

    def collect(self) -> None:
        """Remember every event written since the last call (merges write several)."""
        for recorded in self.app.store.read_all(from_position=self.seen_position + 1):
            self.events.append((recorded.event_id, recorded.stream_id.split(":", 1)[0]))
            self.seen_position = recorded.position

    def setup(self) -> None:
        ledger = self.ledger
        names = ["Sở Xây dựng", "Sở Tài chính", "Sở Công Thương"]
        for code, name in zip(self.agencies, names, strict=True):
            # The examples share a database, and two open agencies never share a name.
            ledger.register_agency(code, f"{name} {self.prefix}", "so")
        ledger.appoint_head(self.agencies[0], "Nguyễn Văn An", YEAR_START)
        ledger.appoint_deputy(self.agencies[0], "Trần Thị Bình", "xây dựng", YEAR_START)
        ledger.appoint_head(self.agencies[1], "Lê Thị Cúc", YEAR_START)
        for number, issued in (
            (f"{self.prefix}1/TB-UBND", date(2023, 1, 2)),
            (f"{self.prefix}2/CT-UBND", date(2023, 3, 1)),
        ):
            ledger.register_directive(number, issued, "Văn bản chỉ đạo", None, None)
            self.directives.append((number, issued))
        self.collect()


def draw_step(data, ex: Example) -> None:
    """Draw one command with arguments that are valid often enough, and run it."""
    ledger = ex.ledger
    op = data.draw(st.sampled_from(OPERATIONS), label="op")
    day = data.draw(DATES_2023, label="date")

    def task() -> str | None:
        if not ex.tasks:
            return None
        return data.draw(st.sampled_from(ex.tasks), label="task")

    def leads() -> list[str]:
        return data.draw(
            st.lists(st.sampled_from(ex.agencies), min_size=1, max_size=2, unique=True),
            label="leads",
        )

    if op == "assign":
        number, issued = data.draw(st.sampled_from(ex.directives), label="directive")
        on = max(day, issued - timedelta(days=3))  # a few days before the notice is allowed
        form = data.draw(st.sampled_from(["date", "period", "working_days", "none"]), label="form")
        if form == "date":
            # Occasionally before the assignment: a refusal to exercise.
            deadline = DeadlineInput("date", on + timedelta(days=data.draw(st.integers(-3, 200))))
        elif form == "period":
            # From the quarter before the assignment's (refused) to the end of the year.
            first = max(1, (on.month - 1) // 3)
            deadline = DeadlineInput("period", f"2023Q{data.draw(st.integers(first, 4))}")
        elif form == "working_days":
            deadline = DeadlineInput("working_days", data.draw(st.integers(1, 30)))
        else:
            deadline = DeadlineInput("none")
        lead_codes = leads()
        others = [code for code in ex.agencies if code not in lead_codes]
        coordinators = data.draw(st.lists(st.sampled_from(others), max_size=1)) if others else []

        def assign():
            result = ledger.assign_task(
                number,
                "Nhiệm vụ kiểm thử",
                lead_codes,
                deadline,
                coordinators=coordinators,
                assigned_on=on,
            )
            ex.tasks.append(result.key)

        ex.run(op, assign)
    elif op == "document":
        kind = data.draw(st.sampled_from(KINDS), label="kind")
        # Mostly new numbers, sometimes a duplicate (refused).
        number = f"{ex.prefix}D{data.draw(st.integers(0, len(ex.documents) + 3))}"
        addressees = Addressees(
            agencies=tuple(data.draw(st.lists(st.sampled_from(ex.agencies), max_size=2))),
            heads=tuple(data.draw(st.lists(st.sampled_from(ex.agencies), max_size=1))),
            persons=tuple(
                data.draw(st.lists(st.sampled_from(["Phạm Văn D", "Đỗ Thị E"]), max_size=1))
            ),
        )
        field = data.draw(st.none() | st.sampled_from(FIELDS), label="field")
        # Naming tasks is what ties a document into the task projection: mostly do.
        named = (
            data.draw(st.lists(st.sampled_from(ex.tasks), min_size=1, max_size=2))
            if ex.tasks
            else []
        )

        def issue():
            ledger.issue_document(kind, number, day, addressees, field=field, task_ids=named)
            ex.documents.append(number)

        ex.run(op, issue)
    elif op == "correct":
        # Uniform over the log, corrections would rarely hit a document that names a
        # task (the case where a retraction reaches across streams): aim at a kind first.
        kind = data.draw(st.sampled_from(["any", "task", "document"]), label="retract kind")
        pool = [(event_id, k) for event_id, k in ex.events if kind in ("any", k)]
        if pool:
            target, target_kind = data.draw(st.sampled_from(pool), label="retract")
            ex.run(f"correct {target_kind}", lambda: ledger.correct(target, "Ghi nhầm"))
    elif op == "head":
        code = data.draw(st.sampled_from(ex.agencies))
        ex.run(op, lambda: ledger.appoint_head(code, f"Người {day.isoformat()}", day))
    elif op == "merge":
        code, into = data.draw(
            st.lists(st.sampled_from(ex.agencies), min_size=2, max_size=2, unique=True)
        )
        ex.run(op, lambda: ledger.dissolve_agency(code, day, "Sáp nhập", into))
    else:
        task_id = task()
        if task_id is None:
            return
        # Dates relative to the task's own, so that most commands are valid; a few
        # days' slack either side keeps some refusals (before assignment, extension
        # not after the deadline) in the mix.
        with ex.app.engine.connect() as connection:
            try:
                state = loading.load_task(connection, task_id)
            except DomainError:
                state = None  # assignment retracted: any command is refused
        if state is not None:
            day = state.assigned_on + timedelta(days=data.draw(st.integers(-2, 250), label="+d"))
        if op == "progress":
            percent = data.draw(st.integers(-5, 105), label="percent")
            ex.run(op, lambda: ledger.report_progress(task_id, percent, day, None))
        elif op in ("extend", "refuse"):
            base = (state.current_deadline if state else None) or day
            to = base + timedelta(days=data.draw(st.integers(-3, 120), label="extra days"))
            if op == "extend":
                ex.run(op, lambda: ledger.approve_extension(task_id, to, day, "Đề nghị"))
            else:
                ex.run(op, lambda: ledger.refuse_extension(task_id, to, day, "Không đồng ý"))
        elif op == "complete":
            ex.run(op, lambda: ledger.complete(task_id, day, None))
        elif op == "cancel":
            ex.run(op, lambda: ledger.cancel(task_id, day, "Không còn cần"))
        elif op == "reassign":
            new_leads = leads()
            ex.run(op, lambda: ledger.reassign(task_id, new_leads, day, None))


def check_against_the_log(ex: Example, engine) -> None:
    """The projection's facts for this example's tasks, re-derived from the raw log."""
    store = ex.app.store
    with engine.connect() as connection:
        rows = dict(
            connection.execute(
                sa.select(t.tasks.c.task_id, t.tasks.c.facts).where(t.tasks.c.task_id.in_(ex.tasks))
            ).all()
        )
        lead_rows = set(
            connection.execute(
                sa.select(t.task_leads.c.task_id, t.task_leads.c.agency).where(
                    t.task_leads.c.task_id.in_(ex.tasks)
                )
            ).all()
        )
    live_documents: dict[str, list[str]] = {}
    for number in dict.fromkeys(ex.documents):
        facts = queries.facts_from_events(store.read_stream(f"document:{number}"))
        for fact in facts:
            for task_id in fact["data"]["tasks"]:
                live_documents.setdefault(task_id, []).append(fact["id"])

    expected_leads = set()
    for task_id in ex.tasks:
        own = queries.facts_from_events(store.read_stream(f"task:{task_id}"))
        assigned = any(f["type"] == "task.assigned" for f in own)
        assert (task_id in rows) == assigned, task_id
        if not assigned:
            continue  # its assignment was retracted: the task is gone
        facts = rows[task_id]
        assert [f for f in facts if f["type"] != "document.issued"] == own, task_id
        assert sorted(f["id"] for f in facts if f["type"] == "document.issued") == sorted(
            live_documents.get(task_id, [])
        ), task_id
        # Every agency that ever led the task is indexed: "as of" lists need them.
        for fact in own:
            if fact["type"] in ("task.assigned", "task.reassigned"):
                key = "leads" if fact["type"] == "task.assigned" else "to"
                expected_leads |= {(task_id, code) for code in fact["data"][key]}
    assert lead_rows == expected_leads


_examples = itertools.count()


@pytest.fixture
def new_database(db_url, backend, tmp_path):
    """A database URL for one Hypothesis example (see the module docstring)."""
    if backend != "sqlite":
        return lambda: db_url
    pristine = Path(make_url(db_url).database)
    copies = itertools.count()

    def fresh() -> str:
        path = tmp_path / f"example-{next(copies)}.db"
        shutil.copy(pristine, path)
        return f"sqlite:///{path}"

    return fresh


@settings(
    max_examples=25,
    deadline=None,
    # `new_database` is function-scoped on purpose: one PostgreSQL database shared by
    # the examples of a test, with per-example keys.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_rebuild_reproduces_the_incremental_projection(new_database, data):
    url = new_database()
    app = App(url, "tester", now=lambda: NOW)
    try:
        ex = Example(app, prefix=f"E{next(_examples)}-")
        ex.setup()
        steps = data.draw(st.integers(min_value=5, max_value=30), label="steps")
        for _ in range(steps):
            before = app.store.head_position()
            applied = len(ex.applied)
            draw_step(data, ex)
            if len(ex.applied) == applied:
                # A refused command leaves no event behind (the transaction rolled back).
                assert app.store.head_position() == before
            ex.collect()

        # Visible with --hypothesis-show-statistics: are the commands valid often enough?
        event(f"{len(ex.applied) * 4 // steps * 25}%+ of the commands applied")
        for name in sorted(set(ex.applied)):
            event(f"applied: {name}")

        engine = app.engine
        head = app.store.head_position()
        with engine.connect() as connection:
            assert get_checkpoint(connection, app.ledger.projection.name) == head
        check_against_the_log(ex, engine)

        before_rows = snapshot(engine)
        before_texts = json_texts(engine)
        # What commands write is the log's canonical form (compact, unescaped).
        assert {
            text for text in before_texts.values() if text != canonical_json(json.loads(text))
        } == set()
        before_answers = answers(engine, ex.agencies)
        batch_size = data.draw(st.sampled_from([5, 1000]), label="batch size")
        # Small parts make the rebuild fold the tasks in many ranges, with documents
        # naming tasks of several.
        per_part = data.draw(st.sampled_from([1, 2, projection.TASKS_PER_REBUILD_PART]), "part")
        # Folded here, or by worker processes side by side (then in parts of at most
        # TASKS_PER_DETACHED_PART: many when `per_part` is small).
        workers = data.draw(st.sampled_from([2, 1]), "workers")
        names = ("TASKS_PER_REBUILD_PART", "TASKS_WORTH_WORKERS")
        saved = [getattr(projection, name) for name in names]
        for name, value in zip(names, (per_part, 0), strict=True):
            setattr(projection, name, value)
        try:
            rebuilt = rebuild(app.store, app.ledger.projection, batch_size, workers=workers)
            assert rebuilt == head
        finally:
            for name, value in zip(names, saved, strict=True):
                setattr(projection, name, value)

        assert snapshot(engine) == before_rows
        # Byte for byte, not only once decoded: commands and rebuilds write one text.
        assert json_texts(engine) == before_texts
        assert answers(engine, ex.agencies) == before_answers
        with engine.connect() as connection:
            assert get_checkpoint(connection, app.ledger.projection.name) == head
    finally:
        app.close()


def test_a_sqlite_rebuild_reads_unmapped_and_gives_the_map_back(
    sqlite_template, tmp_path, monkeypatch, applies_noted
):
    """A rebuild reads the whole file: through SQLite's memory map every page would stay
    in the process's resident set. It turns the map off for itself, and the connection
    it wrote with must read through the map again afterwards."""
    from events.database import SQLITE_MMAP_BYTES

    path = tmp_path / "nhiemvu.db"
    shutil.copy(sqlite_template, path)
    app = App(f"sqlite:///{path}", "test", now=lambda: NOW)
    try:
        app.ledger.register_agency("SXD", "Sở Xây dựng", "so")
        seen = applies_noted(lambda session, _event: session.raw.one("PRAGMA mmap_size")[0])
        assert rebuild(app.store, app.ledger.projection) == 1
        monkeypatch.undo()
        assert seen == [0]
        with app.store.transaction() as tx:  # the next write, on the writer the rebuild used
            assert tx.raw.one("PRAGMA mmap_size")[0] == SQLITE_MMAP_BYTES
    finally:
        app.close()


def test_a_postgresql_rebuild_vacuums_the_tables_it_rewrote(postgres_server):
    """The rows a rebuild deleted stay until a vacuum (MVCC): the rebuild vacuums and
    analyses every projection table once it has committed, and no other table (not
    the log, which only grows)."""
    app = App(postgres_server.new_database(), "test", now=lambda: NOW)
    try:
        app.ledger.register_agency("SXD", "Sở Xây dựng", "so")
        counts = sa.text("SELECT relname, vacuum_count, analyze_count FROM pg_stat_user_tables")

        def maintenance() -> dict[str, tuple[int, int]]:
            with app.engine.connect() as connection:  # a new snapshot of the statistics
                return {name: (v, a) for name, v, a in connection.execute(counts)}

        before = maintenance()
        assert rebuild(app.store, app.ledger.projection) == 1
        after = maintenance()
        vacuumed = {name for name in after if after[name] != before.get(name, (0, 0))}
        assert vacuumed == {name for name in after if name.startswith("proj_")}
        assert all(after[n] == (before[n][0] + 1, before[n][1] + 1) for n in vacuumed)
    finally:
        app.close()
