"""Shared fixtures: every storage test runs on SQLite and on PostgreSQL.

PostgreSQL is found at $NHIEMVU_TEST_PG (default: the local server, trust auth).
Without a server the PostgreSQL cases skip with the reason; with CI=true they fail.
"""

from __future__ import annotations

import os
import shutil
import uuid

import pytest
import sqlalchemy as sa

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
    """Creates throw-away databases, each cloned from a migrated template."""

    def __init__(self) -> None:
        self.admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        self.template = f"nhiemvu_tpl_{uuid.uuid4().hex[:8]}"
        self.created: list[str] = []
        self.execute(f'CREATE DATABASE "{self.template}"')
        self.created.append(self.template)
        upgrade(_pg_url(self.template))
        # Nothing may stay connected to a template that is being cloned.
        self.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{self.template}' AND pid <> pg_backend_pid()"
        )

    def execute(self, sql: str) -> None:
        with self.admin.connect() as connection:
            connection.exec_driver_sql(sql)

    def new_database(self, migrated: bool = True) -> str:
        name = f"nhiemvu_t_{uuid.uuid4().hex[:12]}"
        template = f' TEMPLATE "{self.template}"' if migrated else ""
        self.execute(f'CREATE DATABASE "{name}"{template}')
        self.created.append(name)
        return self.url(name)

    @staticmethod
    def url(database: str) -> str:
        return _pg_url(database)

    def drop_all(self) -> None:
        for name in reversed(self.created):
            self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres_server():
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
    server = PostgresServer()
    yield server
    server.drop_all()


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
