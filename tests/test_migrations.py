"""The Alembic migrations build exactly the schema the code declares."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from nhiemvu_cli import REPO, Nhiemvu
from readme_grants import readme_grants

import migrations
from application.scheduler import JOB_TABLE
from application.tables import metadata
from events import EventRegistry, EventStore, NewEvent, SchemaOutOfDate
from events.database import current_revision, make_engine, require_schema
from events.migrate import alembic_config, upgrade
from events.serialization import GENESIS_HASH
from events.verify import verify_chain

STORE_TABLES = {"events", "event_log_head", "projection_checkpoints"}
TRIGGERS = {
    "sqlite": {
        "events_no_update",
        "events_no_delete",
        "events_no_replace",
        "events_contiguous_versions",
    },
    "postgresql": {"events_no_update", "events_no_truncate", "events_contiguous_versions"},
}


@pytest.fixture
def empty_engine(empty_db_url):
    engine = make_engine(empty_db_url)
    yield engine
    engine.dispose()


def tables(engine) -> set[str]:
    with engine.connect() as conn:
        return set(sa.inspect(conn).get_table_names())


def triggers(engine) -> set[str]:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            query = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'"
        else:
            query = (
                "SELECT tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE c.relname = 'events' AND NOT t.tgisinternal"
            )
        return set(conn.exec_driver_sql(query).scalars())


def schema_diff(engine) -> list:
    with engine.connect() as conn:
        opts = {"compare_type": True, "include_object": migrations.include_object}
        context = MigrationContext.configure(conn, opts=opts)
        return compare_metadata(context, metadata)


def test_single_head_is_the_expected_revision():
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert script.get_heads() == [migrations.HEAD]
    # Every revision chains back to the first one, without branches.
    revisions = list(script.walk_revisions())
    assert revisions[-1].down_revision is None
    assert all(not r.is_merge_point and not r.is_branch_point for r in revisions)


def test_upgrade_creates_tables_and_triggers(empty_db_url, empty_engine, backend):
    assert tables(empty_engine) == set()
    upgrade(empty_db_url)

    assert tables(empty_engine) == set(metadata.tables) | {"alembic_version"}
    assert set(metadata.tables) >= STORE_TABLES
    assert triggers(empty_engine) == TRIGGERS[backend]
    assert current_revision(empty_engine) == migrations.HEAD
    with empty_engine.connect() as conn:
        head = conn.exec_driver_sql(
            "SELECT id, last_position, last_hash, last_recorded_at FROM event_log_head"
        ).all()
    assert [tuple(r) for r in head] == [(1, 0, GENESIS_HASH, None)]
    # The triggers work: the freshly built table is append-only already.
    store = EventStore(empty_engine, _registry())
    store.append("s", [NewEvent("m.noted", {"n": 1}, datetime(2026, 1, 1, tzinfo=UTC))])
    with pytest.raises(sa.exc.DBAPIError), empty_engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM events")
    assert store.count() == 1


def test_autogenerate_finds_no_difference_after_upgrade(empty_db_url, empty_engine):
    # Sanity check that the comparison can fail: an empty database differs.
    assert schema_diff(empty_engine)
    upgrade(empty_db_url)
    assert schema_diff(empty_engine) == []


def test_init_creates_the_scheduler_s_job_table_which_alembic_leaves_alone(
    empty_db_url, empty_engine
):
    assert Nhiemvu(empty_db_url).ok("init").exit_code == 0
    assert JOB_TABLE in tables(empty_engine)
    assert schema_diff(empty_engine) == []
    Nhiemvu(empty_db_url).ok("init")  # there already: nothing to do


def test_a_role_that_does_not_own_the_database_is_told_what_it_needs(postgres_server):
    """PostgreSQL 15: only the database's owner may create tables in its schema public.
    The owner runs `init`; a role with rights on the rows runs the rest, the daemon too."""
    from apscheduler.schedulers.background import BackgroundScheduler

    from application.scheduler import _PatientJobStore

    url = postgres_server.new_database(migrated=False)
    role = postgres_server.new_name("r")  # a killed run's is dropped by the next
    as_role = sa.engine.make_url(url).set(username=role).render_as_string(hide_password=False)
    postgres_server.execute(f'CREATE ROLE "{role}" LOGIN')
    owner = make_engine(url)
    try:
        refused = Nhiemvu(as_role).run("init")
        assert refused.exit_code == 1 and isinstance(refused.exception, SystemExit)
        assert refused.stderr.startswith("Lỗi: Người dùng PostgreSQL trong --db không có quyền")
        assert "(permission denied for schema public)" in refused.stderr
        assert "`nhiemvu init` cần người dùng được tạo bảng (chủ sở hữu" in refused.stderr
        assert "SELECT, INSERT, UPDATE, DELETE" in refused.stderr

        Nhiemvu(url).ok("init")
        with owner.begin() as connection:
            database = sa.engine.make_url(url).database
            connection.exec_driver_sql(readme_grants(database, role))
        Nhiemvu(as_role).ok("agency", "add", "SXD", "--name", "Sở Xây dựng", "--kind", "so")
        engine = make_engine(as_role)
        scheduler = BackgroundScheduler(jobstores={"default": _PatientJobStore.create(engine)})
        try:
            scheduler.add_job("builtins:print", "interval", hours=1, id="viec")
            scheduler.start()  # the job store's CREATE TABLE, which finds its table there
            scheduler.shutdown()
        finally:
            engine.dispose()
        with owner.connect() as connection:
            ids = connection.exec_driver_sql(f"SELECT id FROM {JOB_TABLE}").scalars()
            assert list(ids) == ["viec"]
    finally:
        with owner.begin() as connection:
            connection.exec_driver_sql(f'DROP OWNED BY "{role}"')
        owner.dispose()
        postgres_server.execute(f'DROP ROLE "{role}"')


def test_downgrade_to_base_and_upgrade_again(empty_db_url, empty_engine, backend):
    config = alembic_config(empty_db_url)
    upgrade(empty_db_url)
    store = EventStore(empty_engine, _registry())
    store.append("s", [NewEvent("m.noted", {"n": 1}, datetime(2026, 1, 1, tzinfo=UTC))])

    command.downgrade(config, "base")
    assert tables(empty_engine) <= {"alembic_version"}
    assert current_revision(empty_engine) is None
    if backend == "postgresql":
        with empty_engine.connect() as conn:
            leftover = conn.exec_driver_sql(
                "SELECT count(*) FROM pg_proc WHERE proname = 'events_refuse_change'"
            ).scalar_one()
        assert leftover == 0

    upgrade(empty_db_url)
    assert tables(empty_engine) == set(metadata.tables) | {"alembic_version"}
    assert triggers(empty_engine) == TRIGGERS[backend]
    assert schema_diff(empty_engine) == []
    # A clean slate: positions start again at 1.
    result = store.append("s", [NewEvent("m.noted", {"n": 2}, datetime(2026, 1, 1, tzinfo=UTC))])
    assert result.last_position == 1 and result.stream_version == 1
    assert verify_chain(empty_engine).ok


def test_require_schema(empty_db_url, empty_engine):
    with pytest.raises(SchemaOutOfDate) as caught:
        require_schema(empty_engine, migrations.HEAD)
    assert caught.value.current is None and caught.value.expected == migrations.HEAD

    first = ScriptDirectory.from_config(alembic_config(empty_db_url)).get_base()
    if first != migrations.HEAD:
        upgrade(empty_db_url, first)
        with pytest.raises(SchemaOutOfDate) as caught:
            require_schema(empty_engine, migrations.HEAD)
        assert caught.value.current == first

    upgrade(empty_db_url)
    require_schema(empty_engine, migrations.HEAD)


def test_a_schema_newer_than_the_program_or_of_no_version_is_left_alone(empty_db_url):
    """Neither `init` nor a command tracebacks, nor calls a newer schema old."""
    upgrade(empty_db_url)
    nv = Nhiemvu(empty_db_url)
    engine = make_engine(empty_db_url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0099'")
        for args in (["init"], ["task", "list"]):
            refused = nv.fails(*args)
            assert "phiên bản lược đồ 0099, mới hơn phiên bản" in refused.stderr, args
            assert "cũ" not in refused.stderr
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE alembic_version")
        refused = nv.fails("init")
        assert "không có bảng phiên bản lược đồ (alembic_version)" in refused.stderr
        with engine.connect() as connection:  # init left it as it was
            assert sa.inspect(connection).has_table("events")
            assert not sa.inspect(connection).has_table("alembic_version")
    finally:
        engine.dispose()


def _registry() -> EventRegistry:
    registry = EventRegistry()
    registry.register("m.noted")
    return registry


def test_0004_keeps_the_log_and_the_first_use_rebuilds_the_lead_periods(empty_db_url):
    """Down to 0003 and up again with a ledger in it: the log is untouched, the ledger
    projection is emptied, and opening the ledger rebuilds it with `lead_periods`."""
    from datetime import date

    from application.app import App
    from application.ledger import DeadlineInput

    upgrade(empty_db_url)
    app = App(empty_db_url, "tester")
    try:
        ledger = app.ledger
        for code in ("SXD", "STC"):
            ledger.register_agency(code, code, "so")
        ledger.register_directive("1/TB", date(2023, 3, 1), "Kết luận", None, None)
        deadline = DeadlineInput("date", date(2023, 3, 31))
        task_id = ledger.assign_task("1/TB", "Việc", ["SXD"], deadline).key
        ledger.reassign(task_id, ["STC"], date(2023, 4, 10), "Chức năng")
        events = app.store.count()
    finally:
        app.close()

    config = alembic_config(empty_db_url)
    command.downgrade(config, "0003")
    command.upgrade(config, "head")
    engine = make_engine(empty_db_url)
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT count(*) FROM proj_tasks").scalar() == 0
        assert verify_chain(engine).ok and verify_chain(engine).checked == events
    finally:
        engine.dispose()

    app = App(empty_db_url, "tester")  # the first use rebuilds the emptied projection
    try:
        with app.engine.connect() as connection:
            stored = connection.exec_driver_sql(
                "SELECT CAST(lead_periods AS text) FROM proj_tasks"
            ).scalar()
        assert stored == '[["2023-03-01",["SXD"]],["2023-04-10",["STC"]]]'
    finally:
        app.close()


@pytest.mark.parametrize("engine_name", ["postgresql", "sqlite"])
def test_inits_started_at_once_on_a_new_database_all_succeed(request, tmp_path, engine_name):
    """Each created the same tables: on PostgreSQL all but one failed on pg_type's
    unique index; on SQLite one could find the file locked as it turned to writing.
    They now take turns, and the later ones find nothing to do."""
    if engine_name == "postgresql":
        url = request.getfixturevalue("postgres_server").new_database(migrated=False)
    else:
        url = f"sqlite:///{tmp_path / 'moi.db'}"
    go = tmp_path / "go"
    # Imported, then waiting for the same instant: the migrations themselves overlap.
    code = (
        "import pathlib, time, cli, events.migrate\n"
        f"while not pathlib.Path({str(go)!r}).exists(): time.sleep(0.005)\n"
        "cli.main()"
    )
    command = [sys.executable, "-c", code, "--db", url, "init"]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    runs = [
        subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    time.sleep(2)  # their imports
    go.touch()
    for run in runs:
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0, err.decode()
        assert out.decode().startswith("Đã khởi tạo/nâng cấp cơ sở dữ liệu:")
    engine = make_engine(url)
    try:
        assert current_revision(engine) == migrations.HEAD
        assert schema_diff(engine) == []
        assert JOB_TABLE in tables(engine)
    finally:
        engine.dispose()


def test_a_new_sqlite_database_is_migrated_in_one_transaction(tmp_path, monkeypatch):
    """Alembic commits after each migration on SQLite (it takes SQLite's DDL for not
    transactional): another init waiting for the write lock could get in between two
    steps, read the version the first had reached, and run the next steps a second
    time ("no such index: ix_events_occurred_at", seen once in a run of the suite).
    One transaction from the version read to the last step: the others find the head."""
    import events.database as database

    statements: list[str] = []
    configure = database.configure_sqlite

    def traced(dbapi_connection) -> None:
        configure(dbapi_connection)
        dbapi_connection.set_trace_callback(statements.append)

    monkeypatch.setattr(database, "configure_sqlite", traced)
    command.upgrade(alembic_config(f"sqlite:///{tmp_path / 'moi.db'}"), "head")
    steps = list(ScriptDirectory.from_config(alembic_config("sqlite://")).walk_revisions())
    assert len(steps) > 1 and any("CREATE TABLE events" in s for s in statements)
    opened = [s for s in statements if s.startswith("BEGIN")]
    assert opened == ["BEGIN IMMEDIATE"]  # the write lock, once, before the version read
    assert [s for s in statements if s == "COMMIT"] == ["COMMIT"]
