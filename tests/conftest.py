"""Shared fixtures: every storage test runs on SQLite and on PostgreSQL.

PostgreSQL is found at $NHIEMVU_TEST_PG (default: the local server, trust auth).
Without a server the PostgreSQL cases skip with the reason; with CI=true they fail.
"""

from __future__ import annotations

import os
import shutil

import pytest
import sqlalchemy as sa
from pg_names import leftovers, new_name

from events.database import make_engine
from events.migrate import upgrade
from events.sql import Raw

PG_ADMIN_URL = os.environ.get(
    "NHIEMVU_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
BACKENDS = ["sqlite", "postgresql"]


def _pg_url(database: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + database


class PostgresServer:
    """Creates throw-away databases, each cloned from a migrated template.

    A database made while a test runs is dropped when the test ends; one made outside
    any test (by a module's or the session's fixture), and the template, when the
    session ends.
    """

    def __init__(self) -> None:
        self.admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        self.session_databases: list[str] = []
        self.test_databases: list[str] | None = None  # a list while a test runs
        self.drop_leftovers()
        self.template = self.new_name("tpl")
        self.execute(f'CREATE DATABASE "{self.template}"')
        self.session_databases.append(self.template)
        upgrade(_pg_url(self.template))
        # Nothing may stay connected to a template that is being cloned.
        self.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{self.template}' AND pid <> pg_backend_pid()"
        )

    def execute(self, sql: str) -> None:
        with self.admin.connect() as connection:
            connection.exec_driver_sql(sql)

    @staticmethod
    def new_name(kind: str = "t") -> str:
        return new_name(kind)

    def register(self, name: str) -> None:
        """A database made under `new_name()`, to drop with its test (or session)."""
        if self.test_databases is not None:
            self.test_databases.append(name)
        else:
            self.session_databases.append(name)

    def new_database(self, migrated: bool = True) -> str:
        name = self.new_name()
        template = f' TEMPLATE "{self.template}"' if migrated else ""
        self.execute(f'CREATE DATABASE "{name}"{template}')
        self.register(name)
        return self.url(name)

    @staticmethod
    def url(database: str) -> str:
        return _pg_url(database)

    def begin_test(self) -> None:
        self.test_databases = []

    def end_test(self) -> None:
        names, self.test_databases = self.test_databases or [], None
        self.drop(names)

    def drop(self, names: list[str]) -> None:
        for name in reversed(names):
            self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def drop_leftovers(self) -> None:
        with self.admin.connect() as connection:
            names = connection.exec_driver_sql("SELECT datname FROM pg_database").scalars()
            found = leftovers(names)
        self.drop(found)
        # The roles after the databases: a role that owns one cannot be dropped.
        with self.admin.connect() as connection:
            roles = leftovers(connection.exec_driver_sql("SELECT rolname FROM pg_roles").scalars())
        for role in roles:
            self.execute(f'DROP ROLE IF EXISTS "{role}"')

    def drop_all(self) -> None:
        self.end_test()
        self.drop(self.session_databases)
        self.admin.dispose()


# The session's server once a test has asked for it: the clean-up after each test
# must not start one for the tests that never use PostgreSQL.
_server: PostgresServer | None = None
# Whether a test's own fixtures are being set up or the test runs: what a fixture of
# wider scope makes before then lives as long as that fixture.
_in_test = False


@pytest.fixture(scope="session")
def postgres_server():
    global _server
    try:
        engine = make_engine(PG_ADMIN_URL)
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure means "no server here"
        reason = f"PostgreSQL unreachable at {PG_ADMIN_URL}: {exc.__class__.__name__}"
        if IN_CI:
            pytest.fail(f"{reason} (CI=true: PostgreSQL tests are mandatory)")
        pytest.skip(reason)
    server = _server = PostgresServer()
    if _in_test:  # asked for from within a test (getfixturevalue)
        server.begin_test()
    try:
        yield server
    finally:
        _server = None
        server.drop_all()


@pytest.fixture(autouse=True)
def _test_databases():
    """Drops the PostgreSQL databases a test made, when it ends. Autouse, so set up
    before the test's other function fixtures and torn down after them: whatever they
    had open on those databases is closed by then."""
    global _in_test
    _in_test = True
    if _server is not None:
        _server.begin_test()
    try:
        yield
    finally:
        _in_test = False
        if _server is not None:
            _server.end_test()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("tpl") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def db_url(backend, request, tmp_path, sqlite_template) -> str:
    """A fresh, migrated database on the backend under test."""
    if backend == "sqlite":
        path = tmp_path / "nhiemvu.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    return request.getfixturevalue("postgres_server").new_database()


@pytest.fixture
def second_db_url(backend, request, tmp_path, sqlite_template) -> str:
    """Another fresh, migrated database on the same backend: to replay the same facts,
    or to import a log into."""
    if backend == "sqlite":
        path = tmp_path / "second.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    return request.getfixturevalue("postgres_server").new_database()


@pytest.fixture
def empty_db_url(backend, request, tmp_path) -> str:
    """A fresh database with no schema at all."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    return request.getfixturevalue("postgres_server").new_database(migrated=False)


@pytest.fixture
def engine(db_url):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def reads_of(monkeypatch):
    """`reads_of(matches)`: the list, kept up to date, of the statements run through
    `Raw.all` from then on whose text `matches` — to count a path's round trips."""

    def watch(matches) -> list[str]:
        seen: list[str] = []
        all_rows = Raw.all

        def counting_all(raw, text, params=None):
            if matches(text):
                seen.append(text)
            return all_rows(raw, text, params)

        monkeypatch.setattr(Raw, "all", counting_all)
        return seen

    return watch


@pytest.fixture
def applies_noted(monkeypatch):
    """`applies_noted(note)`: the list, kept up to date, of `note(session, event)` for
    each event a ledger session of this process applies from then on."""
    from application.projection import LedgerSession

    def watch(note) -> list:
        seen: list = []
        apply = LedgerSession.apply

        def noted(session, event):
            seen.append(note(session, event))
            return apply(session, event)

        monkeypatch.setattr(LedgerSession, "apply", noted)
        return seen

    return watch
