"""A real multi-user PostgreSQL deployment: `init` as the database's owner, every
other command as a clerk role granted what README.md says — the very script it
shows, read from it — and nothing more.

Roles belong to the whole server: each test makes its own two and drops them. A
server that refuses to make roles skips these tests, saying so; with CI=true they
are mandatory and fail instead.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import IN_CI
from nhiemvu_cli import REPO, Nhiemvu, run_sql
from openpyxl import Workbook
from readme_grants import readme_grants


@dataclass
class Deployment:
    database: str
    owner_url: str
    clerk_url: str

    def as_clerk(self) -> Nhiemvu:
        return Nhiemvu(self.clerk_url)

    def as_owner(self) -> Nhiemvu:
        return Nhiemvu(self.owner_url)


def _as_role(server, database: str, role: str) -> str:
    url = sa.engine.make_url(server.url(database)).set(username=role)
    return url.render_as_string(hide_password=False)


@pytest.fixture
def deployment(postgres_server):
    """A database owned by a role of its own that has run `init` in it, and a clerk
    role granted the README's script by that owner."""
    owner, clerk = postgres_server.new_name("r"), postgres_server.new_name("r")
    made: list[str] = []
    try:
        for role in (owner, clerk):
            postgres_server.execute(f'CREATE ROLE "{role}" LOGIN')
            made.append(role)
    except sa.exc.DBAPIError as exc:
        for role in made:
            postgres_server.execute(f'DROP ROLE IF EXISTS "{role}"')
        reason = f"the PostgreSQL server refuses to create roles: {exc.orig}"
        if IN_CI:
            pytest.fail(f"{reason} (CI=true: these tests are mandatory)")
        pytest.skip(reason)
    database = postgres_server.new_name()
    try:
        postgres_server.execute(f'CREATE DATABASE "{database}" OWNER "{owner}"')
        postgres_server.register(database)
        deployment = Deployment(
            database,
            _as_role(postgres_server, database, owner),
            _as_role(postgres_server, database, clerk),
        )
        deployment.as_owner().ok("init")
        run_sql(deployment.owner_url, readme_grants(database, clerk))
        yield deployment
    finally:
        # A role that owns a database, or holds rights in one, cannot be dropped.
        postgres_server.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        for role in (clerk, owner):
            postgres_server.execute(f'DROP ROLE IF EXISTS "{role}"')


def _tracking_book(path: Path) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.title = "Nhiệm vụ"
    sheet.append(["STT", "Số văn bản", "Ngày văn bản", "Trích yếu", "Nội dung nhiệm vụ",
                  "Đơn vị chủ trì", "Thời hạn"])  # fmt: skip
    sheet.append([1, "02/CT-UBND", "19/01/2023", "Chỉ thị năm 2023", "Rà soát đề án",
                  "STC", "30/06/2023"])  # fmt: skip
    book.save(path)
    return path


def test_the_readme_s_grants_are_all_a_clerk_needs_for_a_day_s_work(deployment, tmp_path):
    """The log moved in from SQLite, then the secretariat's commands, as the clerk."""
    source = Nhiemvu(f"sqlite:///{tmp_path / 'cu.db'}")
    source.ok("init")
    source.ok("agency", "add", "SXD", "--name", "Sở Xây dựng", "--kind", "so")
    source.ok("agency", "head", "SXD", "--name", "Nguyễn Văn An", "--from", "01/01/2023")
    log = tmp_path / "log.jsonl"
    source.ok("events", "export", "--out", str(log))

    nv = deployment.as_clerk()
    nv.ok("events", "import", str(log))
    nv.ok("agency", "add", "STC", "--name", "Sở Tài chính", "--kind", "so")
    nv.ok("agency", "deputy", "SXD", "--name", "Trần Thị Bình", "--field", "xây dựng",
          "--from", "01/01/2023")  # fmt: skip
    nv.ok("agency", "rename", "STC", "--name", "Sở Tài chính TP", "--on", "01/02/2023")
    nv.ok("directive", "add", "129/TB-UBND", "--date", "20/03/2023", "--title", "Kết luận")
    for clause, lead in (("2.3", "SXD"), ("2.4", "STC")):
        nv.ok("task", "assign", "--directive", "129/TB-UBND", "--clause", clause,
              "--title", f"Việc {clause}", "--lead", lead, "--deadline", "31/03/2023")  # fmt: skip
    nv.ok("task", "progress", "NV-00001", "--percent", "50", "--on", "25/03/2023")
    nv.ok("task", "extend", "NV-00001", "--to", "30/04/2023", "--on", "28/03/2023",
          "--reason", "Chờ số liệu")  # fmt: skip
    nv.ok("task", "complete", "NV-00001", "--on", "29/04/2023", "--doc", "12/BC-SXD")
    nv.ok("task", "reassign", "NV-00002", "--lead", "SXD", "--on", "01/04/2023")
    nv.ok("reprimand", "issue", "--kind", "phe-binh", "--doc", "1234/UBND-TH",
          "--on", "10/09/2023", "--head", "SXD", "--field", "xây dựng")  # fmt: skip
    nv.ok("commend", "--doc", "88/UBND-TH", "--on", "15/06/2023", "--agency", "SXD")
    nv.ok("correct", "88/UBND-TH", "--reason", "Ghi nhầm")
    nv.ok("assess", "SXD", "--year", "2023", "--criterion", "phoi_hop", "--points", "8",
          "--reason", "Chậm phối hợp")  # fmt: skip
    nv.ok("escalate", "--as-of", "31/12/2023")
    nv.ok("import", "xlsx", str(_tracking_book(tmp_path / "so.xlsx")))
    nv.ok("agency", "dissolve", "STC", "--on", "01/11/2023", "--reason", "QĐ 1", "--into", "SXD")
    nv.ok("score", "--quarter", "2023Q3", "--xlsx", str(tmp_path / "diem.xlsx"))
    nv.ok("rating", "compute", "--year", "2023")
    nv.ok("rating", "finalize", "--year", "2023")
    nv.ok("rating", "show", "--year", "2023")
    nv.ok("report", "tasks", "--year", "2023")
    nv.ok("report", "reprimands", "--year", "2023")
    nv.ok("report", "html", "--year", "2023", "--out", str(tmp_path / "bao-cao.html"))
    nv.ok("letters", "--as-of", "31/12/2023", "--out", str(tmp_path / "thu"))
    nv.ok("task", "list", "--as-of", "31/12/2023")
    nv.ok("task", "history", "NV-00001")
    nv.ok("projections", "rebuild")
    nv.ok("projections", "verify")
    nv.ok("events", "verify")
    titles = {task["title"] for task in nv.json("task", "list", "--as-of", "31/12/2023")}
    assert "Rà soát đề án" in titles


# PostgreSQL's refusal for want of a right (42501: its words are in the server's
# language, which only a superuser may change). The README's grants leave the clerk
# no UPDATE or DELETE on the log: the triggers are a second refusal behind that.
NOT_ALLOWED = "42501"
REFUSED = {
    "UPDATE events SET actor = 'x'": NOT_ALLOWED,
    "DELETE FROM events": NOT_ALLOWED,
    "TRUNCATE events": NOT_ALLOWED,
    "ALTER TABLE events DISABLE TRIGGER ALL": NOT_ALLOWED,
    "ALTER TABLE events DISABLE TRIGGER events_no_update": NOT_ALLOWED,
    "DROP TRIGGER events_no_update ON events": NOT_ALLOWED,
    "CREATE OR REPLACE FUNCTION events_refuse_change() RETURNS trigger LANGUAGE plpgsql "
    "AS $$ BEGIN RETURN NEW; END $$": NOT_ALLOWED,
    "SET session_replication_role = replica": NOT_ALLOWED,
    "TRUNCATE proj_tasks": NOT_ALLOWED,
    "CREATE TABLE side (x int)": NOT_ALLOWED,
    "CREATE TEMP TABLE side (x int)": NOT_ALLOWED,
}


def test_the_clerk_can_neither_rewrite_the_log_nor_take_its_guards_away(deployment):
    nv = deployment.as_clerk()
    nv.ok("agency", "add", "SXD", "--name", "Sở Xây dựng", "--kind", "so")
    clerk, owner = (sa.create_engine(d) for d in (deployment.clerk_url, deployment.owner_url))
    try:
        for statement, expected in REFUSED.items():
            with clerk.connect() as connection, pytest.raises(sa.exc.DBAPIError) as refused:
                connection.exec_driver_sql(statement)
            assert refused.value.orig.sqlstate == expected, (statement, refused.value.orig)
        # Granted them after all (what the README once implied), the triggers refuse.
        role = sa.engine.make_url(deployment.clerk_url).username
        with owner.begin() as connection:
            connection.exec_driver_sql(f'GRANT UPDATE, DELETE ON events TO "{role}"')
        for statement in ("UPDATE events SET actor = 'x'", "DELETE FROM events"):
            with clerk.connect() as connection, pytest.raises(sa.exc.DBAPIError) as refused:
                connection.exec_driver_sql(statement)
            assert "events is append-only" in str(refused.value.orig), statement
    finally:
        clerk.dispose()
        owner.dispose()
    assert "toàn vẹn" in nv.ok("events", "verify").stdout
    assert nv.event_count() == 1


def test_a_clerk_s_rebuild_says_postgresql_left_the_tables_unvacuumed(deployment):
    """PostgreSQL lets only the tables' owner vacuum them and skips it for the clerk
    with a warning no one saw: the rebuild now says so; the owner's says nothing."""
    clerk = deployment.as_clerk()
    clerk.ok("agency", "add", "SXD", "--name", "Sở Xây dựng", "--kind", "so")
    said = clerk.ok("projections", "rebuild").stderr
    assert "VACUUM ANALYZE" in said and "proj_tasks" in said and "chủ sở hữu" in said
    assert "VACUUM" in clerk.ok("projections", "verify").stderr
    assert deployment.as_owner().ok("projections", "rebuild").stderr == ""


def test_a_clerk_is_told_that_putting_the_guards_back_is_the_owner_s_work(deployment):
    """A trigger disabled behind the store's back: `init` puts it back, but only as the
    owner; the clerk is told so, and which rights the rest of the commands need."""
    clerk = deployment.as_clerk()
    run_sql(deployment.owner_url, "ALTER TABLE events DISABLE TRIGGER events_no_update")
    unguarded = clerk.run("events", "verify")
    assert unguarded.exit_code == 1
    assert "`nhiemvu init` bằng vai trò chủ sở hữu cơ sở dữ liệu" in unguarded.stderr
    refused = clerk.fails("init")
    assert "trên bảng events chỉ SELECT, INSERT" in refused.stderr
    assert "README.md, mục 'A PostgreSQL role for the secretariat'" in refused.stderr
    deployment.as_owner().ok("init")
    assert clerk.ok("events", "verify").stderr == ""


WRITER = """
import sys
from click.testing import CliRunner
from cli import cli

url, task = sys.argv[1], sys.argv[2]
for percent in range(5, 55, 5):
    args = ["--db", url, "task", "progress", task, "--percent", str(percent), "--on", "01/03/2023"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, (result.stdout, result.stderr)
"""


def test_two_clerks_write_at_once_while_the_scheduler_runs_as_a_clerk(deployment, tmp_path):
    """Each in a process of its own, all as the clerk role: every write lands, the log
    and the projection hold, and the scheduler's passes went on meanwhile."""
    from test_scheduler import FAST, PASS_LINE, Scheduler

    nv = deployment.as_clerk()
    nv.ok("agency", "add", "SXD", "--name", "Sở Xây dựng", "--kind", "so")
    nv.ok("directive", "add", "129/TB-UBND", "--date", "20/02/2023", "--title", "Kết luận")
    for clause in ("1", "2", "3"):
        nv.ok("task", "assign", "--directive", "129/TB-UBND", "--clause", clause,
              "--title", f"Việc {clause}", "--lead", "SXD", "--deadline", "31/03/2023")  # fmt: skip
    scheduler = Scheduler(deployment.clerk_url, tmp_path / "scheduler.log", *FAST, "--once-now")
    try:
        scheduler.wait_for(lambda: scheduler.text().count(PASS_LINE) >= 1, "the first pass")
        env = dict(os.environ, PYTHONPATH=str(REPO))
        writers = [
            subprocess.Popen(
                [sys.executable, "-c", WRITER, deployment.clerk_url, task],
                env=env,
                cwd=REPO,
                stderr=subprocess.PIPE,
                text=True,
            )  # fmt: skip
            for task in ("NV-00001", "NV-00002")
        ]
        for writer in writers:
            _, errors = writer.communicate(timeout=300)
            assert writer.returncode == 0, errors
        passes = scheduler.text().count(PASS_LINE)
        scheduler.wait_for(lambda: scheduler.text().count(PASS_LINE) > passes, "one more pass")
        assert scheduler.stop() == 0
    finally:
        scheduler.kill()
    assert "Lỗi" not in scheduler.text() and "Không" not in scheduler.text(), scheduler.text()
    for task in ("NV-00001", "NV-00002"):
        assert nv.task(task, "--as-of", "01/03/2023")["progress"] == 50
    assert "toàn vẹn" in nv.ok("events", "verify").stdout
    assert nv.run("projections", "verify").exit_code == 0
