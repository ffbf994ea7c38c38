"""Every command of the `nhiemvu` ledger CLI, run in-process on SQLite and PostgreSQL.

Each test drives the real `cli` group through Click's CliRunner, reads what a
script would read (`--json` on stdout, exit status, `Lỗi:` on stderr) and then
looks at the database itself, because "exit 0" alone would not show whether the
right events were written.

Business dates are in 2023, well before the wall clock, so the ledger's "not in
the future" rule never depends on when the suite runs.
"""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from nhiemvu_cli import Nhiemvu, run_sql
from projection_rows import snapshot

import migrations
from application import tables as t
from cli import cli
from events.catalog import REGISTRY
from events.database import make_engine
from events.store import EventStore, NewEvent
from workflow.dates import LOCAL_TZ

DIRECTIVE = "129/TB-UBND"


def snapshot_projections(db_url: str) -> dict[str, list[str]]:
    """Every projection row as canonical JSON, sorted: comparable across rebuilds."""
    engine = make_engine(db_url)
    try:
        return snapshot(engine)
    finally:
        engine.dispose()


@pytest.fixture
def nv(db_url) -> Nhiemvu:
    return Nhiemvu(db_url)


@pytest.fixture
def city(nv) -> Nhiemvu:
    """Three departments (SXD with a head and a deputy for "xây dựng") and one directive."""
    nv.ok("agency", "add", "SXD", "--name", "Sở Xây dựng", "--kind", "so")
    nv.ok("agency", "add", "STC", "--name", "Sở Tài chính", "--kind", "so")
    nv.ok("agency", "add", "SKHDT", "--name", "Sở Kế hoạch và Đầu tư", "--kind", "so")
    nv.ok("agency", "head", "SXD", "--name", "Nguyễn Văn An", "--from", "01/01/2023")
    nv.ok(
        "agency",
        "deputy",
        "SXD",
        "--name",
        "Trần Thị Bình",
        "--field",
        "xây dựng",
        "--from",
        "01/01/2023",
    )
    nv.ok("directive", "add", DIRECTIVE, "--date", "15/03/2023", "--title", "Kết luận phiên họp")
    return nv


def assign(nv: Nhiemvu, *args: str, title: str = "Rà soát quy hoạch") -> str:
    """Assign a task under the directive and return its id (from --json)."""
    return nv.json("task", "assign", "--directive", DIRECTIVE, "--title", title, *args)["id"]


# -- init -----------------------------------------------------------------------------


def test_init_creates_the_schema_on_an_empty_database(empty_db_url):
    nv = Nhiemvu(empty_db_url)
    before = nv.run("agency", "list")
    # Without a schema the CLI refuses cleanly and says what to run.
    assert before.exit_code == 1 and isinstance(before.exception, SystemExit)
    assert before.stderr.startswith("Lỗi:") and "nhiemvu init" in before.stderr

    result = nv.ok("init")
    assert "Đã khởi tạo" in result.stdout
    engine = nv.engine()
    try:
        with engine.connect() as connection:
            assert (
                connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
                == migrations.HEAD
            )
            tables = set(sa.inspect(connection).get_table_names())
    finally:
        engine.dispose()
    assert {"events", "event_log_head", *(tb.name for tb in t.PROJECTION_TABLES)} <= tables
    assert nv.event_count() == 0

    # Running it again is harmless (an upgrade with nothing to do), and the ledger works.
    nv.ok("init")
    nv.ok("agency", "add", "SXD", "--name", "Sở Xây dựng", "--kind", "so")
    assert nv.event_count() == 1


def test_a_mistyped_sqlite_path_creates_no_empty_file(tmp_path):
    typo = tmp_path / "nhiemvu.bd"
    for args in (["task", "list"], ["task", "show", "NV-00001"], ["agency", "list"]):
        result = refused_unopened(Nhiemvu(str(typo)), *args)
        assert result.stderr == (
            f"Lỗi: Chưa có tệp cơ sở dữ liệu '{typo}'. Hãy chạy `nhiemvu init` để tạo, hoặc "
            "kiểm tra đường dẫn trong --db hoặc biến môi trường NHIEMVU_DB.\n"
        )
    assert list(tmp_path.iterdir()) == []
    Nhiemvu(str(typo)).ok("init")
    assert typo.exists()


# Commands that open the database each their own way: SQLAlchemy after the schema check,
# the bare driver first (task show / progress), Alembic (init, demo).
OPENING_COMMANDS = [
    ["init"],
    ["demo"],
    ["task", "list"],
    ["task", "show", "NV-00001"],
    ["task", "progress", "NV-00001", "--percent", "5", "--on", "01/01/2025"],
]


def refused_unopened(nv: Nhiemvu, *args: str):
    """A clean refusal (exit 1, SystemExit) of a database there is no counting events in."""
    result = nv.run(*args)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), (
        result.exception,
        result.stderr,
    )
    return result


@pytest.mark.parametrize("args", OPENING_COMMANDS, ids=lambda a: "-".join(a[:2]))
def test_a_sqlite_file_that_cannot_be_opened_is_explained(tmp_path, args):
    path = tmp_path / "khong-co" / "nhiemvu.db"
    result = refused_unopened(Nhiemvu(str(path)), *args)
    assert result.stderr == (
        f"Lỗi: Không mở được tệp cơ sở dữ liệu SQLite '{path}': thư mục '{path.parent}' không "
        "tồn tại. Hãy kiểm tra đường dẫn trong --db hoặc biến môi trường NHIEMVU_DB.\n"
    )
    assert "Traceback" not in result.stderr
    assert not path.parent.exists()


@pytest.mark.parametrize("args", OPENING_COMMANDS, ids=lambda a: "-".join(a[:2]))
def test_a_postgres_server_that_cannot_be_reached_is_explained(args):
    url = "postgresql+psycopg://thu_ky:mat-khau@127.0.0.1:1/nhiemvu"  # nothing listens on 1
    result = refused_unopened(Nhiemvu(url), *args)
    assert result.stderr == (
        "Lỗi: Không kết nối được cơ sở dữ liệu PostgreSQL "
        "postgresql+psycopg://thu_ky:***@127.0.0.1:1/nhiemvu: không có máy chủ PostgreSQL nào "
        "nhận kết nối ở 127.0.0.1, cổng 1 (máy chủ chưa chạy, hoặc sai máy, sai cổng).\n"
    )


def test_a_file_that_is_not_a_database_is_explained(tmp_path):
    text_file = tmp_path / "ghi-chu.txt"
    text_file.write_text("không phải cơ sở dữ liệu\n" * 100, "utf-8")
    for path, why in (
        (text_file, "tệp này không phải cơ sở dữ liệu SQLite, hoặc đã hỏng"),
        (tmp_path, "đây là một thư mục, không phải tệp"),
    ):
        for args in OPENING_COMMANDS:
            result = refused_unopened(Nhiemvu(str(path)), *args)
            assert f"SQLite '{path}': {why}." in result.stderr
    assert text_file.read_text("utf-8") == "không phải cơ sở dữ liệu\n" * 100


def test_an_engine_nhiemvu_does_not_support_is_refused(tmp_path):
    result = refused_unopened(Nhiemvu("mysql://thu_ky@127.0.0.1/nhiemvu"), "task", "list")
    assert result.stderr.startswith("Lỗi: Không hỗ trợ cơ sở dữ liệu loại 'mysql'.")
    assert "postgresql+psycopg://" in result.stderr


def test_a_postgres_database_not_created_is_explained(postgres_server):
    url = postgres_server.url("nhiemvu_chua_tao")
    result = refused_unopened(Nhiemvu(url), "task", "list")
    assert result.stderr == (
        f"Lỗi: Không kết nối được cơ sở dữ liệu PostgreSQL {url}: máy chủ chưa có cơ sở dữ "
        "liệu 'nhiemvu_chua_tao': tạo bằng `createdb nhiemvu_chua_tao`, rồi chạy `nhiemvu init`.\n"
    )


def test_a_postgres_user_the_server_does_not_have_is_explained(postgres_server):
    from sqlalchemy.engine import make_url

    stranger = make_url(postgres_server.url("postgres")).set(username="khong_co_ai")
    url = stranger.render_as_string(hide_password=False)
    result = refused_unopened(Nhiemvu(url), "task", "list")
    assert "máy chủ không có người dùng 'khong_co_ai'" in result.stderr
    assert "`createuser khong_co_ai`" in result.stderr
    assert "does not exist" not in result.stderr


@pytest.mark.parametrize(
    ("said", "meaning"),
    [
        (
            'connection to server at "10.0.0.5", port 5432 failed: FATAL:  password '
            'authentication failed for user "thu_ky"',
            "sai mật khẩu của người dùng 'thu_ky'",
        ),
        (
            'connection to server at "10.0.0.5", port 5432 failed: fe_sendauth: no password '
            "supplied",
            "máy chủ đòi mật khẩu",
        ),
        (
            'connection to server at "10.0.0.5", port 5432 failed: FATAL:  no pg_hba.conf '
            'entry for host "10.0.0.9", user "thu_ky", database "nhiemvu", no encryption',
            "không cho máy này (10.0.0.9) kết nối",
        ),
        (
            'could not translate host name "csdl.ubnd" to address: Name or service not known',
            "không tìm thấy máy chủ 'csdl.ubnd'",
        ),
        ("failed to resolve host 'csdl.ubnd': [Errno -2]", "không tìm thấy máy chủ 'csdl.ubnd'"),
        (
            'connection to server at "10.0.0.5", port 5432 failed: timeout expired',
            "hết thời gian chờ",
        ),
        ("FATAL:  sorry, too many clients already", "đủ số kết nối tối đa"),
        ("FATAL:  the database system is starting up", "đang khởi động hoặc đang tắt"),
        ("something nobody has seen", None),
    ],
)
def test_what_postgres_says_when_it_refuses_is_said_in_vietnamese(said, meaning):
    from events.database import why_postgres_refused

    found = why_postgres_refused(said)
    assert found == meaning if meaning is None else meaning in found


def test_a_refusal_not_known_keeps_the_server_s_words(postgres_server, monkeypatch):
    import events.database

    monkeypatch.setattr(events.database, "_POSTGRES_REFUSALS", [])
    result = refused_unopened(Nhiemvu(postgres_server.url("nhiemvu_chua_tao")), "task", "list")
    assert '(máy chủ báo: connection failed: connection to server at "' in result.stderr
    assert "máy chủ có đang chạy không" in result.stderr


# -- agencies -------------------------------------------------------------------------


def test_agency_add_stores_upper_case_code_and_lists_it(nv):
    out = nv.json("agency", "add", "sxd", "--name", "  Sở   Xây dựng ", "--kind", "so")
    assert out["key"] == "SXD" and out["stream"] == "agency:SXD" and len(out["events"]) == 1
    nv.ok("agency", "add", "UBND-HA", "--name", "UBND quận Hải An", "--kind", "quan-huyen")
    assert nv.event_count() == 2

    rows = nv.json("agency", "list")
    assert [r["code"] for r in rows] == ["SXD", "UBND-HA"]
    sxd = rows[0]
    assert sxd["name"] == "Sở Xây dựng"  # spaces folded
    assert sxd["kind"] == "so" and sxd["kind_label"] == "Sở, ban, ngành"
    assert sxd["head"] is None and sxd["heads"] == [] and sxd["closed_on"] is None
    assert nv.event(out["events"][0]).data == {"code": "SXD", "name": "Sở Xây dựng", "kind": "so"}
    assert "UBND quận Hải An" in nv.ok("agency", "list").stdout


def test_agency_heads_succeed_each_other_and_deputies_are_listed(city):
    city.ok("agency", "head", "sxd", "--name", "Lê Văn Cường", "--from", "01/05/2023")
    by_day = {
        day: {r["code"]: r for r in city.json("agency", "list", "--on", day)}["SXD"]
        for day in ("30/04/2023", "01/05/2023", "31/12/2022")
    }
    assert by_day["30/04/2023"]["head"] == "Nguyễn Văn An"
    assert by_day["01/05/2023"]["head"] == "Lê Văn Cường"
    assert by_day["31/12/2022"]["head"] is None
    assert by_day["01/05/2023"]["heads"] == [
        {"person": "Nguyễn Văn An", "from": "2023-01-01", "to": "2023-04-30"},
        {"person": "Lê Văn Cường", "from": "2023-05-01", "to": None},
    ]
    assert by_day["01/05/2023"]["deputies"] == [
        {"person": "Trần Thị Bình", "field": "xây dựng", "from": "2023-01-01", "to": None}
    ]
    assert by_day["01/05/2023"]["deputies_in_charge"] == [
        {"person": "Trần Thị Bình", "field": "xây dựng"}
    ]
    assert by_day["31/12/2022"]["deputies_in_charge"] == []
    human = city.ok("agency", "list", "--on", "01/05/2023").stdout
    assert "Lê Văn Cường" in human and "Trần Thị Bình (xây dựng)" in human


def sxd_on(city, day: str) -> dict:
    return {r["code"]: r for r in city.json("agency", "list", "--on", day)}["SXD"]


def test_a_deputy_in_charge_until_the_next_of_the_field_or_the_closure(city):
    # Recorded out of date order: the charge still ends the day before the successor.
    city.ok(
        "agency",
        "deputy",
        "SXD",
        "--name",
        "Phạm Văn Dũng",
        "--field",
        "Xây dựng",
        "--from",
        "01/07/2023",
    )
    city.ok(
        "agency",
        "deputy",
        "SXD",
        "--name",
        "Đỗ Thị Hoa",
        "--field",
        "giao thông",
        "--from",
        "01/03/2023",
    )
    city.ok(
        "agency",
        "deputy",
        "SXD",
        "--name",
        "Lý Văn Em",
        "--field",
        "xây dựng",
        "--from",
        "01/04/2023",
    )
    charge = {
        day: [d["person"] for d in sxd_on(city, day)["deputies_in_charge"]]
        for day in ("31/03/2023", "01/04/2023", "30/06/2023", "01/07/2023")
    }
    assert charge == {
        "31/03/2023": ["Trần Thị Bình", "Đỗ Thị Hoa"],
        "01/04/2023": ["Đỗ Thị Hoa", "Lý Văn Em"],
        "30/06/2023": ["Đỗ Thị Hoa", "Lý Văn Em"],
        "01/07/2023": ["Phạm Văn Dũng", "Đỗ Thị Hoa"],
    }
    human = city.ok("agency", "list", "--on", "30/06/2023").stdout
    assert "Lý Văn Em (xây dựng)" in human and "Trần Thị Bình" not in human

    city.ok("agency", "dissolve", "SXD", "--on", "01/09/2023", "--reason", "Giải thể")
    ends = {d["person"]: d["to"] for d in sxd_on(city, "01/09/2023")["deputies"]}
    assert ends == {
        "Trần Thị Bình": "2023-03-31",
        "Phạm Văn Dũng": "2023-08-31",
        "Đỗ Thị Hoa": "2023-08-31",
        "Lý Văn Em": "2023-06-30",
    }
    assert sxd_on(city, "01/09/2023")["deputies_in_charge"] == []
    assert [d["person"] for d in sxd_on(city, "31/08/2023")["deputies_in_charge"]] == [
        "Phạm Văn Dũng",
        "Đỗ Thị Hoa",
    ]


def test_a_deputy_is_not_recorded_twice(city):
    again = ["agency", "deputy", "SXD", "--name", "Trần Thị Bình", "--field", "Xây dựng"]
    refused = city.fails(*again, "--from", "01/01/2023")
    assert (
        "Trần Thị Bình đã được ghi là cấp phó SXD phụ trách xây dựng từ ngày 01/01/2023"
    ) in refused.stderr and "nhiemvu agency history SXD" in refused.stderr
    city.fails(*again, "--from", "01/06/2023")  # still in charge of it then
    other = ["agency", "deputy", "SXD", "--name", "Lê Văn Em", "--field", "xây dựng"]
    city.fails(*other, "--from", "01/01/2023")  # two deputies of a field from one day
    city.ok(*other, "--from", "01/06/2023")  # a successor
    assert [d["person"] for d in sxd_on(city, "01/06/2023")["deputies_in_charge"]] == ["Lê Văn Em"]


def test_agency_rename(city):
    before = city.event_count()
    city.ok("agency", "rename", "skhdt", "--name", "Sở Tài chính - Kế hoạch", "--on", "01/03/2025")
    assert city.event_count() == before + 1
    rows = {r["code"]: r for r in city.json("agency", "list")}
    assert rows["SKHDT"]["name"] == "Sở Tài chính - Kế hoạch"
    assert rows["SKHDT"]["names"] == [
        {"name": "Sở Kế hoạch và Đầu tư", "from": None},
        {"name": "Sở Tài chính - Kế hoạch", "from": "2025-03-01"},
    ]
    # Listed on a day before the rename, the agency has the name it had then.
    before_rename = {r["code"]: r for r in city.json("agency", "list", "--on", "28/02/2025")}
    assert before_rename["SKHDT"]["name"] == "Sở Kế hoạch và Đầu tư"
    assert "Sở Kế hoạch và Đầu tư" in city.ok("agency", "list", "--on", "28/02/2025").stdout


def test_agency_rename_is_refused_out_of_order_to_the_same_name_or_once_closed(city):
    city.ok("agency", "rename", "SKHDT", "--name", "Sở Tài chính - Kế hoạch", "--on", "01/03/2025")
    before = city.event_count()
    earlier = city.fails("agency", "rename", "SKHDT", "--name", "Sở Kế hoạch", "--on", "01/03/2025")
    assert "không sau lần đổi tên trước" in earlier.stderr and "01/03/2025" in earlier.stderr
    same = city.fails(
        "agency", "rename", "skhdt", "--name", "sở tài chính - kế hoạch", "--on", "02/03/2025"
    )
    assert "đã mang tên 'Sở Tài chính - Kế hoạch'" in same.stderr
    city.ok("agency", "dissolve", "STC", "--on", "01/06/2023", "--reason", "Hợp nhất")
    closed = city.fails(
        "agency", "rename", "STC", "--name", "Sở Tài chính mới", "--on", "02/06/2023"
    )
    assert "đã giải thể từ ngày 01/06/2023" in closed.stderr
    assert city.event_count() == before + 1


def test_agency_dissolve_closes_it_for_new_work(city):
    city.ok("agency", "dissolve", "SKHDT", "--on", "01/06/2023", "--reason", "Giải thể")
    rows = {r["code"]: r for r in city.json("agency", "list")}
    assert rows["SKHDT"]["closed_on"] == "2023-06-01" and rows["SKHDT"]["merged_into"] is None
    # Work assigned before the dissolution date, recorded after it, would be led by
    # nobody from then on (the dissolution found no such task open): refused, with the
    # way to record it; work assigned after it, all the more.
    back_dated = city.fails("task", "assign", "--directive", DIRECTIVE, "--title", "X", "--lead",
                            "SKHDT", "--no-deadline", "--assigned-on", "31/05/2023")  # fmt: skip
    assert (
        "Cơ quan SKHDT đã giải thể từ ngày 01/06/2023: nhiệm vụ giao cho cơ quan này từ ngày "
        "31/05/2023 sẽ còn do nó chủ trì cả khi nó không còn. Hãy giao cho cơ quan khác"
    ) in back_dated.stderr
    refused = city.fails(
        "task",
        "assign",
        "--directive",
        DIRECTIVE,
        "--title",
        "X",
        "--lead",
        "SKHDT",
        "--no-deadline",
        "--assigned-on",
        "01/06/2023",
    )
    assert "SKHDT" in refused.stderr and "giải thể" in refused.stderr


def test_agency_dissolve_into_moves_open_tasks_to_the_successor(city):
    open_task = assign(city, "--lead", "SKHDT", "--lead", "STC", "--deadline", "30/09/2023")
    done_task = assign(city, "--lead", "SKHDT", "--deadline", "30/04/2023")
    city.ok("task", "complete", done_task, "--on", "20/04/2023")
    before = city.event_count()

    city.ok(
        "agency", "dissolve", "skhdt", "--on", "01/06/2023", "--reason", "Sáp nhập", "--into", "stc"
    )

    # One agency.merged event plus one reassignment for the single open task.
    assert city.event_count() == before + 2
    assert city.task(open_task)["leads"] == ["STC"]  # de-duplicated, order kept
    assert city.task(done_task)["leads"] == ["SKHDT"]  # closed work keeps its history
    moved = city.json("task", "history", open_task)[-1]
    assert moved["type"] == "task.reassigned"
    assert moved["data"]["from"] == ["SKHDT", "STC"] and moved["data"]["to"] == ["STC"]
    assert moved["data"]["on"] == "2023-06-01"
    rows = {r["code"]: r for r in city.json("agency", "list")}
    assert rows["SKHDT"]["merged_into"] == "STC"
    assert [r["id"] for r in city.json("task", "list", "--agency", "STC")] == [open_task]


def test_a_head_appointed_after_the_closure_was_recorded_serves_until_it(city):
    """Recorded after the merger, a head appointed before it still ends with it (the
    day before), and the term before ends the day before the new one begins."""
    city.ok("agency", "head", "SKHDT", "--name", "Người Một", "--from", "01/01/2023")
    city.ok("agency", "dissolve", "SKHDT", "--on", "01/06/2024", "--into", "STC", "--reason", "x")
    city.ok("agency", "head", "SKHDT", "--name", "Người Hai", "--from", "01/03/2024")
    heads = {r["code"]: r for r in city.json("agency", "list")}["SKHDT"]["heads"]
    assert [(h["person"], h["from"], h["to"]) for h in heads] == [
        ("Người Một", "2023-01-01", "2024-02-29"),
        ("Người Hai", "2024-03-01", "2024-05-31"),
    ]
    days = {r["head"]: r["days_in_office"] for r in city.json("rating", "compute", "--year", "2024")
            if r["agency"] == "SKHDT"}  # fmt: skip
    assert days == {"Người Một": 60, "Người Hai": 92}
    assert not [
        r for r in city.json("rating", "compute", "--year", "2025") if r["agency"] == "SKHDT"
    ]


def test_no_task_goes_to_an_agency_closed_since(city):
    """Assigned or reassigned back-dated to an agency merged or dissolved since, a task
    would stay with it after it is gone (the closure found it not there to move)."""
    city.ok("agency", "dissolve", "SKHDT", "--on", "01/06/2023", "--into", "STC", "--reason", "x")
    merged = city.fails("task", "assign", "--directive", DIRECTIVE, "--title", "X", "--lead",
                        "SKHDT", "--deadline", "30/09/2023", "--assigned-on", "20/05/2023")  # fmt: skip
    assert (
        "Lỗi: Cơ quan SKHDT đã sáp nhập vào STC từ ngày 01/06/2023: nhiệm vụ giao cho cơ quan "
        "này từ ngày 20/05/2023 sẽ còn do nó chủ trì cả khi nó không còn. Hãy giao cho cơ quan "
        "kế thừa STC; nếu nhiệm vụ thật sự giao cho SKHDT trước ngày đó, hãy rút lại việc sáp "
        "nhập (mã sự kiện trong `nhiemvu agency history SKHDT`), ghi nhiệm vụ, rồi ghi lại "
        "việc sáp nhập: nhiệm vụ sẽ được chuyển theo."
    ) in merged.stderr
    task_id = assign(city, "--lead", "SXD", "--deadline", "30/09/2023")
    moved = city.fails("task", "reassign", task_id, "--lead", "SKHDT", "--on", "20/05/2023")
    assert "Cơ quan SKHDT đã sáp nhập vào STC từ ngày 01/06/2023" in moved.stderr
    # As a coordinator it answers for nothing: that stays possible.
    assign(city, "--lead", "SXD", "--coordinate", "SKHDT", "--deadline", "30/09/2023",
           "--assigned-on", "20/05/2023")  # fmt: skip


def test_a_closure_keeps_every_task_with_a_standing_lead(city):
    """Recorded out of date order, closures must not strand a task with an agency on a
    day it is gone: merging into one merged since (with tasks to move), closing one
    another merged into after, or closing while a task it led then went elsewhere
    later, are refused; merging into one merged since with nothing to move is not."""
    city.ok("agency", "add", "SA", "--name", "Sở A", "--kind", "so")
    city.ok("agency", "add", "SB", "--name", "Sở B", "--kind", "so")
    task_id = assign(city, "--lead", "SA", "--deadline", "31/12/2023")
    city.ok("agency", "dissolve", "SB", "--on", "01/06/2023", "--into", "STC", "--reason", "QĐ 1")
    into_gone = city.fails("agency", "dissolve", "SA", "--on", "01/05/2023", "--into", "SB",
                           "--reason", "QĐ 2")  # fmt: skip
    assert (
        f"Lỗi: SB đã sáp nhập vào STC từ ngày 01/06/2023: {task_id} chuyển từ SA sang ngày "
        "01/05/2023 sẽ còn do SB chủ trì cả khi nó không còn."
    ) in into_gone.stderr
    # Two merged into each other.
    city.ok("agency", "dissolve", "SKHDT", "--on", "01/07/2023", "--into", "SA", "--reason", "x")
    cycle = city.fails("agency", "dissolve", "SA", "--on", "01/06/2023", "--into", "SKHDT",
                       "--reason", "y")  # fmt: skip
    assert (
        "Lỗi: SKHDT (từ ngày 01/07/2023) đã sáp nhập vào SA: không giải thể, sáp nhập SA từ "
        "ngày 01/06/2023, trước khi nhận cơ quan đó."
    ) in cycle.stderr
    # A task SA led on the day, given to SXD after it.
    city.ok("task", "reassign", task_id, "--lead", "SXD", "--on", "01/08/2023")
    led_away = city.fails("agency", "dissolve", "SA", "--on", "15/07/2023", "--into", "STC",
                          "--reason", "z")  # fmt: skip
    assert (
        f"Lỗi: SA chủ trì vào ngày 15/07/2023 những nhiệm vụ đã được giao lại sau ngày đó: "
        f"{task_id} (từ 01/08/2023)."
    ) in led_away.stderr
    # Nothing to move: merging into an agency merged since strands nothing.
    city.ok("agency", "add", "SC", "--name", "Sở C", "--kind", "so")
    city.ok("agency", "dissolve", "SC", "--on", "01/05/2023", "--into", "SB", "--reason", "w")


@pytest.mark.parametrize("merger_first", [False, True])
def test_a_task_completed_on_the_merger_day_is_the_successor_s_whatever_the_order(
    city, merger_first
):
    """On the merger day the merged agency is no more: a completion that day is the
    successor's, whether the merger or the completion was recorded first."""
    city.ok("agency", "head", "STC", "--name", "Bà B", "--from", "01/01/2023")
    city.ok("agency", "head", "SKHDT", "--name", "Ông A", "--from", "01/01/2023")
    task_id = assign(city, "--lead", "SKHDT", "--deadline", "30/06/2023")
    steps = [
        ("agency", "dissolve", "SKHDT", "--on", "01/06/2023", "--into", "STC", "--reason", "x"),
        ("task", "complete", task_id, "--on", "01/06/2023"),
    ]
    for step in steps if merger_first else reversed(steps):
        city.ok(*step)
    assert city.task(task_id, "--as-of", "01/06/2023")["leads"] == ["STC"]
    ratings = {r["head"]: r for r in city.json("rating", "compute", "--year", "2023")}
    assert (ratings["Bà B"]["N"], ratings["Bà B"]["on_time"]) == (1, 1)


def test_a_merger_moves_a_task_open_on_its_date_though_completed_since(city):
    """Business dates decide who led a task when, not the order things were recorded
    in: a task completed (late) after the merger date moves with the merger."""
    city.ok("agency", "head", "STC", "--name", "Bà B", "--from", "01/01/2023")
    city.ok("agency", "head", "SKHDT", "--name", "Ông A", "--from", "01/01/2023")
    task_id = assign(city, "--lead", "SKHDT", "--deadline", "31/10/2023")
    city.ok("task", "complete", task_id, "--on", "20/11/2023")
    city.ok("agency", "dissolve", "SKHDT", "--on", "01/07/2023", "--into", "STC", "--reason", "x")
    assert city.task(task_id, "--as-of", "15/08/2023")["leads"] == ["STC"]
    assert city.task(task_id, "--as-of", "30/06/2023")["leads"] == ["SKHDT"]
    heads = {r["head"]: r for r in city.json("rating", "compute", "--year", "2023")}
    assert (heads["Bà B"]["N"], heads["Bà B"]["late"]) == (1, 1)


def test_a_merger_whose_tasks_a_later_merger_moved_on_names_that_merger(city):
    """A's task went to B when A merged, then to STC when B merged: A's merger comes
    back once B's has, whose retraction takes its move back with it."""
    city.ok("agency", "add", "SA", "--name", "Sở A", "--kind", "so")
    city.ok("agency", "add", "SB", "--name", "Sở B", "--kind", "so")
    assign(city, "--lead", "SA", "--deadline", "31/12/2023")
    city.ok("agency", "dissolve", "SA", "--on", "01/05/2023", "--into", "SB", "--reason", "x")
    city.ok("agency", "dissolve", "SB", "--on", "01/08/2023", "--into", "STC", "--reason", "y")
    a_merger, b_merger = (city.json("agency", "history", code)[-1]["id"] for code in ("SA", "SB"))
    refused = city.fails("correct", a_merger, "--reason", "Nhầm")
    assert (
        "Hãy rút lại việc sáp nhập SB trước (mã sự kiện trong `nhiemvu agency history SB`): "
        "việc đó rút lại cả lần chuyển tiếp."
    ) in refused.stderr
    city.ok("correct", b_merger, "--reason", "Nhầm")
    city.ok("correct", a_merger, "--reason", "Nhầm")
    city.ok("projections", "verify")


def test_retracting_a_merger_takes_back_the_moves_it_made(city):
    moved = assign(city, "--lead", "SKHDT", "--deadline", "30/09/2023")
    stays = assign(city, "--lead", "SKHDT", "--deadline", "30/09/2023")
    city.ok("agency", "dissolve", "SKHDT", "--on", "01/06/2023", "--into", "STC", "--reason", "x")
    assert [city.task(t)["leads"] for t in (moved, stays)] == [["STC"], ["STC"]]
    # A task moved on again since the merger: that move has to be taken back first.
    city.ok("task", "reassign", stays, "--lead", "SXD", "--on", "01/07/2023")
    history = city.json("agency", "history", "skhdt")
    assert [(h["version"], h["label"], h["on"]) for h in history] == [
        (1, "Đăng ký cơ quan", None),
        (2, "Sáp nhập cơ quan", "2023-06-01"),
    ]
    merger = history[-1]["id"]
    assert merger in city.ok("agency", "history", "SKHDT").stdout
    refused = city.fails("correct", merger, "--reason", "Ghi nhầm: chưa sáp nhập")
    assert f"{stays} đã được chuyển tiếp sau khi sáp nhập chuyển sang." in refused.stderr
    assert "Hãy rút lại các lần giao lại sau đó trước" in refused.stderr
    city.ok("correct", f"{stays}#3", "--reason", "Giao lại nhầm")

    before = city.event_count()
    result = city.ok("correct", merger, "--reason", "Ghi nhầm: chưa sáp nhập")
    assert "các nhiệm vụ đó trở lại SKHDT chủ trì" in result.stderr + result.stdout
    assert city.event_count() == before + 3  # the merger and its two moves
    assert [city.task(t)["leads"] for t in (moved, stays)] == [["SKHDT"], ["SKHDT"]]
    skhdt = {r["code"]: r for r in city.json("agency", "list")}["SKHDT"]
    assert (skhdt["closed_on"], skhdt["merged_into"], skhdt["closure"]) == (None, None, None)
    assert city.json("task", "history", moved)[-1]["label"] == "Rút lại sự kiện"


def test_the_agency_list_says_which_are_closed_on_its_day(city):
    city.ok("agency", "dissolve", "SKHDT", "--on", "01/06/2023", "--into", "STC", "--reason", "x")
    after = city.ok("agency", "list", "--on", "01/06/2023").stdout.splitlines()
    assert after[0].split()[-2:] == ["Tình", "trạng"]
    (skhdt,) = [line for line in after if line.startswith("SKHDT ")]
    assert skhdt.endswith("sáp nhập vào STC từ ngày 01/06/2023")
    listed = {r["code"]: r["closure"] for r in city.json("agency", "list", "--on", "01/06/2023")}
    assert listed == {"SKHDT": "sáp nhập vào STC từ ngày 01/06/2023", "STC": None, "SXD": None}
    before = city.ok("agency", "list", "--on", "31/05/2023").stdout
    assert "Tình trạng" not in before and "sáp nhập" not in before


def test_a_dissolution_that_would_leave_open_tasks_with_nobody_is_refused(city):
    open_task = assign(city, "--lead", "SKHDT", "--deadline", "30/04/2023")
    refused = city.fails("agency", "dissolve", "SKHDT", "--on", "01/06/2023", "--reason", "x")
    assert "SKHDT chủ trì 1 nhiệm vụ chưa xong trước ngày 01/06/2023" in refused.stderr
    assert open_task in refused.stderr and "--into" in refused.stderr
    city.ok("task", "complete", open_task, "--on", "31/05/2023")
    city.ok("agency", "dissolve", "SKHDT", "--on", "01/06/2023", "--reason", "x")


def test_agency_dissolve_refuses_a_date_before_its_terms_or_tasks_and_a_second_closure(city):
    task_id = assign(city, "--lead", "SXD", "--deadline", "30/09/2023")  # assigned 15/03/2023
    merge = ["agency", "dissolve", "SXD", "--reason", "Sáp nhập", "--into", "STC", "--on"]

    refused = city.fails(*merge, "01/01/2023")
    assert (
        "không sau ngày bắt đầu của người đứng đầu Nguyễn Văn An (từ 01/01/2023); cấp phó "
        "Trần Thị Bình phụ trách xây dựng (từ 01/01/2023)."
    ) in refused.stderr
    refused = city.fails(*merge, "14/03/2023")
    assert f"chuyển sang STC: {task_id} (từ 15/03/2023)." in refused.stderr

    city.ok(*merge, "15/03/2023")
    refused = city.fails("agency", "dissolve", "SXD", "--on", "01/12/2022", "--reason", "x")
    assert refused.stderr == (
        "Lỗi: Cơ quan SXD đã sáp nhập vào STC từ ngày 15/03/2023; không ghi giải thể hay sáp "
        "nhập lần nữa. Nếu lần trước ghi sai, hãy rút lại sự kiện đó bằng "
        "`nhiemvu correct MÃ_SỰ_KIỆN --reason …` rồi ghi lại.\n"
    )
    sxd = {r["code"]: r for r in city.json("agency", "list")}["SXD"]
    assert (sxd["closed_on"], sxd["merged_into"]) == ("2023-03-15", "STC")
    assert sxd["heads"] == [{"person": "Nguyễn Văn An", "from": "2023-01-01", "to": "2023-03-14"}]


# -- directives -----------------------------------------------------------------------


def test_directive_add_and_list_count_tasks(nv):
    nv.ok("agency", "add", "SXD", "--name", "Sở Xây dựng", "--kind", "so")
    out = nv.json(
        "directive",
        "add",
        "02/CT-UBND",
        "--date",
        "2023-02-06",
        "--title",
        "Chỉ thị năm 2023",
        "--kind",
        "Chỉ thị",
        "--issuer",
        "Chủ tịch UBND thành phố",
    )
    assert out["key"] == "02/CT-UBND" and out["stream"] == "directive:02/CT-UBND"
    conclusions = nv.json("directive", "add", DIRECTIVE, "--date", "15/03/2023", "--title", "Kết")
    for _ in range(2):
        nv.ok(
            "task",
            "assign",
            "--directive",
            "02/CT-UBND",
            "--title",
            "Việc",
            "--lead",
            "SXD",
            "--no-deadline",
        )
    rows = nv.json("directive", "list")
    assert rows == [
        {
            "number": "02/CT-UBND",
            "issued_on": "2023-02-06",
            "kind": "Chỉ thị",
            "issuer": "Chủ tịch UBND thành phố",
            "title": "Chỉ thị năm 2023",
            "tasks": 2,
            "event_id": out["events"][0],  # what `nhiemvu correct` takes
        },
        {
            "number": DIRECTIVE,
            "issued_on": "2023-03-15",
            "kind": None,
            "issuer": None,
            "title": "Kết",
            "tasks": 0,
            "event_id": conclusions["events"][0],
        },
    ]
    assert "06/02/2023" in nv.ok("directive", "list").stdout  # people read dd/mm/yyyy
    # Registered again after a retraction, it is listed with its new registration.
    nv.ok("correct", conclusions["events"][0], "--reason", "Sai ngày")
    again = nv.json("directive", "add", DIRECTIVE, "--date", "16/03/2023", "--title", "Kết")
    assert again["stream"] == conclusions["stream"]
    assert nv.json("directive", "list")[1]["event_id"] == again["events"][0]


def test_directives_of_one_day_are_listed_by_number(nv):
    for number in ("12/TB-UBND", "05/TB-UBND", "31/KH-UBND"):
        nv.ok("directive", "add", number, "--date", "06/02/2023", "--title", "Thông báo")
    nv.ok("directive", "add", "01/CT-UBND", "--date", "01/02/2023", "--title", "Chỉ thị")
    assert [row["number"] for row in nv.json("directive", "list")] == [
        "01/CT-UBND",
        "05/TB-UBND",
        "12/TB-UBND",
        "31/KH-UBND",
    ]


# -- task assign ------------------------------------------------------------------------


def test_assign_with_a_date_deadline_and_every_option(city):
    out = city.json(
        "task",
        "assign",
        "--directive",
        DIRECTIVE,
        "--clause",
        "2.3",
        "--title",
        "Cải tạo chung cư cũ",
        "--lead",
        "sxd",
        "--lead",
        "STC",
        "--coordinate",
        "skhdt",
        "--deadline",
        "31/03/2023",
        "--assigned-on",
        "16/03/2023",
        "--leader",
        "Lê Khắc Nam",
        "--id",
        "TB129-2.3",
    )
    assert out["id"] == "TB129-2.3" and out["deadline"] == "2023-03-31"
    task = city.task("TB129-2.3", "--as-of", "20/03/2023")
    assert task["directive"] == DIRECTIVE and task["clause"] == "2.3"
    assert task["leads"] == ["SXD", "STC"] and task["coordinators"] == ["SKHDT"]
    assert task["leader"] == "Lê Khắc Nam"
    assert task["assigned_on"] == "2023-03-16"
    assert task["deadline_kind"] == "date" and task["deadline_spec"] == "2023-03-31"
    assert task["deadline"] == task["original_deadline"] == task["current_deadline"] == "2023-03-31"
    assert task["status"] == "in_progress"
    stored = city.event(out["event_id"])
    assert stored.type == "task.assigned" and stored.stream_id == "task:TB129-2.3"


def test_assign_without_json_prints_only_the_id_and_ids_are_sequential(city):
    first = city.ok(
        "task", "assign", "--directive", DIRECTIVE, "--title", "A", "--lead", "SXD", "--no-deadline"
    )
    second = city.ok(
        "task", "assign", "--directive", DIRECTIVE, "--title", "B", "--lead", "SXD", "--no-deadline"
    )
    assert first.stdout.strip() == "NV-00001"
    assert second.stdout.strip() == "NV-00002"
    # The assignment date defaults to the directive's date.
    assert city.task("NV-00001")["assigned_on"] == "2023-03-15"


def test_assign_at_the_meeting_before_the_notice_is_dated_is_kept_with_a_warning(city):
    # A Thông báo kết luận is dated after the meeting that gave the task.
    result = city.ok(
        "task",
        "assign",
        "--directive",
        DIRECTIVE,
        "--title",
        "Giao tại cuộc họp",
        "--lead",
        "SXD",
        "--deadline",
        "31/03/2023",
        "--assigned-on",
        "10/03/2023",
    )
    assert result.stdout.strip() == "NV-00001"
    assert "Lưu ý:" in result.stderr and "trước ngày ban hành" in result.stderr
    assert city.task("NV-00001", "--as-of", "10/03/2023")["assigned_on"] == "2023-03-10"


def test_assign_with_a_period_deadline_ends_the_quarter(city):
    task_id = assign(city, "--lead", "SXD", "--period", "2023Q2")
    task = city.task(task_id, "--as-of", "30/06/2023")
    assert task["deadline"] == "2023-06-30"
    assert task["deadline_kind"] == "period" and task["deadline_spec"] == "2023Q2"
    assert task["status"] == "in_progress"
    assert city.task(task_id, "--as-of", "01/07/2023")["status"] == "overdue"
    month = assign(city, "--lead", "SXD", "--period", "2023-04")
    assert city.task(month)["deadline"] == "2023-04-30"


def test_assign_within_working_days_skips_the_weekend(city):
    # Friday 17/03/2023; no Vietnamese public holiday falls in March 2023, so three
    # working days after it are Mon 20, Tue 21, Wed 22.
    out = city.json(
        "task",
        "assign",
        "--directive",
        DIRECTIVE,
        "--title",
        "Báo cáo nhanh",
        "--lead",
        "SXD",
        "--within-working-days",
        "3",
        "--assigned-on",
        "17/03/2023",
    )
    due = date.fromisoformat(out["deadline"])
    assert due == date(2023, 3, 22)
    # One working day after a Friday is the Monday, never the weekend.
    out = city.json(
        "task",
        "assign",
        "--directive",
        DIRECTIVE,
        "--title",
        "Báo cáo gấp",
        "--lead",
        "SXD",
        "--within-working-days",
        "1",
        "--assigned-on",
        "17/03/2023",
    )
    due = date.fromisoformat(out["deadline"])
    assert due == date(2023, 3, 20) and due.weekday() < 5
    task = city.task(out["id"])
    assert task["deadline_kind"] == "working_days" and task["deadline_spec"] == 1


def test_assign_with_no_deadline_is_ongoing(city):
    out = city.json(
        "task",
        "assign",
        "--directive",
        DIRECTIVE,
        "--title",
        "Thường xuyên",
        "--lead",
        "SXD",
        "--no-deadline",
    )
    assert out["deadline"] is None
    task = city.task(out["id"])  # ongoing, never overdue
    assert task["deadline"] is None and task["deadline_kind"] == "none"
    assert task["status"] == "ongoing" and task["days_overdue"] == 0
    assert "Thời hạn: —" in city.ok("task", "show", out["id"]).stdout


# -- progress, extensions, completion, cancellation, reassignment --------------------------


def test_progress_keeps_the_latest_report_by_business_date(city):
    task_id = assign(city, "--lead", "SXD", "--deadline", "30/06/2023")
    city.ok(
        "task",
        "progress",
        task_id,
        "--percent",
        "60",
        "--on",
        "20/04/2023",
        "--note",
        "Đã trình UBND",
    )
    # Logged later but dated earlier: it does not replace the newer report.
    city.ok("task", "progress", task_id, "--percent", "30", "--on", "01/04/2023")
    task = city.task(task_id)
    assert (task["progress"], task["progress_on"], task["progress_note"]) == (
        60,
        "2023-04-20",
        "Đã trình UBND",
    )
    # As of a date between the two, only the first-dated report existed.
    early = city.task(task_id, "--as-of", "10/04/2023")
    assert (early["progress"], early["progress_on"]) == (30, "2023-04-01")
    assert [e["type"] for e in city.json("task", "history", task_id)] == [
        "task.assigned",
        "task.progress_reported",
        "task.progress_reported",
    ]


def test_a_report_of_100_percent_says_the_task_is_not_complete_yet(city):
    """People take 'tiến độ 100%' for the completion; the task stays open (escalated,
    counted overdue) until the completion is logged, and the report says so."""
    task_id = assign(city, "--lead", "SXD", "--deadline", "30/06/2023")
    partial = city.ok("task", "progress", task_id, "--percent", "90", "--on", "20/04/2023")
    assert partial.stderr == ""
    full = city.ok("task", "progress", task_id, "--percent", "100", "--on", "25/04/2023")
    assert full.stderr.startswith(
        f"Lưu ý: Tiến độ 100% không phải là hoàn thành: {task_id} vẫn đang thực hiện"
    )
    assert f"`nhiemvu task complete {task_id} --on NGÀY --doc SỐ_VĂN_BẢN`" in full.stderr
    task = city.task(task_id, "--as-of", "26/04/2023")
    assert (task["progress"], task["status"], task["completed_on"]) == (100, "in_progress", None)
    assert city.task(task_id)["status"] == "overdue"  # today, long past its deadline


def test_extension_approved_and_refused(city):
    task_id = assign(city, "--lead", "SXD", "--deadline", "31/03/2023")
    city.ok(
        "task",
        "extend",
        task_id,
        "--to",
        "30/04/2023",
        "--on",
        "25/03/2023",
        "--reason",
        "Chờ ý kiến Bộ",
    )
    refused_before = city.event_count()
    city.ok(
        "task",
        "extend",
        task_id,
        "--to",
        "31/05/2023",
        "--on",
        "20/04/2023",
        "--refuse",
        "--reason",
        "Không đủ căn cứ",
    )
    assert city.event_count() == refused_before + 1

    task = city.task(task_id, "--as-of", "21/04/2023")
    # The refusal changes nothing: the approved date stands.
    assert task["deadline"] == task["current_deadline"] == "2023-04-30"
    assert task["original_deadline"] == "2023-03-31"
    assert [(e["approved_on"], e["to"], e["reason"], e["in_time"]) for e in task["extensions"]] == [
        ("2023-03-25", "2023-04-30", "Chờ ý kiến Bộ", True)
    ]
    types = [e["type"] for e in city.json("task", "history", task_id)]
    assert types == ["task.assigned", "task.extension_approved", "task.extension_refused"]
    # Both are shown, in the JSON and in the text (the refusal was in neither).
    (refused,) = task["refused_extensions"]
    assert (refused["refused_on"], refused["to"], refused["reason"]) == (
        "2023-04-20",
        "2023-05-31",
        "Không đủ căn cứ",
    )
    shown = city.ok("task", "show", task_id, "--as-of", "21/04/2023").stdout
    assert "  Gia hạn: đến 30/04/2023, duyệt ngày 25/03/2023 — Chờ ý kiến Bộ\n" in shown
    assert "  Không gia hạn: đề nghị đến 31/05/2023, từ chối ngày 20/04/2023" in shown


def test_task_show_names_the_leader_directing_it(city):
    task_id = assign(city, "--lead", "SXD", "--deadline", "31/03/2023", "--leader", "Lê Khắc Nam")
    assert "  Lãnh đạo chỉ đạo: Lê Khắc Nam\n" in city.ok("task", "show", task_id).stdout


def test_complete_with_a_report_number(city):
    task_id = assign(city, "--lead", "SXD", "--deadline", "31/03/2023")
    city.ok("task", "complete", task_id, "--on", "30/03/2023", "--doc", "45/BC-SXD")
    task = city.task(task_id)
    assert task["completed_on"] == "2023-03-30" and task["completion_doc"] == "45/BC-SXD"
    assert task["status"] == "done_on_time" and task["days_overdue"] == 0
    assert "Hoàn thành: 30/03/2023, văn bản 45/BC-SXD" in city.ok("task", "show", task_id).stdout


def test_cancel(city):
    task_id = assign(city, "--lead", "SXD", "--deadline", "30/06/2023")
    city.ok("task", "cancel", task_id, "--on", "01/05/2023", "--reason", "Không còn phù hợp")
    task = city.task(task_id)
    assert task["status"] == "cancelled" and task["status_label"] == "Đã hủy"
    assert task["cancelled_on"] == "2023-05-01" and task["cancel_reason"] == "Không còn phù hợp"
    assert city.task(task_id, "--as-of", "30/04/2023")["status"] == "in_progress"


def test_reassign_changes_the_leads(city):
    task_id = assign(city, "--lead", "SXD", "--deadline", "30/06/2023")
    city.ok(
        "task",
        "reassign",
        task_id,
        "--lead",
        "stc",
        "--lead",
        "SKHDT",
        "--on",
        "01/05/2023",
        "--reason",
        "Điều chỉnh chức năng",
    )
    assert city.task(task_id)["leads"] == ["STC", "SKHDT"]
    assert [r["id"] for r in city.json("task", "list", "--agency", "STC")] == [task_id]
    assert city.json("task", "list", "--agency", "SXD") == []
    last = city.json("task", "history", task_id)[-1]
    assert last["type"] == "task.reassigned"
    assert last["data"] == {
        "on": "2023-05-01",
        "from": ["SXD"],
        "to": ["STC", "SKHDT"],
        "reason": "Điều chỉnh chức năng",
    }


def test_reassignments_are_recorded_in_date_order(city):
    task_id = assign(city, "--lead", "SXD", "--deadline", "30/06/2023")
    city.ok("task", "reassign", task_id, "--lead", "STC", "--on", "26/03/2023")
    refused = city.fails("task", "reassign", task_id, "--lead", "SXD", "--on", "22/03/2023")
    assert "trước lần giao lại gần nhất (26/03/2023, cho STC chủ trì)" in refused.stderr
    # The same day is fine: two moves may be decided on one day.
    city.ok("task", "reassign", task_id, "--lead", "SKHDT", "--on", "26/03/2023")
    assert city.task(task_id, "--as-of", "27/03/2023")["leads"] == ["SKHDT"]
    assert city.task(task_id, "--as-of", "25/03/2023")["leads"] == ["SXD"]


def test_no_back_dated_head_over_a_document_naming_another(city):
    """A phê bình to the head names the head of its day. A head appointed afterwards
    from an earlier date would take it over in the rating, while the reprimand report
    still names the first: refused, with how to do it if the date is right."""
    issue = ["reprimand", "issue", "--kind", "phe-binh", "--head", "SXD"]
    city.ok(*issue, "--doc", "555/UBND", "--on", "10/09/2023")
    before = city.event_count()
    refused = city.fails("agency", "head", "SXD", "--name", "Hoàng Mới", "--from", "01/08/2023")
    assert "Văn bản 555/UBND gửi người đứng đầu SXD từ ngày 01/08/2023" in refused.stderr
    assert city.event_count() == before
    city.ok("agency", "head", "SXD", "--name", "Hoàng Mới", "--from", "11/09/2023")
    heads = {r["head"]: r for r in city.json("rating", "compute", "--year", "2023")}
    assert heads["Nguyễn Văn An"]["explanation"] != heads["Hoàng Mới"]["explanation"]
    assert any("555/UBND" in line for line in heads["Nguyễn Văn An"]["explanation"])
    assert not any("555/UBND" in line for line in heads["Hoàng Mới"]["explanation"])


def test_no_back_dated_deputy_over_a_criticism_that_did_not_reach_them(city):
    """A phê bình of the head reaches the deputy then in charge of its field, written
    into the document. A deputy appointed afterwards from an earlier date would be in
    charge that day, though the document names the one before: refused. A criticism
    that reaches no deputy anyway (a Vice-Chairman's, another field) is no obstacle."""
    issue = ["reprimand", "issue", "--kind", "phe-binh", "--head", "SXD"]
    city.ok(*issue, "--doc", "555/UBND", "--on", "10/09/2023", "--field", "Xây dựng")
    city.ok(*issue, "--doc", "556/UBND", "--on", "11/09/2023", "--field", "quy hoạch")
    city.ok(*issue, "--doc", "557/UBND", "--on", "12/09/2023", "--field", "xây dựng",
            "--issuer", "PCT UBND TP")  # fmt: skip
    deputy = ["agency", "deputy", "SXD", "--name", "Đỗ Văn Mới", "--field", "xây dựng"]
    before = city.event_count()
    refused = city.fails(*deputy, "--from", "01/08/2023")
    assert (
        "Lỗi: Văn bản 555/UBND phê bình người đứng đầu SXD từ ngày 01/08/2023 trở đi đã ghi, "
        "không kèm Đỗ Văn Mới"
    ) in refused.stderr
    assert city.event_count() == before
    city.ok(*deputy, "--from", "11/09/2023")
    city.ok("agency", "deputy", "SXD", "--name", "Vũ Thị Lan", "--field", "tài chính",
            "--from", "01/08/2023")  # fmt: skip
    reached = city.json("report", "reprimands", "--year", "2023")["criticism_documents"]
    deputies = {d["number"]: [t["person"] for t in d["targets"] if t["kind"] == "deputy"]
                for d in reached}  # fmt: skip
    assert (deputies["555/UBND"], deputies["556/UBND"]) == (["Trần Thị Bình"], [])


def test_no_retraction_gives_an_open_task_back_to_a_closed_agency(city):
    """Retracting a reassignment, or a merger's move of one task, gives the task back
    to the lead before: not to an agency merged since, that nobody answers for (the
    same reassignment typed as a command is refused)."""
    reassigned = assign(city, "--lead", "SKHDT", "--deadline", "30/09/2023")
    city.ok("task", "reassign", reassigned, "--lead", "SXD", "--on", "01/05/2023")
    moved = assign(city, "--lead", "SKHDT", "--deadline", "30/09/2023")
    done = assign(city, "--lead", "SKHDT", "--deadline", "30/09/2023")
    city.ok("task", "reassign", done, "--lead", "SXD", "--on", "01/05/2023")
    city.ok("task", "complete", done, "--on", "20/06/2023")
    city.ok("agency", "dissolve", "SKHDT", "--on", "01/07/2023", "--into", "STC", "--reason", "x")
    before = city.event_count()
    for task_id in (reassigned, moved):
        refused = city.fails("correct", f"{task_id}#2", "--reason", "Giao lại nhầm")
        assert f"sẽ trả nhiệm vụ {task_id} về SKHDT, mà cơ quan này đã sáp nhập" in refused.stderr
        assert f"nhiemvu task reassign {task_id} --lead" in refused.stderr
    assert city.event_count() == before
    assert [city.task(t)["leads"] for t in (reassigned, moved)] == [["SXD"], ["STC"]]
    # A task closed before the merger may be given back: its history changes, and
    # nobody has to answer for it now.
    city.ok("correct", f"{done}#2", "--reason", "Giao lại nhầm")
    assert city.task(done)["leads"] == ["SKHDT"]


def test_a_merger_cannot_move_a_task_before_it_came_to_the_agency(city):
    task_id = assign(city, "--lead", "STC", "--deadline", "30/06/2023")
    city.ok("task", "reassign", task_id, "--lead", "SXD", "--on", "01/04/2023")
    refused = city.fails(
        "agency", "dissolve", "SXD", "--on", "20/03/2023", "--reason", "x", "--into", "SKHDT"
    )
    assert f"{task_id} (từ 01/04/2023)" in refused.stderr
    city.ok("agency", "dissolve", "SXD", "--on", "02/04/2023", "--reason", "x", "--into", "SKHDT")
    assert city.task(task_id)["leads"] == ["SKHDT"]


def test_a_coordinator_made_to_lead_stops_coordinating(city):
    task_id = assign(city, "--lead", "SXD", "--coordinate", "STC", "--deadline", "30/06/2023")
    result = city.ok("task", "reassign", task_id, "--lead", "STC", "--on", "25/03/2023")
    assert "STC thôi là cơ quan phối hợp" in result.stderr
    shown = city.task(task_id)
    assert (shown["leads"], shown["coordinators"]) == (["STC"], [])
    # As of the day before, the task stood as assigned.
    before = city.task(task_id, "--as-of", "24/03/2023")
    assert (before["leads"], before["coordinators"]) == (["SXD"], ["STC"])


def test_show_list_and_history_render_for_people_and_scripts(city):
    task_id = assign(city, "--lead", "SXD", "--deadline", "31/03/2023", title="Lập quy hoạch")
    other = assign(city, "--lead", "STC", "--no-deadline", title="Thu ngân sách")
    city.ok("task", "complete", other, "--on", "01/04/2023")

    listed = city.json("task", "list", "--as-of", "15/04/2023")
    assert [(r["id"], r["status"], r["days_overdue"]) for r in listed] == [
        (task_id, "overdue", 15),
        (other, "done", 0),
    ]
    human = city.ok("task", "list", "--as-of", "15/04/2023").stdout
    assert "Lập quy hoạch" in human and "31/03/2023" in human and "Đang thực hiện, quá hạn" in human

    shown = city.ok("task", "show", task_id, "--as-of", "15/04/2023").stdout
    assert f"Nhiệm vụ {task_id}: Lập quy hoạch" in shown and "(15 ngày)" in shown

    # A title too long for the table is shortened there, visibly; the JSON keeps it whole.
    long_title = "Rà soát, cập nhật quy hoạch chung xây dựng thành phố đến năm 2040, tầm nhìn 2050"
    long_one = assign(city, "--lead", "SXD", "--no-deadline", title=long_title)
    table = city.ok("task", "list", "--agency", "SXD").stdout
    assert "Rà soát, cập nhật quy hoạch chung xây dựng thành phố đến…  SXD" in table
    assert long_title not in table
    whole = city.json("task", "list", "--agency", "SXD")
    assert [r["title"] for r in whole if r["id"] == long_one] == [long_title]

    history = city.json("task", "history", other)
    assert [(e["version"], e["type"], e["actor"], e["retracted"]) for e in history] == [
        (1, "task.assigned", "tester", False),
        (2, "task.completed", "tester", False),
    ]
    assert history[1]["data"] == {"on": "2023-04-01", "doc": None}
    assert history[1]["occurred_at"].startswith("2023-03-31T17:00:00")  # 01/04 00:00 ICT in UTC
    assert [(e["label"], e["on"], e["summary"]) for e in history] == [
        (
            "Giao nhiệm vụ",
            "2023-03-15",
            "chủ trì STC; không có thời hạn; 129/TB-UBND: Thu ngân sách",
        ),
        ("Hoàn thành", "2023-04-01", ""),
    ]
    table = city.ok("task", "history", other).stdout.splitlines()
    assert table[0].split() == ["#", "Ngày", "Sự", "việc", "Nội", "dung", "Ghi", "lúc", "Người", "ghi", "Mã", "sự", "kiện"]  # fmt: skip
    # recorded on the secretariat's clock (UTC+7), to the minute
    recorded = datetime.fromisoformat(history[1]["recorded_at"]).astimezone(LOCAL_TZ)
    assert table[3].split()[:3] == ["2", "01/04/2023", "Hoàn"]
    assert recorded.strftime("%d/%m/%Y %H:%M") in table[3]


# -- reprimands, commendations ---------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "kind"),
    [("nhac-nho", "nhac_nho"), ("rut-kinh-nghiem", "rut_kinh_nghiem"), ("phe-binh", "phe_binh")],
)
def test_reprimand_each_kind_to_an_agency_naming_a_task(city, flag, kind):
    task_id = assign(city, "--lead", "SXD", "--deadline", "31/03/2023")
    before = city.event_count()
    out = city.json(
        "reprimand",
        "issue",
        "--kind",
        flag,
        "--doc",
        "101/TB-VP",
        "--on",
        "10/04/2023",
        "--agency",
        "sxd",
        "--task",
        task_id,
        "--reason",
        "Chậm tiến độ",
        "--issuer",
        "Chủ tịch UBND thành phố",
    )
    assert city.event_count() == before + 1
    assert out["doc"] == "101/TB-VP"
    assert out["targets"] == [
        {"kind": "agency", "agency": "SXD", "person": None, "field": None, "cascaded": False}
    ]
    stored = city.event(out["event_id"])
    assert stored.type == "document.issued" and stored.stream_id == "document:101/TB-VP"
    assert stored.data["kind"] == kind and stored.data["tasks"] == [task_id]
    assert stored.data["issued_on"] == "2023-04-10" and stored.data["reason"] == "Chậm tiến độ"
    # The task now lists the document, but only from its date on.
    assert city.task(task_id)["documents"] == [
        {
            "event_id": out["event_id"],
            "number": "101/TB-VP",
            "kind": kind,
            "issued_on": "2023-04-10",
        }
    ]
    assert city.task(task_id, "--as-of", "09/04/2023")["documents"] == []


def test_reprimand_to_the_head_and_to_a_person(city):
    out = city.json(
        "reprimand",
        "issue",
        "--kind",
        "nhac-nho",
        "--doc",
        "7/TB-VP",
        "--on",
        "10/04/2023",
        "--head",
        "SXD",
        "--person",
        "Phạm Văn Dũng",
    )
    assert out["targets"] == [
        {
            "kind": "head",
            "agency": "SXD",
            "person": "Nguyễn Văn An",
            "field": None,
            "cascaded": False,
        },
        {
            "kind": "person",
            "agency": None,
            "person": "Phạm Văn Dũng",
            "field": None,
            "cascaded": False,
        },
    ]


def test_phe_binh_of_the_head_for_a_field_reaches_the_deputy(city):
    out = city.json(
        "reprimand",
        "issue",
        "--kind",
        "phe-binh",
        "--doc",
        "8/TB-VP",
        "--on",
        "10/04/2023",
        "--head",
        "sxd",
        "--field",
        "Xây Dựng",
    )
    expected = [
        {
            "kind": "head",
            "agency": "SXD",
            "person": "Nguyễn Văn An",
            "field": "Xây Dựng",
            "cascaded": False,
        },
        {
            "kind": "deputy",
            "agency": "SXD",
            "person": "Trần Thị Bình",
            "field": "xây dựng",
            "cascaded": True,
        },
    ]
    assert out["targets"] == expected
    # The cascade is resolved once and written into the event itself.
    assert city.event(out["event_id"]).data["targets"] == expected
    human = city.ok(
        "reprimand",
        "issue",
        "--kind",
        "phe-binh",
        "--doc",
        "9/TB-VP",
        "--on",
        "11/04/2023",
        "--head",
        "SXD",
        "--field",
        "xây dựng",
    ).stdout
    assert "Cấp phó: SXD — Trần Thị Bình (kéo theo" in human


def test_no_cascade_before_the_notice_that_brought_it_in(city):
    # TB 129/TB-UBND of 05/04/2023 §2.8: a phê bình issued the day before reaches
    # only the head it names.
    out = city.json(
        "reprimand",
        "issue",
        "--kind",
        "phe-binh",
        "--doc",
        "7/TB-VP",
        "--on",
        "04/04/2023",
        "--head",
        "SXD",
        "--field",
        "xây dựng",
    )
    assert [(x["kind"], x["person"]) for x in out["targets"]] == [("head", "Nguyễn Văn An")]
    assert city.event(out["event_id"]).data["targets"] == out["targets"]


@pytest.mark.parametrize(
    "issuer",
    [
        "Phó Chủ tịch UBND thành phố Lê Khắc Nam",
        "PCT UBND TP",
        "P.Chủ tịch UBND TP",
        "Thành ủy Hải Phòng",
        "Chủ tịch HĐND thành phố",
        "Chủ tịch UBND quận Lê Chân",
        "Chủ tịch Ủy ban MTTQ Việt Nam thành phố",
    ],
)
def test_no_cascade_when_someone_else_than_the_chairman_criticises(city, issuer):
    issue = ["reprimand", "issue", "--kind", "phe-binh", "--on", "10/04/2023", "--head", "SXD"]
    by_vice = city.run(*issue, "--field", "xây dựng", "--doc", "12/TB-VP", "--json",
                       "--issuer", issuer)  # fmt: skip
    assert by_vice.exit_code == 0, by_vice.stderr
    assert [x["kind"] for x in json.loads(by_vice.stdout)["targets"]] == ["head"]
    assert "chỉ khi Chủ tịch UBND thành phố phê bình" in by_vice.stderr
    by_chairman = city.json(*issue, "--field", "xây dựng", "--doc", "13/TB-VP",
                            "--issuer", "Chủ tịch UBND thành phố")  # fmt: skip
    assert [x["kind"] for x in by_chairman["targets"]] == ["head", "deputy"]


def test_a_chairman_named_dang_or_uy_is_the_chairman(city):
    """Folded, the surname Đặng reads "dang" as Đảng (the Party) does, and the given
    name Uy as "ủy" (Thành ủy): a Chairman so named was taken for the Party."""
    issue = ["reprimand", "issue", "--kind", "phe-binh", "--on", "10/04/2023", "--head", "SXD"]
    for n, issuer in enumerate(("Chủ tịch UBND thành phố Đặng Văn Hùng", "Chủ tịch UBND TP Hà Uy")):
        out = city.run(*issue, "--field", "xây dựng", "--doc", f"2{n}/TB-VP", "--json",
                       "--issuer", issuer)  # fmt: skip
        assert out.exit_code == 0, out.stderr
        assert [x["kind"] for x in json.loads(out.stdout)["targets"]] == ["head", "deputy"]
        assert "chỉ khi Chủ tịch" not in out.stderr


@pytest.mark.parametrize(
    ("issuer", "chairman"),
    [
        ("Thành uỷ Hải Phòng", False),  # the older placement of the tone mark
        ("thanh uy Hai Phong", False),  # no diacritics at all
        ("Ban Thường vụ Thành ủy", False),
        ("Đảng ủy Khối các cơ quan thành phố", False),
        ("BCH Đảng bộ thành phố", False),
        ("Dang uy khoi", False),
        ("Chủ tịch UBND thành phố Đặng Uy", True),
        ("Chủ tịch Ủy ban nhân dân thành phố Đăng Khoa", True),
        ("Chu tich UBND thanh pho Dang Van Hung", True),
    ],
)
def test_the_party_is_told_from_a_name(issuer, chairman):
    from workflow.documents import by_the_chairman

    assert by_the_chairman(issuer) is chairman


def test_a_field_is_warned_of_where_no_rulebook_cascades():
    from dataclasses import replace

    from workflow.documents import Addressees, field_reaching_no_one
    from workflow.rulebook import rulebook_in_force

    to_the_head = Addressees(heads=("SXD",))
    (none,) = field_reaching_no_one(
        "phe_binh", to_the_head, "xây dựng", date(2018, 5, 2), None, None
    )
    assert "ngày 02/05/2018 không có sổ quy tắc nào có hiệu lực" in none
    book = replace(rulebook_in_force(date(2024, 5, 2)), cascade_phe_binh_to_deputy=False)
    (off,) = field_reaching_no_one(
        "phe_binh", to_the_head, "xây dựng", date(2024, 5, 2), None, book
    )
    assert f"theo sổ quy tắc {book.name}, có hiệu lực ngày 02/05/2024, phê bình người" in off
    assert field_reaching_no_one("phe_binh", to_the_head, None, date(2024, 5, 2), None, book) == []


def test_a_head_addressed_by_name_is_warned_of(city):
    """A document to a person counts for nobody's score: to a head named with --person
    instead of --head, it is said at once, with how to record it again."""
    issue = ["reprimand", "issue", "--kind", "phe-binh", "--on", "10/04/2023"]
    by_name = city.run(*issue, "--doc", "30/TB-VP", "--person", "nguyễn văn an")
    assert by_name.exit_code == 0, by_name.stderr
    assert "nguyễn văn an là người đứng đầu SXD vào ngày 10/04/2023" in by_name.stderr
    assert "ghi lại với --head SXD" in by_name.stderr
    for n, others in enumerate((["--person", "Trần Thị Bình"], ["--head", "SXD", "--person",
                                                               "Nguyễn Văn An"])):  # fmt: skip
        quiet = city.run(*issue, "--doc", f"3{n + 1}/TB-VP", *others)
        assert quiet.exit_code == 0 and "người đứng đầu" not in quiet.stderr, quiet.stderr
    earlier = ["reprimand", "issue", "--kind", "phe-binh", "--on", "10/04/2022"]
    before = city.run(*earlier, "--doc", "34/TB-VP", "--person", "Nguyễn Văn An")
    assert before.exit_code == 0, before.stderr
    assert "người đứng đầu" not in before.stderr  # not yet head on that day


def test_no_cascade_for_a_milder_kind_or_a_field_without_deputy(city):
    milder = city.json(
        "reprimand",
        "issue",
        "--kind",
        "nhac-nho",
        "--doc",
        "10/TB-VP",
        "--on",
        "10/04/2023",
        "--head",
        "SXD",
        "--field",
        "xây dựng",
    )
    assert [x["kind"] for x in milder["targets"]] == ["head"]
    result = city.ok(
        "reprimand",
        "issue",
        "--kind",
        "phe-binh",
        "--doc",
        "11/TB-VP",
        "--on",
        "10/04/2023",
        "--head",
        "SXD",
        "--field",
        "giao thông",
        "--json",
    )
    assert [x["kind"] for x in json.loads(result.stdout)["targets"]] == ["head"]
    # The user is told that nobody else was criticised.
    assert "Lưu ý:" in result.stderr and "giao thông" in result.stderr


@pytest.mark.parametrize(
    ("kind", "on", "addressee", "why"),
    [
        # To the agency alone: no head is criticised, so no deputy with him.
        ("phe-binh", "10/04/2023", "--agency", "văn bản không gửi người đứng đầu nào (--head)"),
        # A milder kind: §2.8 cascades a phê bình only.
        ("nhac-nho", "10/04/2023", "--head", "văn bản nhắc nhở không phê bình cấp phó"),
        # Before TB 129/TB-UBND of 05/04/2023 brought the cascade in.
        ("phe-binh", "04/04/2023", "--head", "văn bản ngày 04/04/2023, trước ngày 05/04/2023"),
    ],
)
def test_a_field_that_reaches_no_deputy_is_warned_of(city, kind, on, addressee, why):
    """--field is recorded with the document all the same, but the clerk who typed it
    expected a deputy criticised too: told why nobody is, as for a Vice-Chairman's."""
    before = city.event_count()
    result = city.ok("reprimand", "issue", "--kind", kind, "--doc", "40/TB-VP", "--on", on,
                     addressee, "SXD", "--field", "xây dựng", "--json")  # fmt: skip
    assert city.event_count() == before + 1
    out = json.loads(result.stdout)
    stored = city.event(out["event_id"]).data
    assert stored["field"] == "xây dựng"
    assert [x["kind"] for x in stored["targets"]] == [addressee[2:]]  # no deputy
    assert f"Lưu ý: Lĩnh vực 'xây dựng' (--field) không kéo theo ai: {why}" in result.stderr
    assert result.stderr.count("Lưu ý:") == 1
    if addressee == "--agency":
        assert "ghi lại với --head SXD." in result.stderr
    # What does reach the deputy is not warned of.
    reached = city.ok("reprimand", "issue", "--kind", "phe-binh", "--doc", "41/TB-VP", "--on",
                      "10/04/2023", "--head", "SXD", "--field", "xây dựng")  # fmt: skip
    assert "Cấp phó: SXD — Trần Thị Bình" in reached.stdout and reached.stderr == ""


def test_commend(city):
    task_id = assign(city, "--lead", "STC", "--deadline", "31/03/2023")
    out = city.json(
        "commend",
        "--doc",
        "12/TB-VP",
        "--on",
        "05/04/2023",
        "--agency",
        "STC",
        "--head",
        "SXD",
        "--task",
        task_id,
    )
    assert [(x["kind"], x["agency"], x["person"]) for x in out["targets"]] == [
        ("agency", "STC", None),
        ("head", "SXD", "Nguyễn Văn An"),
    ]
    assert city.event(out["event_id"]).data["kind"] == "bieu_duong"
    assert [d["kind"] for d in city.task(task_id)["documents"]] == ["bieu_duong"]


# -- corrections ------------------------------------------------------------------------


def test_correct_a_wrong_completion_reopens_the_task(city):
    task_id = assign(city, "--lead", "SXD", "--deadline", "31/03/2023")
    city.ok("task", "complete", task_id, "--on", "20/03/2023")
    wrong = city.json("task", "history", task_id)[-1]
    assert wrong["type"] == "task.completed"
    # A second completion is refused with the command that would set the first aside.
    again = city.fails("task", "complete", task_id, "--on", "05/04/2023")
    assert f"`nhiemvu correct {wrong['id']} --reason …`" in again.stderr

    before = city.event_count()
    city.ok("correct", wrong["id"], "--reason", "Ghi nhầm nhiệm vụ")
    assert city.event_count() == before + 1  # nothing is deleted, one event is added

    task = city.task(task_id, "--as-of", "10/04/2023")
    assert task["completed_on"] is None and task["status"] == "overdue"

    history = city.json("task", "history", task_id)
    original = next(e for e in history if e["id"] == wrong["id"])
    assert original["retracted"] is True and original["data"] == wrong["data"]
    retraction = history[-1]
    assert retraction["type"] == "event.retracted" and original["retracted_by"] == retraction["id"]
    assert retraction["data"]["event_id"] == wrong["id"]
    assert retraction["data"]["reason"] == "Ghi nhầm nhiệm vụ"

    # The way is clear for the right completion.
    city.ok("task", "complete", task_id, "--on", "05/04/2023")
    task = city.task(task_id)
    assert task["completed_on"] == "2023-04-05" and task["status"] == "done_late"
    # Retracting the same event twice is refused.
    city.fails("correct", wrong["id"], "--reason", "lần nữa")


def test_correct_an_event_by_its_number_in_the_task_history(city):
    task_id = assign(city, "--lead", "SXD", "--deadline", "31/03/2023")
    city.ok("task", "progress", task_id, "--percent", "40", "--on", "20/03/2023")
    city.ok("task", "extend", task_id, "--to", "30/06/2023", "--on", "25/03/2023")
    extension = city.json("task", "history", task_id)[2]
    before = city.event_count()

    done = city.ok("correct", f"{task_id.lower()} #3", "--reason", "Chưa được duyệt")
    assert done.stdout == f"Đã rút lại sự kiện {extension['id']} (Gia hạn).\n"
    assert city.event_count() == before + 1
    history = city.json("task", "history", task_id)
    assert [e["retracted"] for e in history] == [False, False, True, False]
    assert history[3]["summary"] == "#3 (Gia hạn): Chưa được duyệt"
    assert city.task(task_id, "--as-of", "01/04/2023")["status"] == "overdue"

    for reference, fragment in (
        (f"{task_id}#5", f"Nhiệm vụ {task_id} không có sự kiện #5: các số thứ tự là 1–4"),
        (f"{task_id}#0", "không có sự kiện #0"),
        (f"{task_id}#ba", "không phải số thứ tự sự kiện"),
        # Digits to str.isdigit(), not to people: '²' crashed int(), '٣' read as 3.
        (f"{task_id}#²", f"'{task_id}#²' không phải số thứ tự sự kiện"),
        (f"{task_id}#٣", f"'{task_id}#٣' không phải số thứ tự sự kiện"),
        ("NV-09999#1", "Không tìm thấy nhiệm vụ hoặc cơ quan 'NV-09999'"),
        ("#3", "'#3' không phải số thứ tự sự kiện: hãy viết mã nhiệm vụ hoặc mã cơ quan, dấu #"),
        (f"{task_id}#4", "Không rút lại một sự kiện điều chỉnh"),
    ):
        refused = city.fails("correct", reference, "--reason", "x")
        assert fragment in refused.stderr, (reference, refused.stderr)


def test_correct_an_agency_event_by_its_number_in_the_agency_history(city):
    """`agency history` numbers the events as `task history` does: SXD#3 is its third."""
    deputy = city.json("agency", "history", "SXD")[2]
    assert deputy["type"] == "agency.deputy_appointed"
    before = city.event_count()
    done = city.ok("correct", "sxd #3", "--reason", "Ghi nhầm cấp phó")
    assert done.stdout == f"Đã rút lại sự kiện {deputy['id']} (Ghi cấp phó).\n"
    assert city.event_count() == before + 1
    assert [e["retracted"] for e in city.json("agency", "history", "SXD")] == [
        False, False, True, False,
    ]  # fmt: skip
    assert city.json("agency", "list")[2]["deputies"] == []  # SKHDT, STC, SXD
    for reference, fragment in (
        ("SXD#9", "Lỗi: Cơ quan SXD không có sự kiện #9: các số thứ tự là 1–4 (xem `nhiemvu "
                  "agency history SXD`)."),
        ("SXDD#2", "Lỗi: Không tìm thấy nhiệm vụ hoặc cơ quan 'SXDD'. Có phải ý bạn là: SXD?"),
        ("SXD#3", f"Sự kiện {deputy['id']} đã được rút lại trước đó."),
    ):  # fmt: skip
        refused = city.fails("correct", reference, "--reason", "x")
        assert fragment in refused.stderr, (reference, refused.stderr)
    # A task given an agency's code as its id: SXD#1 could be either.
    task_id = assign(city, "--lead", "STC", "--no-deadline", "--id", "sxd")
    assignment = city.json("task", "history", task_id)[0]["id"]
    refused = city.fails("correct", "SXD#1", "--reason", "x")
    registration = city.json("agency", "history", "SXD")[0]["id"]
    assert refused.stderr == (
        "Lỗi: SXD vừa là mã nhiệm vụ vừa là mã cơ quan: chưa rõ 'SXD#1' là sự kiện nào. Hãy "
        f"ghi mã sự kiện ({assignment} của nhiệm vụ hoặc {registration} của cơ quan): xem "
        "`nhiemvu task history SXD` và `nhiemvu agency history SXD`.\n"
    )


def test_correct_a_document_or_a_directive_by_its_number(city):
    """The clerk has the number of the document recorded by mistake at hand."""
    issue = ["reprimand", "issue", "--kind", "nhac-nho", "--agency", "SXD"]
    document = city.json(*issue, "--doc", "20/TB-VP", "--on", "10/04/2023")["event_id"]
    before = city.event_count()
    done = city.ok("correct", " 20/tb-vp ", "--reason", "Gửi nhầm cơ quan")
    assert done.stdout.startswith(f"Đã rút lại sự kiện {document} (Văn bản nhắc nhở")
    assert city.event_count() == before + 1
    assert city.json("report", "reprimands", "--year", "2023")["reminder_docs"] == 0
    again = city.fails("correct", "20/TB-VP", "--reason", "x")
    assert f"Sự kiện {document} đã được rút lại trước đó." in again.stderr
    # Recorded again under its number: the number names the one not retracted.
    right = city.json(*issue[:-1], "STC", "--doc", "20/TB-VP", "--on", "10/04/2023")
    city.ok("correct", "20/TB-VP", "--reason", "Ghi nhầm lần nữa")
    assert city.event(right["event_id"]).stream_id == city.event(document).stream_id
    assert city.json("report", "reprimands", "--year", "2023")["reminder_docs"] == 0

    registered = city.json("directive", "add", "6/KH-UBND", "--date", "01/04/2023",
                           "--title", "KH")["events"][0]  # fmt: skip
    done = city.ok("correct", "6/kh-ubnd", "--reason", "Sai ngày")
    assert done.stdout == f"Đã rút lại sự kiện {registered} (Ghi văn bản chỉ đạo).\n"
    assert [r["number"] for r in city.json("directive", "list")] == [DIRECTIVE]
    # Its checks stay: a directive with tasks is not retracted, by number either.
    task_id = assign(city, "--lead", "SXD", "--no-deadline")
    refused = city.fails("correct", DIRECTIVE.lower(), "--reason", "x")
    assert refused.stderr.startswith(
        f"Lỗi: Không rút lại được việc ghi văn bản {DIRECTIVE}: còn 1 nhiệm vụ giao theo văn "
        f"bản này ({task_id})."
    )


def test_a_number_naming_several_documents_says_which_and_how_to_pick(city):
    issue = ["reprimand", "issue", "--kind", "nhac-nho", "--agency", "SXD", "--doc", "7/UBND"]
    first = city.json(*issue, "--on", "10/04/2023")["event_id"]
    second = city.json(*issue, "--on", "10/04/2024")["event_id"]
    refused = city.fails("correct", "7/ubnd", "--reason", "x")
    assert refused.stderr == (
        f"Lỗi: Số 7/ubnd là của 2 văn bản chưa rút lại: văn bản 7/UBND ngày 10/04/2023 (mã sự "
        f"kiện {first}); văn bản 7/UBND (2024) ngày 10/04/2024 (mã sự kiện {second}). Hãy ghi "
        'số kèm năm (ví dụ `nhiemvu correct "7/ubnd (2024)" --reason …`) hoặc mã sự kiện của '
        "văn bản cần rút lại.\n"
    )
    done = city.ok("correct", "7/UBND (2024)", "--reason", "Ghi nhầm")
    assert done.stdout.startswith(f"Đã rút lại sự kiện {second} ")
    # The year also names a document keyed by its number alone, and the one left is
    # named by the number alone now.
    city.json(*issue, "--on", "11/04/2024")
    done = city.ok("correct", "7/UBND (2023)", "--reason", "Ghi nhầm")
    assert done.stdout.startswith(f"Đã rút lại sự kiện {first} ")
    # A directive with a document's number, of the same year: only the ids tell them.
    directive = city.json("directive", "add", "7/UBND", "--date", "01/04/2024", "--title", "KH")
    refused = city.fails("correct", "7/UBND (2024)", "--reason", "x")
    assert f"văn bản chỉ đạo 7/UBND ngày 01/04/2024 (mã sự kiện {directive['events'][0]})" in (
        refused.stderr
    )
    assert refused.stderr.endswith("Hãy ghi mã sự kiện của văn bản cần rút lại.\n")


def test_an_unknown_reference_names_every_way_to_name_an_event(city):
    refused = city.fails("correct", "999/UBND-TH", "--reason", "x")
    assert refused.stderr == (
        "Lỗi: Không tìm thấy sự kiện hoặc văn bản '999/UBND-TH'. Hãy ghi mã sự kiện; số văn bản "
        "nhắc nhở, phê bình, biểu dương (`nhiemvu report reprimands`) hoặc số văn bản chỉ đạo "
        "(`nhiemvu directive list`); MÃ_NV#N, sự kiện thứ N trong `nhiemvu task history MÃ_NV`; "
        "hoặc MÃ_CQ#N, trong `nhiemvu agency history MÃ_CQ`.\n"
    )


def test_extensions_are_recorded_in_the_order_they_were_approved(city):
    """One approved in time (25/03, to 05/05) recorded after one approved late (10/04):
    it was scored late, the task overdue from 10/04 while escalation went by 05/05.
    Refused, with how to record both in order; then the task completed on 04/05 is on
    time."""
    task_id = assign(city, "--lead", "SXD", "--deadline", "31/03/2023")
    city.ok("task", "extend", task_id, "--to", "30/04/2023", "--on", "10/04/2023", "--reason", "x")
    refused = city.fails("task", "extend", task_id, "--to", "05/05/2023", "--on", "25/03/2023",
                         "--reason", "Duyệt 25/03, công văn đến muộn")  # fmt: skip
    assert (
        "Ngày phê duyệt 25/03/2023 trước lần gia hạn đã ghi (phê duyệt ngày 10/04/2023, đến "
        "30/04/2023): các lần gia hạn phải ghi theo thứ tự ngày phê duyệt."
    ) in refused.stderr
    city.ok("correct", f"{task_id}#2", "--reason", "Ghi trước lần duyệt sớm hơn")
    city.ok("task", "extend", task_id, "--to", "05/05/2023", "--on", "25/03/2023", "--reason", "y")
    city.ok("task", "complete", task_id, "--on", "04/05/2023")
    assert city.task(task_id)["status"] == "done_on_time"


def test_correct_a_wrong_extension_restores_the_deadline(city):
    task_id = assign(city, "--lead", "SXD", "--deadline", "31/03/2023")
    city.ok("task", "extend", task_id, "--to", "30/06/2023", "--on", "20/03/2023")
    ext = city.json("task", "history", task_id)[-1]
    city.ok("correct", ext["id"], "--reason", "Chưa được duyệt")
    task = city.task(task_id, "--as-of", "01/04/2023")
    assert task["deadline"] == task["current_deadline"] == "2023-03-31"
    assert task["extensions"] == [] and task["status"] == "overdue"


def test_correct_a_wrong_assignment_removes_the_task(city):
    out = city.json(
        "task", "assign", "--directive", DIRECTIVE, "--title", "Giao nhầm", "--lead", "SXD",
        "--deadline", "31/03/2023",
    )  # fmt: skip
    city.ok("correct", out["event_id"], "--reason", "Giao nhầm đơn vị")
    assert city.json("task", "list", "--as-of", "01/04/2023") == []
    gone = city.fails("task", "show", out["id"])
    assert f"Nhiệm vụ {out['id']} không còn: việc giao nhiệm vụ này đã được rút lại" in gone.stderr
    # The id is not handed out again: the log still holds its stream.
    assert assign(city, "--lead", "SXD", "--no-deadline") == "NV-00002"


def test_history_of_a_task_whose_assignment_was_retracted_still_shows_it(city):
    out = city.json(
        "task", "assign", "--directive", DIRECTIVE, "--title", "Giao nhầm", "--lead", "SXD",
        "--deadline", "31/03/2023",
    )  # fmt: skip
    city.ok("correct", out["event_id"], "--reason", "Giao nhầm đơn vị")
    history = city.json("task", "history", out["id"])
    assert [(e["type"], e["retracted"]) for e in history] == [
        ("task.assigned", True),
        ("event.retracted", False),
    ]


def stream_events(nv: Nhiemvu, stream_id: str) -> list:
    engine = nv.engine()
    try:
        return EventStore(engine, REGISTRY).read_stream(stream_id)
    finally:
        engine.dispose()


def test_a_directive_is_retracted_only_without_tasks_and_can_then_be_registered_again(city):
    registered = city.json("directive", "add", "5/KH-UBND", "--date", "01/04/2023", "--title", "KH")
    given = ["task", "assign", "--directive", "5/KH-UBND", "--title", "Triển khai", "--lead", "SXD"]
    task_id = city.json(*given, "--no-deadline")["id"]

    refused = city.fails("correct", registered["events"][0], "--reason", "Sai ngày")
    assert refused.stderr == (
        f"Lỗi: Không rút lại được việc ghi văn bản 5/KH-UBND: còn 1 nhiệm vụ giao theo văn bản "
        f"này ({task_id}). Hãy rút lại việc giao các nhiệm vụ đó trước, ví dụ "
        f"`nhiemvu correct {task_id}#1 --reason …`.\n"
    )
    city.ok("correct", f"{task_id}#1", "--reason", "Giao nhầm văn bản")
    done = city.ok("correct", registered["events"][0], "--reason", "Sai ngày")
    assert done.stdout == f"Đã rút lại sự kiện {registered['events'][0]} (Ghi văn bản chỉ đạo).\n"
    assert [r["number"] for r in city.json("directive", "list")] == [DIRECTIVE]

    # Registered again, on the same stream after the retraction, with the right date.
    before = city.event_count()
    again = city.json("directive", "add", "5/kh-ubnd", "--date", "03/04/2023", "--title", "KH")
    assert again["stream"] == registered["stream"] and city.event_count() == before + 1
    assert [e.stream_version for e in stream_events(city, again["stream"])] == [1, 2, 3]
    listed = {r["number"]: r["issued_on"] for r in city.json("directive", "list")}
    assert listed == {DIRECTIVE: "2023-03-15", "5/kh-ubnd": "2023-04-03"}
    new_task = city.json(*given, "--no-deadline")["id"]
    shown = city.json("task", "list", "--directive", "5/KH-UBND", "--as-of", "04/04/2023")
    assert [r["id"] for r in shown] == [new_task]
    refused = city.fails("directive", "add", "5/KH-UBND", "--date", "03/04/2023", "--title", "KH")
    assert "Văn bản 5/kh-ubnd đã được ghi (ngày 03/04/2023)" in refused.stderr  # as registered


def test_a_directive_retracted_under_its_tasks_in_older_data_can_be_registered_again(city):
    task_id = assign(city, "--lead", "SXD", "--deadline", "31/03/2023")
    stream = f"directive:{DIRECTIVE}"
    registration = stream_events(city, stream)[0]
    engine = city.engine()
    try:  # as a version without the rule wrote it
        EventStore(engine, REGISTRY).append(
            stream,
            [
                NewEvent(
                    "event.retracted",
                    {"event_id": registration.event_id, "event_type": registration.type},
                    datetime.now(LOCAL_TZ),
                )
            ],
            expected_version=1,
        )
    finally:
        engine.dispose()
    assert city.json("directive", "list") == []

    city.ok("directive", "add", DIRECTIVE, "--date", "15/03/2023", "--title", "Kết luận")
    shown = city.json("task", "list", "--directive", DIRECTIVE, "--as-of", "01/04/2023")
    assert [r["id"] for r in shown] == [task_id]
    assert assign(city, "--lead", "STC", "--no-deadline") == "NV-00002"


def test_an_agency_is_retracted_only_when_nothing_names_it_and_can_then_be_registered_again(city):
    registered = city.json("agency", "add", "SYT", "--name", "Sở Y tá", "--kind", "so")["events"]
    city.ok("agency", "head", "SYT", "--name", "Lê Văn D", "--from", "01/02/2023")
    task_id = assign(city, "--lead", "SXD", "--coordinate", "SYT", "--no-deadline")
    doc = city.json("commend", "--doc", "7/TB-VP", "--on", "02/04/2023", "--agency", "SYT")
    city.ok(
        "assess", "syt", "--year", "2023", "--criterion", "phoi_hop", "--points", "8",
        "--reason", "Chậm phối hợp",
    )  # fmt: skip
    city.ok("agency", "dissolve", "SKHDT", "--on", "01/03/2023", "--reason", "x", "--into", "SYT")

    refused = city.fails("correct", registered[0], "--reason", "Sai tên")
    assert refused.stderr == (
        "Lỗi: Không rút lại được việc đăng ký cơ quan SYT: cơ quan này còn được nhắc đến ở "
        f"nhiệm vụ (chủ trì hoặc phối hợp) {task_id}; văn bản 7/TB-VP; đánh giá năm 2023 "
        "(phoi_hop); cơ quan sáp nhập vào nó SKHDT. Hãy rút lại những sự kiện đó trước. Việc "
        "sáp nhập SKHDT vào SYT: mã sự kiện trong `nhiemvu agency history SKHDT`; rút lại nó "
        "cũng rút lại các lần chuyển nhiệm vụ nó đã ghi. Nếu chỉ ghi sai tên, hãy dùng "
        "`nhiemvu agency rename`.\n"
    )
    for event_id in (
        stream_events(city, f"task:{task_id}")[0].event_id,
        doc["event_id"],
        stream_events(city, "assessment:SYT:2023")[0].event_id,
        stream_events(city, "agency:SKHDT")[-1].event_id,
    ):
        city.ok("correct", event_id, "--reason", "Ghi nhầm")
    # The agency's own later events go first: left standing, they would count for nothing
    # and come back unseen with a new registration of the code.
    before = city.event_count()
    refused = city.fails("correct", registered[0], "--reason", "Sai tên")
    assert (
        "Lỗi: Không rút lại được việc đăng ký cơ quan SYT: còn những sự kiện ghi sau đó: #2 "
        "ghi người đứng đầu. Hãy rút lại những sự kiện đó trước, từ sau ra trước"
    ) in refused.stderr
    assert city.event_count() == before
    city.ok("correct", stream_events(city, "agency:SYT")[1].event_id, "--reason", "Ghi nhầm")
    done = city.ok("correct", registered[0], "--reason", "Sai tên")
    assert done.stdout == f"Đã rút lại sự kiện {registered[0]} (Đăng ký cơ quan).\n"
    assert "SYT" not in [r["code"] for r in city.json("agency", "list")]

    # Registered again: a new agency, with nothing of the old one.
    city.ok("agency", "add", "SYT", "--name", "Sở Y tế", "--kind", "so")
    syt = {r["code"]: r for r in city.json("agency", "list")}["SYT"]
    assert (syt["name"], syt["heads"]) == ("Sở Y tế", [])
    new_task = assign(city, "--lead", "SYT", "--no-deadline")
    listed = city.json("task", "list", "--agency", "SYT", "--as-of", "01/04/2023")
    assert [r["id"] for r in listed] == [new_task]
    refused = city.fails("agency", "add", "syt", "--name", "Sở Y tế", "--kind", "so")
    assert "Cơ quan SYT đã được đăng ký" in refused.stderr

    # The projection a rebuild gives is the one the commands left.
    kept = snapshot_projections(city.db_url)
    city.ok("projections", "rebuild")
    assert snapshot_projections(city.db_url) == kept


def test_correct_a_document_removes_it_from_the_task(city):
    task_id = assign(city, "--lead", "SXD", "--deadline", "31/03/2023")
    out = city.json(
        "reprimand",
        "issue",
        "--kind",
        "nhac-nho",
        "--doc",
        "13/TB-VP",
        "--on",
        "02/04/2023",
        "--agency",
        "SXD",
        "--task",
        task_id,
    )
    done = city.ok("correct", out["event_id"], "--reason", "Nhầm số")
    assert done.stdout == (
        f"Đã rút lại sự kiện {out['event_id']} "
        "(Văn bản nhắc nhở, rút kinh nghiệm, phê bình hoặc biểu dương).\n"
    )
    assert city.task(task_id)["documents"] == []


def test_the_reprimand_report_shows_the_id_correct_takes(city):
    issue = ["reprimand", "issue", "--kind", "nhac-nho", "--on", "02/04/2023"]
    first = city.json(*issue, "--doc", "15/TB-VP", "--agency", "SXD")["event_id"]
    second = city.json(*issue, "--doc", "16/TB-VP", "--agency", "STC")["event_id"]
    text = city.ok("report", "reprimands", "--year", "2023").stdout
    heading, rule, *rows = text.split("\n\n", 1)[1].splitlines()
    assert heading.split() == [
        "Số",
        "văn",
        "bản",
        "Loại",
        "Ngày",
        "Nơi",
        "nhận",
        "Mã",
        "sự",
        "kiện",
    ]
    assert [row.split() for row in rows] == [
        ["15/TB-VP", "Nhắc", "nhở", "02/04/2023", "SXD", first],
        ["16/TB-VP", "Nhắc", "nhở", "02/04/2023", "STC", second],
    ]
    city.ok("correct", rows[1].split()[-1], "--reason", "Gửi nhầm cơ quan")
    numbers = [d["number"] for d in city.json("report", "reprimands", "--year", "2023")[
        "reminder_documents"]]  # fmt: skip
    assert numbers == ["15/TB-VP"]


def test_a_retracted_document_can_be_recorded_again_under_its_number(city):
    task_id = assign(city, "--lead", "SXD", "--deadline", "31/03/2023")
    issue = ("reprimand", "issue", "--kind", "nhac-nho", "--doc", "14/TB-VP", "--task", task_id)
    wrong = city.json(*issue, "--on", "02/04/2023", "--agency", "STC")
    refused = city.fails(*issue, "--on", "03/04/2023", "--agency", "SXD")
    assert "Văn bản số 14/TB-VP đã được ghi" in refused.stderr
    city.ok("correct", wrong["event_id"], "--reason", "Ghi nhầm nơi nhận")
    # The same number in another case is the same document.
    again = city.json(*issue[:5], "14/tb-vp", *issue[6:], "--on", "03/04/2023", "--agency", "SXD")
    assert city.event(again["event_id"]).stream_id == city.event(wrong["event_id"]).stream_id
    (document,) = city.json("report", "reprimands", "--year", "2023")["reminder_documents"]
    assert (document["issued_on"], document["targets"][0]["agency"]) == ("2023-04-03", "SXD")
    assert [d["issued_on"] for d in city.task(task_id)["documents"]] == ["2023-04-03"]
    rows = snapshot_projections(city.db_url)
    city.ok("projections", "rebuild", "--workers", "1")
    assert snapshot_projections(city.db_url) == rows
    # And once more is refused again.
    assert "đã được ghi" in city.fails(*issue, "--on", "04/04/2023", "--agency", "SXD").stderr


# -- events verify, projections rebuild ---------------------------------------------------


def test_events_verify_ok(city):
    count = city.event_count()
    result = city.ok("events", "verify")
    assert f"đã kiểm tra {count} sự kiện" in result.stdout
    verified = city.json("events", "verify")
    last_hash = verified.pop("last_hash")
    assert verified == {
        "ok": True,
        "unguarded": [],
        "checked": count,
        "broken_position": None,
        "reason": None,
        "expected_hash_position": None,
    }
    # The hash to note elsewhere, and to check against later.
    assert f"\nMã băm cuối: {last_hash}\n" in result.stdout
    assert (
        city.json("events", "verify", "--expect-hash", last_hash)["expected_hash_position"] == count
    )
    refused = city.fails("events", "verify", "--expect-hash", "0" * 64)
    assert "không có sự kiện nào mang mã băm đối chiếu" in refused.stderr
    # A hash copied badly is a usage error, not a log found rewritten.
    for typed in (f"{last_hash}.", "abc"):
        mistyped = city.fails("events", "verify", "--expect-hash", typed, code=2)
        assert f"'{typed}' không phải mã băm" in mistyped.stderr
        assert "KHÔNG toàn vẹn" not in mistyped.stderr


def test_events_verify_names_the_position_of_a_row_edited_behind_its_back(city):
    assert city.event_count() >= 4
    engine = city.engine()
    try:
        with engine.begin() as connection:
            # What someone with direct database access would do: drop the guard, edit.
            if engine.dialect.name == "postgresql":
                connection.exec_driver_sql("DROP TRIGGER events_no_update ON events")
            else:
                connection.exec_driver_sql("DROP TRIGGER events_no_update")
            connection.execute(sa.text("UPDATE events SET actor = 'kẻ gian' WHERE position = 3"))
    finally:
        engine.dispose()

    result = city.fails("events", "verify")
    assert "KHÔNG toàn vẹn" in result.stderr and "vị trí 3" in result.stderr
    as_json = city.fails("events", "verify", "--json")
    data = json.loads(as_json.stdout)
    assert data["ok"] is False and data["broken_position"] == 3 and data["checked"] == 2


def test_events_verify_says_the_log_is_unguarded_and_init_guards_it_again(city):
    """Dropped, disabled, set to fire for replication only, or made again to do nothing,
    the triggers no longer make the database refuse an UPDATE or a DELETE of an event:
    the chain may still hold, but verify says so, and init puts them back."""
    engine = city.engine()
    postgresql = engine.dialect.name == "postgresql"
    with engine.begin() as connection:
        if postgresql:
            for statement in (
                "ALTER TABLE events ENABLE REPLICA TRIGGER events_no_update",
                "ALTER TABLE events DISABLE TRIGGER events_no_truncate",
                "CREATE OR REPLACE FUNCTION events_check_version() RETURNS trigger "
                "LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
            ):
                connection.exec_driver_sql(statement.replace("%", "%%"))
            gone = ["events_no_update", "events_no_truncate", "events_contiguous_versions"]
        else:
            for name in ("events_no_update", "events_no_delete", "events_contiguous_versions",
                         "events_no_replace"):  # fmt: skip
                connection.exec_driver_sql(f"DROP TRIGGER {name}")
            connection.exec_driver_sql(
                "CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN SELECT 1; END"
            )
            gone = ["events_no_update", "events_no_delete", "events_contiguous_versions",
                    "events_no_replace"]  # fmt: skip
    unguarded = city.fails("events", "verify")
    assert "Sổ sự kiện toàn vẹn" in unguarded.stdout
    assert "Cơ sở dữ liệu không còn tự từ chối sửa, xóa sự kiện" in unguarded.stderr
    assert sorted(json.loads(city.fails("events", "verify", "--json").stdout)["unguarded"]) == (
        sorted(gone)
    )
    restored = city.ok("init")
    assert "Đã đặt lại các trigger bảo vệ sổ sự kiện bị xóa hoặc tắt" in restored.stdout
    assert city.json("events", "verify")["unguarded"] == []
    assert "Đã đặt lại" not in city.ok("init").stdout
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM events WHERE position = 1")
    engine.dispose()
    assign(city, "--lead", "SXD", "--deadline", "31/03/2023")  # the log takes events again


def test_projections_rebuild_gives_back_the_same_state(city):
    moved = assign(city, "--lead", "SKHDT", "--deadline", "31/03/2023")
    done = assign(city, "--lead", "SXD", "--period", "2023Q2", "--coordinate", "STC")
    city.ok("task", "progress", done, "--percent", "50", "--on", "01/04/2023")
    city.ok("task", "extend", done, "--to", "31/07/2023", "--on", "20/06/2023")
    city.ok("task", "complete", done, "--on", "15/07/2023")
    wrong = city.json("task", "history", done)[-1]["id"]
    city.ok("correct", wrong, "--reason", "Nhầm ngày")
    city.ok("task", "complete", done, "--on", "16/07/2023")
    city.ok(
        "reprimand",
        "issue",
        "--kind",
        "phe-binh",
        "--doc",
        "1/TB-VP",
        "--on",
        "01/04/2023",
        "--head",
        "SXD",
        "--field",
        "xây dựng",
        "--task",
        moved,
        "--task",
        done,
    )
    city.ok(
        "agency", "dissolve", "SKHDT", "--on", "01/05/2023", "--reason", "Sáp nhập", "--into", "STC"
    )
    before = snapshot_projections(city.db_url)
    tasks_before = city.json("task", "list", "--as-of", "30/06/2023")
    assert before["proj_tasks"] and before["proj_documents"]  # something to rebuild

    result = city.ok("projections", "rebuild")
    assert f"từ {city.event_count()} sự kiện" in result.stdout
    assert snapshot_projections(city.db_url) == before
    assert city.json("task", "list", "--as-of", "30/06/2023") == tasks_before

    city.ok("projections", "rebuild", "--workers", "1")
    assert snapshot_projections(city.db_url) == before
    refused = city.fails("projections", "rebuild", "--workers", "0", code=2)
    assert "--workers" in refused.stderr


def test_find_tasks_by_words_of_their_title(city):
    first = assign(city, "--lead", "SXD", "--deadline", "31/03/2023", title="Lập quy hoạch đô thị")
    assign(city, "--lead", "STC", "--deadline", "31/03/2023", title="Tiến độ thực hiện Chỉ thị")
    third = assign(city, "--lead", "STC", "--no-deadline", title="Rà soát QUY HOẠCH ngành")

    def found(*args: str) -> list[str]:
        return [r["id"] for r in city.json("task", "list", "--as-of", "15/04/2023", *args)]

    assert found("--search", "quy hoach") == [first, third]
    assert found("--search", "Quy hoạch đô") == [first]
    assert found("--search", "do thi") == [first]  # not "tiến độ … Chỉ thị"
    assert found("--search", "quy hoach", "--status", "overdue") == [first]
    assert found("--search", "quy hoach", "--agency", "STC") == [third]
    assert found("--search", "không có") == []
    table = city.ok("task", "list", "--search", "nganh").stdout
    assert third in table and first not in table


def test_list_the_tasks_of_one_directive(city):
    first = assign(city, "--lead", "SXD", "--deadline", "31/03/2023", title="Lập quy hoạch")
    done = assign(city, "--lead", "STC", "--deadline", "31/03/2023", title="Thu ngân sách")
    city.ok("task", "complete", done, "--on", "20/03/2023")
    city.ok("directive", "add", "7/CT-UBND", "--date", "20/03/2023", "--title", "Chỉ thị khác")
    other = city.json(
        "task", "assign", "--directive", "7/CT-UBND", "--title", "Việc khác", "--lead", "SXD",
        "--deadline", "31/03/2023",
    )["id"]  # fmt: skip

    def listed(*args: str) -> list[str]:
        return [r["id"] for r in city.json("task", "list", "--as-of", "15/04/2023", *args)]

    assert listed() == [first, done, other]
    assert listed("--directive", DIRECTIVE.lower()) == [first, done]  # numbers in any case
    assert listed("--directive", "7/CT-UBND") == [other]
    assert listed("--directive", DIRECTIVE, "--status", "overdue") == [first]
    assert listed("--directive", "7/CT-UBND", "--status", "done_on_time") == []
    assert listed("--directive", DIRECTIVE, "--agency", "STC") == [done]
    refused = city.fails("task", "list", "--directive", "8/CT-UBND")
    assert "Không tìm thấy văn bản chỉ đạo '8/CT-UBND'. Có phải ý bạn là: 7/CT-UBND" in (
        refused.stderr
    )


def test_task_show_names_the_escalation_step_and_the_documents(city):
    task_id = assign(city, "--lead", "SXD", "--deadline", "31/03/2023")
    city.ok("escalate", "--as-of", "02/04/2023")
    shown = city.json("task", "show", task_id, "--as-of", "02/04/2023")
    assert shown["escalation_level"] == 1
    assert shown["escalation_step"] == {"label": "Đôn đốc: quá hạn 1 ngày", "due_on": "2023-04-01"}
    city.ok(
        "reprimand", "issue", "--kind", "nhac-nho", "--doc", "101/TB-VP", "--on", "10/04/2023",
        "--agency", "SXD", "--task", task_id,
    )  # fmt: skip
    text = city.ok("task", "show", task_id, "--as-of", "10/04/2023").stdout
    assert "  Mức đôn đốc: 1 — Đôn đốc: quá hạn 1 ngày (ngày 01/04/2023)\n" in text
    assert "  Văn bản nhắc đến: 101/TB-VP (Nhắc nhở, 10/04/2023)\n" in text
    fresh = assign(city, "--lead", "STC", "--deadline", "30/06/2023")
    assert city.json("task", "show", fresh, "--as-of", "10/04/2023")["escalation_step"] is None


@pytest.mark.parametrize(
    ("command", "name", "suffix"),
    [
        (["events", "export", "--out"], "nhiemvu.db", ""),
        (["events", "export", "--out"], "nhiemvu.db", "-wal"),
        # A file of the kind's ending (.xlsx, .html) may be an SQLite database too.
        (["rating", "compute", "--year", "2023", "--xlsx"], "so.xlsx", ""),
        (["report", "html", "--year", "2023", "--out"], "so.html", ""),
    ],
)
def test_a_file_is_never_written_over_the_sqlite_database_itself(
    sqlite_template, tmp_path, command, name, suffix
):
    database = tmp_path / name
    shutil.copy(sqlite_template, database)
    nv = Nhiemvu(f"sqlite:///{database}")
    nv.ok("agency", "add", "SXD", "--name", "Sở Xây dựng", "--kind", "so")
    refused = nv.fails(*command, f"{database}{suffix}")
    assert "là cơ sở dữ liệu đang dùng" in refused.stderr and "tên tệp khác" in refused.stderr
    assert nv.event_count() == 1 and [a["code"] for a in nv.json("agency", "list")] == ["SXD"]


def test_a_log_whose_head_row_was_deleted_is_reported_not_a_traceback(city):
    run_sql(city.db_url, "DELETE FROM event_log_head")
    verify = city.fails("events", "verify")
    assert "đầu sổ (event_log_head) không còn dòng nào" in verify.stdout + verify.stderr
    for args in (
        ["agency", "add", "SYT", "--name", "Sở Y tế", "--kind", "so"],
        ["events", "export", "--out", "-"],
    ):
        refused = city.fails(*args)
        assert "Bảng đầu sổ (event_log_head) không còn dòng nào" in refused.stderr, args


def test_an_appointment_a_document_reached_cannot_be_retracted_under_it(city):
    city.ok("agency", "head", "SXD", "--name", "Lê Văn Cườngg", "--from", "01/05/2023")
    typo = city.json("agency", "history", "SXD")[-1]["id"]
    issue = ["reprimand", "issue", "--on", "10/06/2023", "--head", "SXD", "--field", "xây dựng"]
    city.ok(*issue, "--kind", "phe-binh", "--doc", "20/UBND-TH")
    # The head it named, and the deputy the phê bình reached with him.
    refused = city.fails("correct", typo, "--reason", "Ghi sai họ tên")
    assert (
        "Không rút lại được việc ghi người đứng đầu Lê Văn Cườngg của SXD: 20/UBND-TH"
    ) in refused.stderr and '`nhiemvu correct "20/UBND-TH" --reason …`' in refused.stderr
    deputy = next(h for h in city.json("agency", "history", "SXD") if h["label"] == "Ghi cấp phó")
    refused = city.fails("correct", deputy["id"], "--reason", "Ghi nhầm")
    assert "việc ghi cấp phó Trần Thị Bình của SXD: 20/UBND-TH" in refused.stderr

    city.ok("correct", "20/UBND-TH", "--reason", "Gửi nhầm người")  # as the refusal says
    city.ok("correct", typo, "--reason", "Ghi sai họ tên")
    city.ok("agency", "head", "SXD", "--name", "Lê Văn Cường", "--from", "01/05/2023")
    city.ok(*issue, "--kind", "phe-binh", "--doc", "20/UBND-TH")
    report = city.json("report", "reprimands", "--year", "2023")
    assert report["criticism_individuals"] == 2  # the head and the deputy, once each
    assert {t["person"] for d in report["criticism_documents"] for t in d["targets"]} == {
        "Lê Văn Cường",
        "Trần Thị Bình",
    }


def test_the_id_of_a_task_whose_assignment_was_retracted_is_not_given_again(city):
    task_id = assign(city, "--lead", "SXD", "--no-deadline", "--id", "TB129-2.3")
    city.ok("correct", f"{task_id}#1", "--reason", "Giao nhầm")
    refused = city.fails(
        "task", "assign", "--directive", DIRECTIVE, "--title", "Lại", "--lead", "SXD",
        "--no-deadline", "--id", task_id,
    )  # fmt: skip
    assert (
        "Mã nhiệm vụ TB129-2.3 đã dùng cho một nhiệm vụ đã rút lại việc giao "
        "(xem `nhiemvu task history TB129-2.3`)"
    ) in refused.stderr


def test_a_completion_is_not_retracted_under_an_agency_closed_since(city):
    task_id = assign(city, "--lead", "SKHDT", "--deadline", "30/04/2023")
    city.ok("task", "complete", task_id, "--on", "15/04/2023")
    city.ok("agency", "dissolve", "SKHDT", "--on", "01/06/2023", "--into", "STC", "--reason", "x")
    assert city.task(task_id)["leads"] == ["SKHDT"]  # closed before the merger: not moved
    refused = city.fails("correct", f"{task_id}#2", "--reason", "Chưa hoàn thành")
    assert "cơ quan chủ trì SKHDT đã sáp nhập vào STC từ ngày 01/06/2023" in refused.stderr
    # The way out it gives: the merger back, the completion back, the merger again.
    merger = city.json("agency", "history", "SKHDT")[-1]["id"]
    city.ok("correct", merger, "--reason", "Ghi lại sau")
    city.ok("correct", f"{task_id}#2", "--reason", "Chưa hoàn thành")
    city.ok("agency", "dissolve", "SKHDT", "--on", "01/06/2023", "--into", "STC", "--reason", "x")
    assert city.task(task_id)["leads"] == ["STC"]


def test_a_row_put_beyond_the_log_s_head_is_explained_to_the_next_writer(city):
    engine = city.engine()
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO events SELECT position + 1, 'aaaaaaaa-0000-0000-0000-000000000001', "
                "'agency:XYZ', 1, event_type, schema_version, occurred_at, recorded_at, 'admin', "
                "causation_id, correlation_id, payload, metadata, hash FROM events "
                "WHERE position = (SELECT last_position FROM event_log_head)"
            )
    finally:
        engine.dispose()
    verify = city.run("events", "verify")
    assert verify.exit_code == 1
    assert "sau đầu sổ (event_log_head): được chèn trực tiếp" in verify.stdout + verify.stderr
    refused = city.run("agency", "add", "SYT", "--name", "Sở Y tế", "--kind", "so")
    assert (refused.exit_code, type(refused.exception)) == (1, SystemExit), refused.exception
    assert "có dòng ở vị trí sau đầu sổ" in refused.stderr


@pytest.mark.parametrize(
    ("damage", "command"),
    [
        ("ALTER TABLE events RENAME COLUMN actor TO nguoi_ghi", ["events", "verify"]),
        (
            "ALTER TABLE events RENAME COLUMN actor TO nguoi_ghi",
            ["agency", "add", "SYT", "--name", "Sở Y tế", "--kind", "so"],
        ),
        ("DROP TABLE proj_directives", ["directive", "list"]),
    ],
)
def test_a_table_or_column_changed_by_hand_is_explained_not_a_traceback(city, damage, command):
    before = city.event_count()
    run_sql(city.db_url, damage)
    refused = city.run(*command)
    assert (refused.exit_code, type(refused.exception)) == (1, SystemExit), refused.exception
    assert "Cơ sở dữ liệu thiếu một bảng hoặc cột mà nhiemvu cần" in refused.stderr
    assert ("actor" in refused.stderr) != ("proj_directives" in refused.stderr)
    assert city.event_count() == before


def test_demo_file_deletes_only_a_demo_s_own_file(tmp_path):
    def demo(path):  # no --db: the demo's own file
        return CliRunner().invoke(cli, ["--actor", "tester", "demo", "--file", str(path)])

    ledger = tmp_path / "nhiemvu.db"
    real = Nhiemvu(f"sqlite:///{ledger}")
    real.ok("init")
    real.ok("agency", "add", "SXD", "--name", "Sở Xây dựng", "--kind", "so")
    workbook = tmp_path / "so-theo-doi.xlsx"
    workbook.write_bytes(b"PK\x03\x04 a workbook someone filled in")
    for kept in (ledger, workbook):
        refused = demo(kept)
        assert refused.exit_code == 1, refused.output
        assert f"Tệp '{kept}' đã có và không phải sổ minh họa" in refused.stderr
    assert real.event_count() == 1
    assert workbook.read_bytes() == b"PK\x03\x04 a workbook someone filled in"
    # Its own file, the demo builds again.
    own = tmp_path / "minh-hoa.db"
    for _ in range(2):
        built = demo(own)
        assert built.exit_code == 0
        assert f"Đã dựng sổ minh họa: 237 sự kiện trong {own}." in built.stdout  # a path
    assert Nhiemvu(f"sqlite:///{own}").event_count() == 237


def test_the_import_template_replaces_neither_the_database_nor_a_filled_workbook(
    tmp_path, monkeypatch
):
    from application import files

    ledger = tmp_path / "so.xlsx"  # a database by any name: this one bears the ending
    nv = Nhiemvu(f"sqlite:///{ledger}")
    nv.ok("init")
    nv.ok("agency", "add", "SXD", "--name", "Sở Xây dựng", "--kind", "so")
    # As in a process of its own, which has opened no database before this command.
    monkeypatch.setattr(files, "_DATABASE_FILES", set())
    for flags in ([], ["--sample"]):
        refused = nv.fails("import", "template", "--out", str(ledger), *flags)
        assert "là cơ sở dữ liệu đang dùng" in refused.stderr
    assert nv.event_count() == 1
    template = tmp_path / "mau.xlsx"
    nv.ok("import", "template", "--out", str(template))
    written = template.read_bytes()
    refused = nv.fails("import", "template", "--out", str(template), "--sample")
    assert f"Tệp '{template}' đã có: không ghi đè" in refused.stderr
    assert template.read_bytes() == written


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_postgres_url_s_own_options_hold_on_every_path(db_url):
    """A search_path given in the URL: the bare driver, adding its lock timeout, kept it
    no more and wrote the agency into another schema than the one the rest reads."""
    public = Nhiemvu(db_url)
    public.ok("agency", "add", "STC", "--name", "Sở Tài chính", "--kind", "so")
    run_sql(db_url, "CREATE SCHEMA so_rieng")
    nv = Nhiemvu(f"{db_url}?options=-c%20search_path%3Dso_rieng")
    nv.ok("init")
    nv.ok("agency", "add", "SXD", "--name", "Sở Xây dựng", "--kind", "so")  # the bare driver
    assert [row["code"] for row in nv.json("agency", "list")] == ["SXD"]
    assert [row["code"] for row in public.json("agency", "list")] == ["STC"]


def _writes_are_refused_as_busy(nv: Nhiemvu) -> None:
    for args in (  # on the bare driver, then through SQLAlchemy
        ["agency", "add", "STC", "--name", "Sở Tài chính", "--kind", "so"],
        ["escalate", "--as-of", "01/06/2023"],
    ):
        refused = nv.run(*args)
        assert (refused.exit_code, type(refused.exception)) == (1, SystemExit), args
        assert "đang bị một tiến trình khác giữ quyền ghi quá lâu" in refused.stderr, args


def test_a_write_lock_held_too_long_elsewhere_is_explained(tmp_path, monkeypatch):
    import sqlite3

    from events import driver

    monkeypatch.setattr(driver, "SQLITE_BUSY_TIMEOUT_S", 1)
    ledger = tmp_path / "nhiemvu.db"
    nv = Nhiemvu(f"sqlite:///{ledger}")
    nv.ok("init")
    nv.ok("agency", "add", "SXD", "--name", "Sở Xây dựng", "--kind", "so")
    holder = sqlite3.connect(ledger, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # a sqlite3 session left open, say
        _writes_are_refused_as_busy(nv)
    finally:
        holder.rollback()
        holder.close()
    assert nv.event_count() == 1


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_postgres_head_lock_held_too_long_elsewhere_is_explained(db_url, monkeypatch):
    """A psql session left holding the log's head kept every writer waiting without
    end: a statement now waits as long as SQLite does for its lock, then is refused."""
    from events import driver

    monkeypatch.setattr(driver, "POSTGRES_LOCK_TIMEOUT_S", 1)
    nv = Nhiemvu(db_url)
    nv.ok("agency", "add", "SXD", "--name", "Sở Xây dựng", "--kind", "so")
    engine = nv.engine()
    holder = engine.connect()
    try:
        holder.begin()
        holder.exec_driver_sql("SELECT 1 FROM event_log_head WHERE id = 1 FOR UPDATE")
        _writes_are_refused_as_busy(nv)
    finally:
        holder.rollback()
        holder.close()
        engine.dispose()
    assert nv.event_count() == 1


def test_an_assignment_is_retracted_only_once_nothing_recorded_after_it_stands(city):
    task_id = assign(city, "--lead", "SXD", "--deadline", "30/04/2023")
    city.ok("task", "progress", task_id, "--percent", "50", "--on", "10/04/2023")
    city.ok("task", "complete", task_id, "--on", "20/04/2023")
    city.ok("reprimand", "issue", "--kind", "nhac-nho", "--doc", "30/UBND-TH", "--on",
            "25/04/2023", "--agency", "SXD", "--task", task_id)  # fmt: skip
    before = city.event_count()
    refused = city.fails("correct", f"{task_id}#1", "--reason", "Gõ nhầm #3")
    assert (
        f"Không rút lại việc giao nhiệm vụ {task_id}: những gì đã ghi sau đó (#2 báo cáo tiến "
        "độ; #3 hoàn thành; văn bản 30/UBND-TH nêu nhiệm vụ này) sẽ mất theo"
    ) in refused.stderr
    assert city.event_count() == before and city.task(task_id)["completed_on"] == "2023-04-20"
    # The way it gives: the later events first, then the assignment.
    (document,) = city.json("report", "reprimands", "--year", "2023")["reminder_documents"]
    for event in (document["event_id"], f"{task_id}#3", f"{task_id}#2", f"{task_id}#1"):
        city.ok("correct", event, "--reason", "Giao nhầm")
    assert task_id not in {t["id"] for t in city.json("task", "list")}
    heading, _, first, *_ = city.ok("task", "history", task_id).stdout.splitlines()
    assert "Tình trạng" in heading and "đã rút lại" in first
    # Asked for again, it is said to be retracted, not unknown.
    before = city.event_count()
    for command in (["task", "show", task_id],
                    ["task", "show", task_id, "--known-at", "31/12/2099"],
                    ["task", "progress", task_id, "--percent", "5", "--on", "21/04/2023"]):  # fmt: skip
        gone = city.fails(*command)
        assert f"Nhiệm vụ {task_id} không còn: việc giao nhiệm vụ này đã được rút lại" in (
            gone.stderr
        )
        assert f"nhiemvu task history {task_id}" in gone.stderr
    assert city.event_count() == before
    assert "Không tìm thấy nhiệm vụ 'NV-09999'" in city.fails("task", "show", "NV-09999").stderr


def test_escalation_s_own_steps_do_not_hold_an_assignment(city):
    task_id = assign(city, "--lead", "SXD", "--deadline", "31/03/2023")
    city.ok("escalate", "--as-of", "20/04/2023")
    assert city.task(task_id, "--as-of", "20/04/2023")["escalation_level"] >= 1
    city.ok("correct", f"{task_id}#1", "--reason", "Giao nhầm")
    assert task_id not in {t["id"] for t in city.json("task", "list")}


def test_a_task_is_not_closed_before_a_day_it_was_recorded_open(city):
    task_id = assign(city, "--lead", "SXD", "--deadline", "31/03/2023")
    city.ok("task", "reassign", task_id, "--lead", "STC", "--on", "01/05/2023")
    before = city.event_count()
    refused = city.fails("task", "complete", task_id, "--on", "20/04/2023")
    assert (
        f"Ngày hoàn thành 20/04/2023 trước ngày 01/05/2023 của việc giao lại đã ghi cho nhiệm "
        f"vụ {task_id}"
    ) in refused.stderr
    city.ok("task", "progress", task_id, "--percent", "80", "--on", "10/05/2023")
    refused = city.fails("task", "cancel", task_id, "--on", "05/05/2023", "--reason", "Thôi")
    assert "Ngày hủy 05/05/2023 trước ngày 10/05/2023 của việc báo cáo tiến độ" in refused.stderr
    assert city.event_count() == before + 1
    # On the day of the last report, or after an escalation step, it may close.
    city.ok("escalate", "--as-of", "15/05/2023")
    city.ok("task", "complete", task_id, "--on", "10/05/2023")
    assert city.task(task_id)["completed_on"] == "2023-05-10"


def test_invisible_characters_make_no_second_document_directive_or_task(city):
    issue = ["reprimand", "issue", "--kind", "nhac-nho", "--on", "10/04/2023", "--agency", "SXD"]
    city.ok(*issue, "--doc", "612/UBND-TH")
    before = city.event_count()
    for doc in ("612/UBND-TH\u200b", "\ufeff612/UBND\u00ad-TH"):
        refused = city.fails(*issue, "--doc", doc)
        assert "Văn bản số 612/UBND-TH đã được ghi" in refused.stderr
    refused = city.fails("directive", "add", f"{DIRECTIVE}\u200b", "--date", "01/04/2023",
                         "--title", "Trùng")  # fmt: skip
    assert f"Văn bản {DIRECTIVE} đã được ghi" in refused.stderr
    task_id = assign(city, "--lead", "SXD", "--no-deadline", "--id", "TB129-2.3")
    refused = city.fails("task", "assign", "--directive", DIRECTIVE, "--title", "Lại",
                         "--lead", "SXD", "--no-deadline", "--id", "TB129-2.3\u200b")  # fmt: skip
    assert f"Mã nhiệm vụ {task_id} đã tồn tại" in refused.stderr
    assert city.event_count() == before + 1


@pytest.mark.parametrize("flag", [("reprimand", "issue", "--kind", "nhac-nho"), ("commend",)])
def test_a_blank_person_is_refused(city, flag):
    before = city.event_count()
    refused = city.fails(*flag, "--doc", "70/UBND-TH", "--on", "10/04/2023", "--person", "   ")
    assert "Tên cá nhân nhận văn bản (--person) không được để trống" in refused.stderr
    assert city.event_count() == before


def test_no_document_goes_to_an_agency_merged_before_its_date(city):
    city.ok("agency", "dissolve", "SKHDT", "--on", "01/06/2023", "--into", "STC", "--reason", "x")
    before = city.event_count()
    for addressee in ("--agency", "--head"):
        refused = city.fails("reprimand", "issue", "--kind", "nhac-nho", "--doc", "40/UBND",
                             "--on", "01/07/2023", addressee, "SKHDT")  # fmt: skip
        assert (
            "Văn bản ngày 01/07/2023 không gửi được cho SKHDT: cơ quan đã sáp nhập vào STC từ "
            "ngày 01/06/2023. Hãy gửi cho cơ quan kế thừa: --agency STC hoặc --head STC."
        ) in refused.stderr
    refused = city.fails("commend", "--doc", "41/UBND", "--on", "01/07/2023", "--agency", "SKHDT")
    assert "không gửi được cho SKHDT" in refused.stderr
    assert city.event_count() == before
    # Before the merger, it still existed.
    city.ok("commend", "--doc", "42/UBND", "--on", "15/05/2023", "--agency", "SKHDT")


def test_two_open_agencies_never_bear_one_name(city):
    before = city.event_count()
    refused = city.fails("agency", "rename", "SXD", "--name", "sở tài chính", "--on", "01/06/2023")
    assert "'sở tài chính' là tên của cơ quan STC" in refused.stderr
    refused = city.fails("agency", "add", "STC2", "--name", "Sở Tài chính", "--kind", "so")
    assert "`nhiemvu agency rename STC`" in refused.stderr
    assert city.event_count() == before
    # A name an agency gave up, or one a merged agency bore, is free again.
    city.ok("agency", "rename", "STC", "--name", "Sở Tài chính Hải Phòng", "--on", "01/06/2023")
    city.ok("agency", "rename", "SXD", "--name", "Sở Tài chính", "--on", "02/06/2023")
    city.ok("agency", "dissolve", "SKHDT", "--on", "01/07/2023", "--into", "STC", "--reason", "x")
    city.ok("agency", "add", "SKH", "--name", "Sở Kế hoạch và Đầu tư", "--kind", "so")


def test_an_escalation_pass_stopped_by_ctrl_c_says_what_was_kept(city, monkeypatch):
    import application.escalation

    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(application.escalation, "run_escalation_pass", interrupted)
    stopped = city.run("escalate", "--as-of", "01/06/2023")
    assert (stopped.exit_code, type(stopped.exception)) == (1, SystemExit)
    assert "Đã dừng giữa lượt đôn đốc. Các bước đã ghi được giữ nguyên" in stopped.stderr
    assert "`nhiemvu escalate`" in stopped.stderr


def test_a_blank_actor_or_optional_value_is_not_stored_as_text(city):
    refused = city.fails("--actor", "   ", "agency", "list")
    assert "Người ghi (--actor) không được để trống" in refused.stderr
    task_id = assign(city, "--lead", "SXD", "--no-deadline", "--clause", "  ", "--leader", " ")
    city.ok("task", "complete", task_id, "--on", "20/04/2023", "--doc", "   ")
    shown = city.task(task_id)
    assert (shown["clause"], shown["leader"], shown["completion_doc"]) == (None, None, None)
    refused = city.fails("agency", "add", "DAI", "--name", "Sở " + "rất dài " * 50, "--kind", "so")
    assert "Tên cơ quan (--name) dài 402 ký tự, quá 300 ký tự cho phép" in refused.stderr


def test_numbers_restart_every_year_so_a_number_names_one_document_a_year(city):
    """Nghị định 30/2020: a body numbers its documents from 01 each year."""
    city.ok("directive", "add", "02/CT-UBND", "--date", "19/01/2023", "--title", "Chỉ thị 2023")
    second = city.json("directive", "add", "02/ct-ubnd", "--date", "10/01/2024", "--title", "2024")
    assert second["key"] == "02/CT-UBND (2024)"  # the first one's spelling, and its year
    before = city.event_count()
    for typed in ("02/CT-UBND", "02/CT-UBND (2024)"):
        refused = city.fails("directive", "add", typed, "--date", "01/03/2024", "--title", "x")
        assert "Văn bản 02/CT-UBND (2024) đã được ghi (ngày 10/01/2024)" in refused.stderr
    refused = city.fails("directive", "add", "02/CT-UBND (2025)", "--date", "01/03/2024",
                         "--title", "x")  # fmt: skip
    assert "ghi năm 2025 nhưng ngày ban hành là 01/03/2024" in refused.stderr
    assert city.event_count() == before

    # The number alone: the latest issued by the day of the task; the year picks too.
    assign = ["task", "assign", "--lead", "SXD", "--no-deadline", "--title", "Triển khai"]
    latest = city.run(*assign, "--directive", "02/CT-UBND", "--json")
    assert "dùng cho 2 văn bản ở các năm khác nhau; đã chọn '02/CT-UBND (2024)'" in latest.stderr
    in_2023 = city.json(*assign, "--directive", "02/CT-UBND", "--assigned-on", "01/03/2023")
    by_year = city.json(*assign, "--directive", "02/ct-ubnd (2023)")
    tasks = {t["id"]: t["directive"] for t in city.json("task", "list", "--as-of", "31/12/2024")}
    assert tasks[json.loads(latest.stdout)["id"]] == "02/CT-UBND (2024)"
    assert tasks[in_2023["id"]] == tasks[by_year["id"]] == "02/CT-UBND"
    listed = city.json("task", "list", "--directive", "02/CT-UBND (2023)", "--as-of", "31/12/2024")
    assert sorted(t["id"] for t in listed) == sorted([in_2023["id"], by_year["id"]])

    # Reprimands alike.
    issue = ["reprimand", "issue", "--kind", "nhac-nho", "--agency", "SXD"]
    city.ok(*issue, "--doc", "2/UBND", "--on", "10/03/2023")
    city.ok(*issue, "--doc", "2/UBND", "--on", "10/03/2024")
    refused = city.fails(*issue, "--doc", "2/ubnd", "--on", "11/03/2024")
    assert "Văn bản số 2/UBND (2024) đã được ghi (ngày 10/03/2024)" in refused.stderr
    documents = city.json("report", "reprimands", "--year", "2024")["reminder_documents"]
    assert [d["number"] for d in documents] == ["2/UBND (2024)"]


def test_a_confirmation_names_the_task_as_stored_not_as_typed(city):
    task_id = assign(city, "--lead", "SXD", "--no-deadline")
    typed = f" {task_id.lower()} "
    done = city.ok("task", "progress", typed, "--percent", "10", "--on", "20/04/2023")
    assert done.stdout.splitlines()[0] == f"Đã ghi tiến độ 10% cho {task_id}."
    done = city.ok("task", "complete", typed, "--on", "21/04/2023")
    assert done.stdout.splitlines()[0] == f"Đã ghi hoàn thành {task_id}."


def printed_event(result) -> str:
    """The id a write command prints for `nhiemvu correct`, on its last line."""
    *_, last = result.stdout.splitlines()
    label, _, event_id = last.rpartition(": ")
    assert label == "Mã sự kiện (để rút lại nếu ghi nhầm)", result.stdout
    return event_id


def test_a_write_prints_the_event_id_correct_takes(city):
    """A reprimand, a commendation, a directive or an assessment recorded by mistake
    is withdrawn by the id of its event: each write prints it, as the last line."""
    task_id = assign(city, "--lead", "SXD", "--deadline", "31/03/2023")
    writes = {
        "document.issued": ("reprimand", "issue", "--kind", "phe-binh", "--doc", "50/TB-VP",
                            "--on", "10/04/2023", "--head", "SXD", "--field", "xây dựng"),
        "directive.registered": ("directive", "add", "8/KH-UBND", "--date", "01/04/2023",
                                 "--title", "Kế hoạch"),
        "assessment.recorded": ("assess", "SXD", "--year", "2023", "--criterion", "phoi_hop",
                                "--points", "8", "--reason", "Chậm phối hợp"),
        "task.progress_reported": ("task", "progress", task_id, "--percent", "20", "--on",
                                   "20/03/2023"),
        "agency.renamed": ("agency", "rename", "STC", "--name", "Sở Tài chính HP", "--on",
                           "01/04/2023"),
    }  # fmt: skip
    for event_type, args in writes.items():
        before = city.event_count()
        result = city.ok(*args)
        event = city.event(printed_event(result))
        assert event.type == event_type and city.event_count() == before + 1, args
    # The document's text names its addressees, then the id.
    commended = city.ok("commend", "--doc", "51/TB-VP", "--on", "10/04/2023", "--agency", "SXD",
                        "--agency", "STC")  # fmt: skip
    lines = commended.stdout.splitlines()
    assert lines[:3] == ["Đã ghi văn bản 51/TB-VP. Nơi nhận:", "  Cơ quan: SXD", "  Cơ quan: STC"]
    document = printed_event(commended)
    assert city.json("report", "reprimands", "--year", "2023")["commendation_docs"] == 1
    # It is the id `correct` takes; a retraction, which is never retracted, prints none.
    done = city.ok("correct", document, "--reason", "Ghi nhầm")
    assert done.stdout == (
        f"Đã rút lại sự kiện {document} (Văn bản nhắc nhở, rút kinh nghiệm, phê bình hoặc "
        "biểu dương).\n"
    )
    assert city.json("report", "reprimands", "--year", "2023")["commendation_docs"] == 0


def test_an_agency_is_not_closed_before_a_document_it_received(city):
    city.ok("reprimand", "issue", "--kind", "nhac-nho", "--doc", "50/UBND", "--on", "10/07/2023",
            "--agency", "SKHDT")  # fmt: skip
    before = city.event_count()
    refused = city.fails("agency", "dissolve", "SKHDT", "--on", "01/07/2023", "--into", "STC",
                         "--reason", "Sáp nhập")  # fmt: skip
    assert "SKHDT đã nhận văn bản 50/UBND từ ngày 01/07/2023 trở đi" in refused.stderr
    assert city.event_count() == before
    city.ok("agency", "dissolve", "SKHDT", "--on", "11/07/2023", "--into", "STC", "--reason", "x")


def test_the_refused_closure_s_hint_retracts_the_document(city):
    city.ok("reprimand", "issue", "--kind", "nhac-nho", "--doc", "50/UBND", "--on", "10/07/2023",
            "--agency", "SKHDT")  # fmt: skip
    close = ["agency", "dissolve", "SKHDT", "--on", "01/07/2023", "--into", "STC", "--reason", "x"]
    refused = city.fails(*close)
    assert 'hãy rút lại (`nhiemvu correct "50/UBND" --reason …`) rồi' in refused.stderr
    city.ok("correct", "50/UBND", "--reason", "Gửi nhầm")  # as the hint says
    city.ok(*close)


def test_a_number_s_years_are_found_in_any_case_and_a_list_says_which_it_chose(city):
    first = city.json("directive", "add", "02/CT-UBND", "--date", "10/01/2023", "--title", "a")
    city.ok("directive", "add", "02/CT-UBND", "--date", "10/01/2024", "--title", "b")
    city.ok("correct", first["events"][0], "--reason", "Sai ngày")
    city.ok("directive", "add", "02/ct-ubnd", "--date", "12/01/2023", "--title", "a")
    assign = ["task", "assign", "--lead", "SXD", "--no-deadline", "--title", "Việc"]
    by_year = city.json(*assign, "--directive", "02/CT-UBND (2023)")
    by_day = city.run(*assign, "--directive", "02/CT-UBND", "--assigned-on", "01/03/2023", "--json")
    assert "đã chọn '02/ct-ubnd' ngày 12/01/2023" in by_day.stderr
    listed = city.run(
        "task", "list", "--directive", "02/CT-UBND", "--as-of", "01/06/2023", "--json"
    )
    assert "đã chọn '02/ct-ubnd' ngày 12/01/2023" in listed.stderr
    assert sorted(t["id"] for t in json.loads(listed.stdout)) == sorted(
        [by_year["id"], json.loads(by_day.stdout)["id"]]
    )


def test_a_retraction_gives_back_no_name_another_open_agency_has_taken(city):
    city.ok("agency", "rename", "SXD", "--name", "Sở Xây dựng và Quy hoạch", "--on", "01/07/2023")
    rename = city.json("agency", "history", "SXD")[-1]["id"]
    city.ok("agency", "rename", "STC", "--name", "Sở Xây dựng", "--on", "01/08/2023")
    city.ok("agency", "dissolve", "SKHDT", "--on", "01/06/2023", "--into", "STC", "--reason", "x")
    merger = city.json("agency", "history", "SKHDT")[-1]["id"]
    city.ok("agency", "add", "SKH2", "--name", "Sở Kế hoạch và Đầu tư", "--kind", "so")
    before = city.event_count()
    refused = city.fails("correct", rename, "--reason", "Nhầm")
    assert (
        "Rút lại sự kiện này sẽ trả lại tên cho SXD, nhưng 'Sở Xây dựng' là tên của cơ quan STC"
    ) in refused.stderr
    refused = city.fails("correct", merger, "--reason", "Nhầm")
    assert "trả lại tên cho SKHDT, nhưng 'Sở Kế hoạch và Đầu tư' là tên của cơ quan SKH2" in (
        refused.stderr
    )
    assert city.event_count() == before


def test_no_assessment_of_a_year_an_agency_did_not_stand_in(city):
    city.ok("agency", "dissolve", "SKHDT", "--on", "01/06/2023", "--into", "STC", "--reason", "x")
    assess = ["assess", "SKHDT", "--criterion", "phoi_hop", "--points", "5", "--reason", "Chậm"]
    refused = city.fails(*assess, "--year", "2024")
    assert (
        "Lỗi: SKHDT đã sáp nhập vào STC từ ngày 01/06/2023: năm 2024 cơ quan không còn"
    ) in refused.stderr
    city.ok(*assess, "--year", "2023")  # part of 2023 it stood


def test_a_rename_may_not_take_a_name_another_agency_bears_later(city):
    """Renames of two agencies recorded out of each other's date order: STC takes from
    01/01 a name SKHDT bears from 01/06, so from then on both would bear it."""
    city.ok("agency", "rename", "SKHDT", "--name", "Sở Mới", "--on", "01/06/2024")
    refused = city.fails("agency", "rename", "STC", "--name", "Sở mới", "--on", "01/01/2024")
    assert "'Sở mới' là tên của cơ quan SKHDT" in refused.stderr
    city.ok("agency", "rename", "STC", "--name", "Sở Mới Khác", "--on", "01/01/2024")


def test_a_period_is_stored_in_one_form_and_a_status_read_in_any_case(city):
    """' 2023q2', '2023-Q2', '2023-4': the JSON said what was typed. A status in capitals
    is one; a word that is none is a usage error, as a wrong choice is elsewhere."""
    specs = [
        city.task(assign(city, "--lead", "SXD", "--period", typed, title=f"Việc {n}"))[
            "deadline_spec"
        ]
        for n, typed in enumerate([" 2023q2", "2023-Q2", "2023-4", "2023"])
    ]
    assert specs == ["2023Q2", "2023Q2", "2023-04", "2023"]
    assert len(city.json("task", "list", "--status", "IN_PROGRESS", "--as-of", "01/04/2023")) == 4
    wrong = city.fails("task", "list", "--status", "late", code=2)
    assert "'late' không phải trạng thái nhiệm vụ; chọn một trong: in_progress" in wrong.stderr


def test_a_number_differing_in_the_case_of_d_with_stroke_is_one_family(city):
    """SQLite's LIKE folds ASCII letters only: '12/KH-ĐT' did not find '12/KH-đt (2024)',
    and the task went to the 2023 directive on SQLite, to 2024's on PostgreSQL."""
    city.ok("directive", "add", "12/KH-đt", "--date", "10/01/2023", "--title", "KH 2023 nhầm")
    city.ok("directive", "add", "12/KH-đt", "--date", "10/01/2024", "--title", "KH 2024")
    mistaken = stream_events(city, "directive:12/KH-ĐT")[0].event_id
    city.ok("correct", mistaken, "--reason", "Ghi nhầm cách viết")
    city.ok("directive", "add", "12/KH-ĐT", "--date", "10/01/2023", "--title", "KH 2023")
    given = city.run("task", "assign", "--directive", "12/KH-ĐT", "--title", "Việc A",
                     "--lead", "SXD", "--deadline", "31/12/2024", "--assigned-on", "01/03/2024",
                     "--json")  # fmt: skip
    assert given.exit_code == 0, given.stderr
    assert "dùng cho 2 văn bản" in given.stderr
    assert city.task(json.loads(given.stdout)["id"])["directive"] == "12/KH-đt (2024)"


def test_a_number_s_year_may_not_take_its_key_past_the_longest_number(city):
    """The year a second year's number takes ('… (2024)') made a 100-character number
    107 long: SQLite kept it, PostgreSQL failed with a traceback, and the SQLite log no
    longer moved to PostgreSQL."""
    number = "1/" + "A" * 98
    city.ok("directive", "add", number, "--date", "01/02/2023", "--title", "Năm 2023")
    refused = city.fails("directive", "add", number, "--date", "01/02/2024", "--title", "2024")
    assert "kèm năm (số này đã dùng cho văn bản năm khác) dài 107 ký tự, quá 100" in (
        refused.stderr
    )
