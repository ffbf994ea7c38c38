"""The synthetic city of benchmarks/workload.py: deterministic, and valid through the ledger.

No timing here: the benchmark measures, this only checks that what it measures
is a real ledger. A small city (15 agencies, 100 tasks a year) on SQLite.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import sys
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # `benchmarks` is not an installed package
    sys.path.insert(0, str(REPO))

from application import escalation, loading, queries, rating, reporting  # noqa: E402
from application import tables as t  # noqa: E402
from benchmarks.workload import City, CityConfig, Runner  # noqa: E402
from events.projections import rebuild  # noqa: E402
from events.schema import events as event_rows  # noqa: E402
from events.verify import verify_chain  # noqa: E402
from workflow import reports, scoring  # noqa: E402
from workflow.errors import DomainError  # noqa: E402
from workflow.reports import Period  # noqa: E402
from workflow.tasks import derive_task  # noqa: E402

SMALL = CityConfig(seed=11, tasks_per_year=100, agencies=15, documents_per_year=20)
END_2020 = date(2020, 12, 31)


def plan(config: CityConfig, years: int) -> list[tuple]:
    return [c.key() for c in City(config).commands_for_years(years)]


def test_same_seed_same_plan_different_seed_different_plan():
    first = plan(SMALL, 2)
    assert first == plan(SMALL, 2)
    # Planning year by year gives the same commands as planning both years at once.
    city = City(SMALL)
    split = [c.key() for c in city.commands_until(END_2020)]
    split += [c.key() for c in city.commands_until(date(2021, 12, 31))]
    assert split == first
    other = plan(CityConfig(seed=12, tasks_per_year=100, agencies=15, documents_per_year=20), 2)
    assert other != first


def test_plan_has_the_mix_of_the_brief():
    commands = list(City(SMALL).commands_for_years(1))
    kinds = Counter(c.kind for c in commands)
    assert kinds["register_agency"] == 15
    assert kinds["assign_task"] == 100
    for kind in (
        "appoint_head",
        "appoint_deputy",
        "register_directive",
        "report_progress",
        "approve_extension",
        "complete",
        "cancel",
        "issue_document",
        "record_assessment",
        "escalate",
    ):
        assert kinds[kind] > 0, kind
    forms = Counter(c.args[3].kind for c in commands if c.kind == "assign_task")
    assert set(forms) == {"date", "period", "working_days", "none"}
    documents = [c for c in commands if c.kind == "issue_document"]
    assert {c.args[0] for c in documents} >= {"nhac_nho", "phe_binh", "bieu_duong"}
    # Recording order: days never go back.
    days = [c.day for c in commands]
    assert days == sorted(days)


@pytest.fixture
def city_url(tmp_path, sqlite_template):
    def make(name: str) -> str:
        path = tmp_path / f"{name}.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"

    return make


def load(url: str) -> Runner:
    runner = Runner(url)
    runner.run(City(SMALL).commands_until(END_2020))  # any DomainError fails the test
    return runner


def log_rows(engine) -> list[tuple]:
    """The log without its random parts (event ids and hashes)."""
    with engine.connect() as connection:
        rows = connection.execute(sa.select(event_rows).order_by(event_rows.c.position)).all()
    position_of = {r.event_id: r.position for r in rows}
    result = []
    for r in rows:
        payload = dict(r.payload)
        if r.event_type == "event.retracted":
            payload["event_id"] = position_of[payload["event_id"]]
        result.append(
            (r.stream_id, r.stream_version, r.event_type, r.occurred_at, r.recorded_at, payload)
        )
    return result


def projection_rows(engine) -> dict[str, list]:
    with engine.connect() as connection:
        return {
            table.name: sorted(map(tuple, connection.execute(sa.select(table)).all()), key=repr)
            for table in t.PROJECTION_TABLES
        }


def test_a_year_of_the_city_is_a_valid_ledger(city_url):
    runner = load(city_url("a"))
    engine = runner.app.engine
    try:
        assert verify_chain(engine).ok
        with engine.connect() as connection:
            statuses = Counter(
                task.status(END_2020) for task in loading.iter_tasks(connection, as_of=END_2020)
            )
            assert sum(statuses.values()) == 100
            assert {"in_progress", "overdue", "done_on_time", "done_late", "ongoing"} <= set(
                statuses
            ), statuses
            types = dict(
                connection.execute(
                    sa.select(event_rows.c.event_type, sa.func.count()).group_by(
                        event_rows.c.event_type
                    )
                ).all()
            )
            documents = [data for (data,) in connection.execute(sa.select(t.documents.c.data))]
            heads = queries.list_agencies(connection, END_2020)
        assert types["task.escalated"] > 0
        assert types["task.completed"] > 0
        assert types["document.issued"] == 20
        criticised_heads = [
            target
            for document in documents
            if document["kind"] == "phe_binh" and document["field"]
            for target in document["targets"]
            if target["kind"] == "head"
        ]
        assert criticised_heads, "a phê bình to a head with a field"
        # In 2020 it reaches no deputy: the cascade came with TB 129/TB-UBND (05/04/2023).
        assert not any(t["cascaded"] for document in documents for t in document["targets"])
        assert any(document["tasks"] for document in documents)
        assert any(len(agency["heads"]) > 1 for agency in heads), "some head changed"
        # The projection the commands built is the one the log rebuilds.
        built = projection_rows(engine)
        rebuild(runner.app.store, runner.ledger.projection)
        assert projection_rows(engine) == built
    finally:
        runner.close()


def test_the_same_plan_writes_the_same_log(city_url):
    first, second = load(city_url("a")), load(city_url("b"))
    try:
        assert log_rows(first.app.engine) == log_rows(second.app.engine)
    finally:
        first.close()
        second.close()


def test_the_batch_api_writes_the_same_log(city_url):
    """Commands in batches (escalation passes among them) give the log one by one does."""
    single = load(city_url("a"))
    batched = Runner(city_url("b"))
    try:
        stats = batched.run(City(SMALL).commands_until(END_2020), batch_size=37)
        assert stats.batches > 10
        assert log_rows(batched.app.engine) == log_rows(single.app.engine)
        assert verify_chain(batched.app.engine).ok
    finally:
        single.close()
        batched.close()


def test_a_failed_command_leaves_its_batch_unwritten(city_url):
    runner = Runner(city_url("a"))
    try:
        commands = list(City(SMALL).commands_until(date(2020, 3, 31)))
        runner.run(commands[:40])
        before = runner.app.store.head_position()
        with pytest.raises(DomainError), runner.ledger.batch():
            runner.execute(commands[40])
            runner.ledger.complete("NV-99999", date(2020, 2, 1), None)  # no such task
        with pytest.raises(DomainError), runner.ledger.batch():
            runner.execute(commands[41])
            with contextlib.suppress(DomainError):  # swallowed: the batch must not commit
                runner.ledger.cancel("NV-99999", date(2020, 2, 1), "Nhầm")
            runner.execute(commands[42])
        assert runner.app.store.head_position() == before
    finally:
        runner.close()


def _state(task) -> tuple:
    return (task.id, list(task.leads), task.assigned_on, task.original_deadline,
            task.effective_deadline, task.current_deadline, task.completed_on, task.cancelled_on)  # fmt: skip


def test_task_states_read_from_columns_are_the_derived_ones(city_url):
    """At any cut-off the state columns (or the facts, for a task with later facts)
    give exactly the derivation from facts; the period filters keep every task the
    reports and ratings count."""
    runner = load(city_url("a"))
    try:
        with runner.app.engine.connect() as connection:
            every = dict(connection.execute(sa.select(t.tasks.c.task_id, t.tasks.c.facts)).all())
            for cutoff in [date(2020, m, 28) for m in range(1, 13)] + [END_2020]:
                derived = [derive_task(facts, cutoff) for facts in every.values()]
                derived = sorted(
                    (d for d in derived if d is not None), key=lambda d: (d.assigned_on, d.id)
                )
                states = list(loading.task_states(connection, cutoff))
                assert [_state(s) for s in states] == [_state(d) for d in derived], cutoff

                start = cutoff.replace(day=1)
                period = Period(start, cutoff, "tháng")
                report = reporting.task_report(connection, period)
                for row in report["agencies"]:
                    assert row.pop("name"), row  # each agency by its name too
                assert report == reports.task_report(derived, period), cutoff
                book = rating.choose_rulebook(cutoff)
                year_rating = rating.rate(connection, 2020, cutoff, book)
                everything = scoring.rate_heads(
                    rating.scored(derived),
                    rating._documents(connection, cutoff),
                    rating._assessments(connection),
                    rating._tenures(connection, book),
                    2020,
                    cutoff,
                    book,
                )
                assert [{k: v for k, v in r.items() if k != "name"} for r in year_rating] == [
                    r.to_dict() for r in everything
                ], cutoff
    finally:
        runner.close()


def test_a_period_reads_its_tasks_through_indexes_not_every_task(city_url):
    """The tasks a rating or a report of a period reads are found through the
    `closed_on` and `current_deadline` indexes: a term no index answers would make
    SQLite read every task of every year, which grows with the whole history."""
    runner = load(city_url("a"))
    try:
        with runner.app.engine.connect() as connection:
            driver = connection.connection.dbapi_connection
            statements: list[str] = []
            driver.set_trace_callback(statements.append)
            rating.rate(connection, 2020, END_2020, rating.choose_rulebook(END_2020))
            reporting.task_report(connection, Period(date(2020, 12, 1), END_2020, "tháng"))
            driver.set_trace_callback(None)
            reads = [s for s in statements if "FROM proj_tasks WHERE assigned_on" in s]
            assert len(reads) == 2, statements
            for read in reads:
                plan = [row[-1] for row in driver.execute(f"EXPLAIN QUERY PLAN {read}")]
                assert "MULTI-INDEX OR" in plan, plan
                assert not any(step.startswith("SCAN proj_tasks") for step in plan), plan
    finally:
        runner.close()


def test_daily_passes_read_only_the_tasks_a_step_can_fall_due_for(city_url):
    """A December of quiet days after the city's November, one real pass a day: each
    finds what a scan of every task finds, and reads no task but those a step of the
    current deadline can fall due for since the day before — not the tasks escalated
    the day before (nothing else was written meanwhile), not every open overdue task."""
    end_of_november = date(2020, 11, 30)
    runner = Runner(city_url("a"))
    # Four times the small city, so that steps fall due on most days.
    busier = CityConfig(seed=11, tasks_per_year=400, agencies=15, documents_per_year=20)
    runner.run(City(busier).commands_until(end_of_november))  # its last pass included
    try:
        calendar = runner.ledger.calendar()
        ladder = escalation.ladder_from_rulebook(rating.choose_rulebook(END_2020))
        days_overdue = [s.days_overdue for s in ladder.steps]
        day, read_in_all, raised = end_of_november, 0, 0
        for _ in range(31):
            day += timedelta(days=1)
            with runner.app.engine.connect() as connection:
                since = escalation.last_pass(connection, ladder)
                assert since is not None and since.as_of == day - timedelta(days=1)
                # The last pass's own steps were all that was written after its scan.
                assert since.through_position == runner.app.store.head_position(connection) - 1
                limited = list(escalation.scan(connection, day, calendar, ladder, since))
                assert limited == list(escalation.scan(connection, day, calendar, ladder, None))
                read = [
                    i for i, _ in escalation.candidates(connection, day, calendar, ladder, since)
                ]
                deadlines = dict(
                    connection.execute(
                        sa.select(t.tasks.c.task_id, t.tasks.c.current_deadline).where(
                            t.tasks.c.closed_on.is_(None)
                        )
                    ).all()
                )
            horizon = calendar.add_working_days(day, ladder.reminder_working_days + 1)
            for task_id in read:
                deadline = deadlines[task_id]  # open: a closed task has nothing new
                assert day - timedelta(days=1) < deadline <= horizon or any(
                    deadline == day - timedelta(days=d) for d in days_overdue
                ), (day, task_id, deadline)
            read_in_all += len(read)
            runner.clock.set_day(day)
            result = escalation.run_escalation_pass(runner.ledger, as_of=day)
            assert len(result.outcomes) == sum(len(steps) for _, steps in limited)
            raised += len(result.outcomes)
        assert raised > 0 and read_in_all > 0  # steps fell due: the check was not empty
    finally:
        runner.close()


def test_the_passes_recorded_leave_nothing_a_full_scan_would_find(city_url):
    """Monthly passes, each reading only what the last one did not settle, raised
    every step a pass reading every task finds; and both scans agree on any day."""
    runner = load(city_url("a"))
    try:
        calendar = runner.ledger.calendar()
        with runner.app.engine.connect() as connection:
            for as_of in (END_2020, date(2021, 1, 4), date(2021, 1, 20), date(2021, 2, 28)):
                ladder = escalation.ladder_from_rulebook(rating.choose_rulebook(as_of))
                since = escalation.last_pass(connection, ladder)
                assert since is not None and since.as_of == END_2020
                limited = list(escalation.scan(connection, as_of, calendar, ladder, since))
                full = list(escalation.scan(connection, as_of, calendar, ladder, None))
                assert limited == full, as_of
                if as_of == END_2020:
                    assert full == []  # the 31/12 pass raised everything due by then
                read = sum(
                    1 for _ in escalation.candidates(connection, as_of, calendar, ladder, since)
                )
                assert read < len(list(escalation.candidates(connection, as_of, calendar, ladder)))
    finally:
        runner.close()


def test_log_io_benchmark_round_trips_a_small_city(capsys):
    """The benchmark stops if the log does not verify or comes back different."""
    from benchmarks import log_io_bench

    log_io_bench.main(["--tasks", "100", "--repeats", "1", "--backend", "sqlite"])
    out = capsys.readouterr().out
    assert out.startswith("A city year: ")
    assert re.search(r"^sqlite +[\d.]+ +[\d.]+ +[\d.]+ +[\d,]+$", out, re.M), out


def test_the_html_benchmark_s_ledger_is_one_the_commands_accept(tmp_path):
    """Its generator completed a task on a day before the extension it had recorded,
    which the ledger refuses: `make bench-quick` stopped at its first benchmark."""
    from benchmarks.html_bench import build_city_year
    from events.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'html.db'}"
    upgrade(url)
    counts = build_city_year(url, n_agencies=10, n_tasks=300)
    assert counts["tasks"] == 300 and counts["completed"] > 0


def test_the_import_benchmark_imports_a_small_city_s_workbook(capsys):
    """Every row valid (the benchmark stops otherwise), dry run and import timed."""
    from benchmarks import import_bench

    import_bench.main(["--tasks", "100", "--rows", "40", "--repeats", "1", "--backend", "sqlite"])
    out = capsys.readouterr().out
    assert re.search(r"^sqlite +40 +[\d.]+ +[\d.]+ +[\d,]+$", out, re.M), out
