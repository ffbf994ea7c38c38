"""`nhiemvu task list` at a city's scale: tasks read in batches and written as they
come, the same output as when the whole list was built first."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import pytest
from nhiemvu_cli import Nhiemvu

import cli_support
import events.sql
from application import loading, task_list
from application.task_reads import task_to_dict
from events.database import make_engine, read_snapshot
from workflow.text import matches_words

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # `benchmarks` is not an installed package
    sys.path.insert(0, str(REPO))

from benchmarks.workload import City, CityConfig, Runner  # noqa: E402

DIRECTIVE = "129/TB-UBND"


@pytest.fixture
def nv(db_url) -> Nhiemvu:
    """Two agencies, one directive, no task yet."""
    return seeded(db_url)


def seeded(db_url: str) -> Nhiemvu:
    nv = Nhiemvu(db_url)
    nv.ok("agency", "add", "SXD", "--name", "Sở Xây dựng", "--kind", "so")
    nv.ok("agency", "add", "STC", "--name", "Sở Tài chính", "--kind", "so")
    nv.ok("directive", "add", DIRECTIVE, "--date", "15/03/2023", "--title", "Kết luận")
    return nv


def assign(nv: Nhiemvu, title: str, *args: str) -> str:
    return nv.json("task", "assign", "--directive", DIRECTIVE, "--title", title, *args)["id"]


def test_iter_tasks_parses_the_facts_with_the_dialect_s_parser(nv, monkeypatch):
    """The facts are read as text and parsed by `Dialect.to_json` (orjson), not by
    SQLAlchemy's JSON type (`json.loads`, and SQLAlchemy's row processing) per task."""
    for title in ("Một", "Hai", "Ba"):
        assign(nv, title, "--lead", "SXD", "--deadline", "31/03/2023")
    parsed = []
    loads = events.sql.loads

    def counted(text):
        parsed.append(text)
        return loads(text)

    monkeypatch.setattr(events.sql, "loads", counted)
    engine = make_engine(nv.db_url)
    try:
        with engine.connect() as connection:
            tasks = list(loading.iter_tasks(connection, as_of=date(2023, 4, 15)))
    finally:
        engine.dispose()
    assert [t.title for t in tasks] == ["Một", "Hai", "Ba"]
    assert len(parsed) == 3


# -- a small city, for the output of today against that of the code before ------------

SMALL = CityConfig(seed=11, tasks_per_year=100, agencies=15, documents_per_year=20)
AS_OF = date(2020, 12, 31)


@pytest.fixture
def small_city(db_url) -> str:
    """A year of a small city through the commands (extensions, completions,
    cancellations, reassignments, documents, escalation passes)."""
    runner = Runner(db_url)
    try:
        runner.run(City(SMALL).commands_until(AS_OF), batch_size=500)
    finally:
        runner.close()
    return db_url


def listed_before(db_url: str, as_of: date, agency: str | None = None) -> list[dict]:
    """The list as `task list` made it before it was streamed: every task derived from
    its facts (loading.iter_tasks), and the whole list built first."""
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            tasks = loading.iter_tasks(connection, agency, as_of)
            return [task_to_dict(task, as_of) for task in tasks]
    finally:
        engine.dispose()


def written_before(rows: list[dict]) -> str:
    """What `task list --json` wrote of them (cli_support.emit_json, then a line break)."""
    return json.dumps(rows, ensure_ascii=False, indent=2, default=str) + "\n"


def test_the_json_is_byte_for_byte_what_it_was(small_city):
    nv = Nhiemvu(small_city)
    for as_of in ("30/06/2020", "31/12/2020"):
        before = listed_before(small_city, date.fromisoformat("-".join(as_of.split("/")[::-1])))
        assert len(before) > 40
        written = nv.ok("task", "list", "--as-of", as_of, "--json").stdout
        assert written == written_before(before)
        for status in ("overdue", "done_late", "cancelled"):
            chosen = [row for row in before if row["status"] == status]
            assert chosen, status
            written = nv.ok("task", "list", "--as-of", as_of, "--status", status, "--json").stdout
            assert written == written_before(chosen)
    agency = listed_before(small_city, AS_OF)[0]["leads"][0]
    written = nv.ok("task", "list", "--as-of", "31/12/2020", "--agency", agency, "--json").stdout
    assert written == written_before(listed_before(small_city, AS_OF, agency))
    nothing = nv.ok("task", "list", "--as-of", "01/01/2020", "--json").stdout
    assert nothing == written_before([]) == "[]\n"


def test_json_elements_are_written_as_json_dumps_writes_them():
    """orjson writes the rows, where it writes what json.dumps does; the rest is json's."""
    rows = [
        {"title": "Đô thị \"mới\"\\ \x00\x1f\x7f\t\n\u2028 😀", "n": -(2**63), "ok": True, "x": None},
        {"empty": [], "nested": {"a": [{}, [], [1, "b"]], "e": {}}, "big": 2**70},
        {"float": 1e-07, "day": date(2023, 3, 31), "surrogate": "\udc80"},
        [], "text", 5,
    ]  # fmt: skip
    for row in rows:
        assert cli_support._json_element(row) == json.dumps(
            row, ensure_ascii=False, indent=2, default=str
        )


def test_the_first_row_is_out_before_the_last_task_is_read(small_city, monkeypatch):
    """Rows come as the state columns are read, a batch at a time, not once all are."""
    fetched = []
    stream = events.sql.Raw.stream

    def counted(raw, text, params, size):
        for rows in stream(raw, text, params, size):
            fetched.append(len(rows))
            yield rows

    monkeypatch.setattr(events.sql.Raw, "stream", counted)
    engine = make_engine(small_city)
    try:
        with read_snapshot(engine) as connection:
            rows = task_list.list_tasks(connection, AS_OF, read_batch=7, derive_batch=3)
            first = next(rows)
            assert fetched == [7]  # of some 100 tasks
            rest = list(rows)
    finally:
        engine.dispose()
    assert sum(fetched) == len(rest) + 1 == len(listed_before(small_city, AS_OF))
    assert [first, *rest] == listed_before(small_city, AS_OF)


def test_the_command_writes_each_row_as_it_comes(capsys):
    """The JSON and the table are written a row at a time, not once the rows are all
    known: each row is out before the next one is asked for."""
    made = [{"id": f"NV-{n}", "title": "Việc", "leads": ["SXD"]} for n in range(3)]
    seen = []

    def rows():
        for row in made:
            seen.append(capsys.readouterr().out)  # written so far
            yield row

    cli_support.emit_json_rows(rows())
    seen.append(capsys.readouterr().out)
    assert seen[0] == "" and '"NV-0"' in seen[1] and '"NV-1"' in seen[2]
    assert "".join(seen) == written_before(made)

    seen.clear()
    cli_support.echo_table(rows(), [("id", "Mã", 9), ("title", "Nội dung", 10)], lookahead=1)
    # The headings come with the first rows (with none, a sentence says so).
    assert seen[0] == ""
    assert seen[1] == "Mã         Nội dung\n---------  ----------\nNV-0       Việc\n"
    assert seen[2] == "NV-1       Việc\n"


def test_search_finds_what_it_found_and_reads_only_what_it_finds(small_city, monkeypatch):
    """--search matches the titles read with the state columns, as matches_words
    matched each task's title: only the tasks found are derived from their facts."""
    every = listed_before(small_city, AS_OF)
    derived = []
    derive = loading.derive_task

    def counted(facts, as_of=None):
        derived.append(facts[0]["data"]["task_id"])
        return derive(facts, as_of)

    monkeypatch.setattr(loading, "derive_task", counted)
    nv = Nhiemvu(small_city)
    queries = {"", "Quy hoạch", "quy hoach", "QUY HOẠCH", "chuyen doi s", "đô thị", "không có"}
    queries |= {" ".join(row["title"].split()[1:3]) for row in every[:5]}
    for words in sorted(queries):
        derived.clear()
        found = nv.json("task", "list", "--as-of", "31/12/2020", "--search", words)
        expected = [row for row in every if matches_words(row["title"], words)]
        assert found == expected, words
        assert sorted(derived) == sorted(row["id"] for row in expected), words
    assert 0 < len(nv.json("task", "list", "--search", "quy hoach")) < len(every)


@pytest.fixture
def spread(nv) -> Nhiemvu:
    """Five tasks assigned from March to October 2023, one a day of each month."""
    for month in ("03", "04", "06", "07", "10"):
        assign(nv, f"Việc tháng {month}", "--lead", "SXD", "--no-deadline",
               "--assigned-on", f"20/{month}/2023")  # fmt: skip
    return nv


def listed_ids(nv: Nhiemvu, *args: str) -> list[str]:
    return [r["id"] for r in nv.json("task", "list", "--as-of", "31/12/2023", *args)]


def test_limit_keeps_the_first_tasks_in_assignment_order(spread):
    every = listed_ids(spread)
    assert len(every) == 5
    assert listed_ids(spread, "--limit", "2") == every[:2]
    assert listed_ids(spread, "--limit", "5") == listed_ids(spread, "--limit", "50") == every
    assert listed_ids(spread, "--search", "thang", "--limit", "1") == every[:1]
    table = spread.ok("task", "list", "--as-of", "31/12/2023", "--limit", "1").stdout
    assert len(table.splitlines()) == 3 and every[0] in table and every[1] not in table
    for bad in ("0", "-1", "hai"):
        refused = spread.fails("task", "list", "--limit", bad, code=2)
        assert "--limit" in refused.stderr and refused.stdout == ""


def test_a_period_keeps_the_tasks_assigned_in_it(spread):
    every = listed_ids(spread)
    assert listed_ids(spread, "--year", "2023") == every
    assert listed_ids(spread, "--year", "2022") == []
    assert listed_ids(spread, "--quarter", "2023Q2") == every[1:3]
    assert listed_ids(spread, "--month", "2023-07") == every[3:4]
    assert listed_ids(spread, "--from", "20/04/2023", "--to", "20/07/2023") == every[1:4]
    assert listed_ids(spread, "--from", "21/04/2023", "--to", "19/07/2023") == every[2:3]
    assert listed_ids(spread, "--quarter", "2023Q2", "--limit", "1") == every[1:2]
    # --as-of still decides which tasks stood: those assigned by then.
    as_of_july = spread.json("task", "list", "--as-of", "01/07/2023", "--year", "2023")
    assert [r["id"] for r in as_of_july] == every[:3]
    two = spread.fails("task", "list", "--year", "2023", "--month", "2023-07", code=2)
    assert "Chỉ chọn một kỳ" in two.stderr
    half = spread.fails("task", "list", "--from", "01/01/2023", code=2)
    assert "--from và --to phải đi cùng nhau" in half.stderr


def test_help_names_the_period_and_the_limit(nv):
    shown = nv.ok("task", "list", "--help").stdout
    for option in ("--year", "--quarter", "--month", "--from", "--to", "--limit"):
        assert option in shown
    assert "chỉ nhiệm vụ được giao trong kỳ đó" in " ".join(shown.split())


def test_a_table_no_longer_than_its_lookahead_is_laid_out_as_render_table_lays_it(capsys):
    """The demo's clauses (III.1.2) are wider than a streamed table's minimum for them:
    fixed widths pushed every line after its clause out of line."""
    made = [
        {"id": "NV-00001", "clause": "III.1.2", "title": "Xây dựng kế hoạch", "leads": "SKHDT"},
        {"id": "NV-00002", "clause": "1", "title": "Việc", "leads": "STC"},
    ]
    columns = [("id", "Mã", 9), ("clause", "Mục", 5), ("title", "Nội dung", 60),
               ("leads", "Chủ trì", 25)]  # fmt: skip
    cli_support.echo_table(made, columns)
    streamed = capsys.readouterr().out
    assert streamed == cli_support.render_table(made, [c[:2] for c in columns]) + "\n"
    lines = streamed.splitlines()
    assert lines[2].index("Xây") == lines[3].index("Việc")  # the titles in one column
    assert lines[2].index("SKHDT") == lines[3].index("STC")


def test_a_longer_table_keeps_room_for_the_rows_after_its_lookahead(capsys):
    made = [{"id": f"NV-{n:05d}", "title": "Việc"} for n in range(3)]
    made.append({"id": "NV-00003", "title": "Một việc có nội dung dài hơn"})
    cli_support.echo_table(made, [("id", "Mã", 9), ("title", "Nội dung", 30)], lookahead=2)
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "---------  " + "-" * 30
    # Each title where the heading's column begins, the one after the lookahead too.
    assert {line.index("Việc") for line in lines[2:5]} == {lines[0].index("Nội dung")}
    assert lines[5].index("Một") == lines[0].index("Nội dung") == 11


def test_the_table_s_columns_line_up_for_the_ids_numbers_and_clauses_the_ledger_holds(nv, tmp_path):
    """The streamed table's widths are fixed before the rows are read: they must hold
    what the ledger itself makes and ships — the ids the Excel import gives
    (XL-03517CF41B), the demo's directive numbers (KL-HNTU-11-XVI) and clauses (III.1.2)
    —, or each such row pushes the rest of its line out from under its headings."""
    from openpyxl import Workbook

    nv.ok("directive", "add", "KL-HNTU-11-XVI", "--date", "20/03/2023", "--title", "Kết luận")
    nv.ok("task", "assign", "--directive", "KL-HNTU-11-XVI", "--title", "Việc có mục dài",
          "--clause", "III.1.2", "--lead", "SXD", "--deadline", "30/06/2023")  # fmt: skip
    assign(nv, "Việc thường", "--lead", "STC", "--deadline", "30/06/2023")
    book = Workbook()
    book.active.append(["Số văn bản", "Nội dung nhiệm vụ", "Đơn vị chủ trì", "Thời hạn"])
    book.active.append([DIRECTIVE, "Việc nhập từ sổ Excel", "SXD", "30/06/2023"])
    book.save(tmp_path / "book.xlsx")
    nv.ok("import", "xlsx", str(tmp_path / "book.xlsx"))
    lines = nv.ok("task", "list", "--as-of", "31/12/2023").stdout.splitlines()
    assert any(line.startswith("XL-") for line in lines), lines
    deadline = lines[0].index("Thời hạn")
    rows = [line for line in lines[2:] if "30/06/2023" in line]
    assert len(rows) == 3, lines
    assert [row.index("30/06/2023") for row in rows] == [deadline] * 3, "\n".join(lines)


def test_a_list_left_waiting_for_its_reader_is_ended_by_postgresql_and_said(
    postgres_server, monkeypatch
):
    """`task list | less`, left paused: the list's snapshot held back PostgreSQL's
    vacuum, and a migration's lock, for as long as it was left. The server ends it
    after LIST_IDLE_LIMIT_S; the command says why, and that nothing was written.
    (SQLite's reader holds back no one's writes: no limit there.)"""
    import time

    import cli_tasks

    nv = seeded(postgres_server.new_database())
    for n in range(3):
        assign(nv, f"Việc {n}", "--lead", "SXD", "--deadline", "30/06/2023")
    monkeypatch.setattr(cli_tasks, "LIST_IDLE_LIMIT_S", 1)
    table_rows = cli_tasks._table_rows

    def paused(rows):
        for n, row in enumerate(table_rows(rows)):
            if n == 1:
                time.sleep(3)  # the reader paused, three times the limit
            yield row

    monkeypatch.setattr(cli_tasks, "_table_rows", paused)
    before = nv.event_count()
    refused = nv.run("task", "list", "--as-of", "31/12/2023")
    assert refused.exit_code == 1, (refused.stdout, refused.stderr, refused.exception)
    assert "Máy chủ PostgreSQL đã đóng phiên đọc vì kết quả bị dừng giữa chừng" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert nv.event_count() == before
