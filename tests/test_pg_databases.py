"""The suite's own PostgreSQL databases: each dropped with the test that made it, and
a killed run's leftovers dropped by the next run here, never a live run's."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

from pg_names import OURS, WHERE, leftovers

HERE = Path(__file__).resolve().parent

INNER_TESTS = """
import pytest
import sqlalchemy as sa

made = []


def name_of(url):
    return url.rsplit("/", 1)[1]


def exists(server, name):
    with server.admin.connect() as connection:
        query = sa.text("SELECT COUNT(*) FROM pg_database WHERE datname = :name")
        return connection.execute(query, {"name": name}).scalar() == 1


@pytest.mark.parametrize("backend", ["postgresql"])
def test_a_first_to_ask_for_the_server(db_url):
    made.append(name_of(db_url))


@pytest.fixture(scope="module")
def for_the_module(postgres_server):
    return name_of(postgres_server.new_database())


def test_b_the_database_of_the_test_before_is_gone(postgres_server, for_the_module):
    assert not exists(postgres_server, made[0])
    made.append(name_of(postgres_server.new_database()))
    assert exists(postgres_server, made[1])


def test_c_so_is_this_one_but_not_the_module_s(postgres_server, for_the_module):
    assert not exists(postgres_server, made[1])
    assert exists(postgres_server, for_the_module)
"""


def _dead_pid() -> int:
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    return finished.pid


def _names(server) -> set[str]:
    with server.admin.connect() as connection:
        return set(connection.exec_driver_sql("SELECT datname FROM pg_database").scalars())


def test_leftovers_are_this_machine_s_of_gone_processes():
    dead, alive, suffix = _dead_pid(), os.getpid(), uuid.uuid4().hex[:12]
    elsewhere = "0" * 6 if WHERE != "0" * 6 else "1" * 6
    names = [
        f"nhiemvu_t_{WHERE}_{dead}_{suffix}",
        f"nhiemvu_tpl_{WHERE}_{dead}_{suffix}",
        f"nhiemvu_t_{WHERE}_{alive}_{suffix}",  # a live run's
        f"nhiemvu_t_{elsewhere}_{dead}_{suffix}",  # another machine's: its PIDs are not ours
        f"nhiemvu_t_{suffix}",  # named before the maker was: nobody can tell
        "nhiemvu",
        "postgres",
    ]
    assert leftovers(names) == names[:2]
    assert all(OURS.match(name) for name in names[:4])


def test_a_run_drops_each_test_s_database_as_it_ends_and_a_killed_run_s(postgres_server, tmp_path):
    """A run in a process of its own: its tests see the database of the test before
    them gone; at its start it drops what a gone process left here, and nothing else;
    at its end nothing of its own is left."""
    suffix = uuid.uuid4().hex[:12]
    dead = f"nhiemvu_t_{WHERE}_{_dead_pid()}_{suffix}"
    alive = f"nhiemvu_t_{WHERE}_{os.getpid()}_{suffix}"
    old_style = f"nhiemvu_t_{suffix}"
    planted = [dead, alive, old_style]
    for name in planted:
        postgres_server.execute(f'CREATE DATABASE "{name}"')
    try:
        for helper in ("conftest.py", "pg_names.py"):
            shutil.copy(HERE / helper, tmp_path / helper)
        (tmp_path / "test_inner.py").write_text(INNER_TESTS, encoding="utf-8")
        run = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        output, _ = run.communicate()
        assert run.returncode == 0, output
        assert "3 passed" in output, output
        left = _names(postgres_server)
        assert dead not in left
        assert alive in left and old_style in left
        assert not [n for n in left if (m := OURS.match(n)) and int(m["pid"]) == run.pid]
    finally:
        for name in planted:
            postgres_server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
