"""`nhiemvu events export` / `events import`: moving the whole log between databases.

The source is the demo ledger of 2023 (seeds 000–002: directives, tasks,
extensions, completions, reprimands, commendations, head changes) built once on
SQLite through the Ledger commands, plus what the demo lacks: corrections
(`event.retracted`), an assessment with a fractional score, and an event with
metadata, a correlation id and awkward characters. Every test imports into the
`db_url` of the backend under test, so SQLite → SQLite and SQLite → PostgreSQL
are both covered.

A refused file must leave the target exactly as it was: no events, the head at
zero, no projection rows.
"""

from __future__ import annotations

import io
import json
import math
import sys
import tracemalloc
import uuid
from datetime import date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

import cli_support
from application import tables as t
from application.app import App
from application.demo import SimulatedClock, build, load_data
from cli import cli
from events.catalog import REGISTRY
from events.database import make_engine
from events.migrate import upgrade
from events.projections import catch_up
from events.schema import log_head, projection_checkpoints
from events.serialization import GENESIS_HASH, event_digest, hashed_fields
from events.store import NewEvent
from events.transfer import (
    TransferError,
    TransferResult,
    closing_line,
    decode_line,
    encode_line,
    export_lines,
    export_log,
    import_log,
)
from workflow.dates import LOCAL_TZ

# -- the source ledger -----------------------------------------------------------------


@pytest.fixture(scope="module")
def source_url(tmp_path_factory) -> str:
    """The demo ledger plus corrections, an assessment and a metadata-carrying event."""
    from application import rating

    path = tmp_path_factory.mktemp("source") / "source.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    clock = SimulatedClock()
    app = App(url, "văn thư", now=clock)
    app.store.clock = clock
    try:
        build(app, load_data(), clock)
        clock.set_day(date(2023, 12, 29))
        progress = [e for e in app.store.read_all() if e.type == "task.progress_reported"]
        assert len(progress) >= 2, "the demo should report progress"
        app.ledger.correct(progress[0].event_id, "Ghi nhầm tỷ lệ tiến độ; cơ quan báo cáo lại")
        app.ledger.correct(progress[-1].event_id, "Báo cáo tiến độ gửi nhầm nhiệm vụ")
        book = rating.choose_rulebook(date(2023, 12, 31))
        criterion = book.general_criteria[0]
        app.ledger.record_assessment(
            "SXD", 2023, criterion.code, 8.5, "Chất lượng tham mưu “chưa cao”; còn chậm", book
        )
        app.store.append(
            "agency:SXD",
            [
                NewEvent(
                    "agency.renamed",
                    {"name": "Sở Xây dựng", "on": "2023-12-29"},
                    datetime(2023, 12, 29, tzinfo=LOCAL_TZ),
                    correlation_id=str(uuid.uuid4()),
                    metadata={
                        "nguồn": "kiểm thử",
                        "ghi chú": 'dòng 1\ndòng 2\t"trích" \\ ü 中 \u2028',
                        "số": [1, 2.5, None, True, -0.125, 10**15],
                        "z": {"b": 1, "a": 2},
                    },
                )
            ],
            actor="Nguyễn Thị Thư",
        )
        catch_up(app.store, app.ledger.projection)
    finally:
        app.close()
    return url


@pytest.fixture(scope="module")
def source_file(source_url, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("export") / "so-su-kien.jsonl"
    result = run(source_url, "events", "export", "--out", str(path))
    assert result.exit_code == 0, result.output
    return path


def run(db_url: str, *args: str):
    return CliRunner().invoke(cli, ["--db", db_url, "--actor", "tester", *args])


def snapshot(url: str) -> dict[str, list[dict]]:
    """Every projection row (and checkpoint), in primary-key order."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            result = {}
            for table in [*t.PROJECTION_TABLES, projection_checkpoints]:
                keys = list(table.primary_key.columns)
                rows = connection.execute(sa.select(table).order_by(*keys)).mappings()
                result[table.name] = [dict(row) for row in rows]
            return result
    finally:
        engine.dispose()


def state(url: str) -> tuple[int, int, str, int]:
    """(events, head position, head hash, projection rows)."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            count = connection.execute(sa.text("SELECT count(*) FROM events")).scalar_one()
            head = connection.execute(sa.select(log_head)).mappings().one()
            projected = sum(
                connection.execute(sa.select(sa.func.count()).select_from(tb)).scalar_one()
                for tb in t.PROJECTION_TABLES
            )
            return count, head["last_position"], head["last_hash"], projected
    finally:
        engine.dispose()


EMPTY = (0, 0, GENESIS_HASH, 0)


# -- round trip --------------------------------------------------------------------------


def test_source_is_realistic(source_file):
    lines = [line.rstrip(b"\n") for line in _lines(source_file)]
    assert 200 <= len(lines) <= 400
    types = {json.loads(line)["event_type"] for line in lines}
    assert {
        "agency.registered",
        "directive.registered",
        "task.assigned",
        "task.completed",
        "task.extension_approved",
        "document.issued",
        "event.retracted",
        "assessment.recorded",
    } <= types
    text = source_file.read_text(encoding="utf-8")
    assert "Sở Xây dựng" in text and "\\u1edf" not in text  # UTF-8, not escaped


def test_round_trip_is_byte_identical_and_projections_equal(
    source_url, source_file, db_url, tmp_path
):
    exported = json.loads(
        run(source_url, "events", "export", "--out", str(tmp_path / "again.jsonl"), "--json").stdout
    )
    assert (tmp_path / "again.jsonl").read_bytes() == source_file.read_bytes()

    result = run(
        db_url, "events", "import", str(source_file), "--expect-hash", exported["last_hash"]
    )
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert f"Đã nạp {exported['events']} sự kiện" in result.stdout

    second = tmp_path / "second.jsonl"
    result = run(db_url, "events", "export", "--out", str(second))
    assert result.exit_code == 0, result.output
    assert second.read_bytes() == source_file.read_bytes()

    assert snapshot(db_url) == snapshot(source_url)
    assert state(db_url)[:3] == state(source_url)[:3]

    verify = run(db_url, "events", "verify", "--json")
    assert verify.exit_code == 0, verify.output
    assert json.loads(verify.stdout)["checked"] == exported["events"]


def stored_texts(url: str) -> list[tuple[str, str]]:
    """Each event's payload and metadata as the database holds them (text)."""
    engine = make_engine(url)
    cast = "{}" if engine.dialect.name == "sqlite" else "CAST({} AS text)"
    try:
        with engine.connect() as connection:
            sql = f"SELECT {cast.format('payload')}, {cast.format('metadata')} FROM events"
            return [tuple(row) for row in connection.exec_driver_sql(sql + " ORDER BY position")]
    finally:
        engine.dispose()


def test_import_stores_what_the_commands_store(source_url, source_file, db_url):
    """Payload and metadata as the canonical text the chain hashed, exactly as an
    append stores them (not re-encoded on the way in), whatever the backend."""
    assert run(db_url, "events", "import", str(source_file)).exit_code == 0
    imported = stored_texts(db_url)
    assert imported == stored_texts(source_url)
    in_file = [json.loads(line) for line in _lines(source_file)]
    assert [json.loads(payload) for payload, _ in imported] == [e["payload"] for e in in_file]
    assert any("ở" in payload for payload, _ in imported)  # accents unescaped, as hashed


def test_the_export_order_is_the_chain_walkers():
    from events.chain import Link
    from events.transfer import EXPORT_FIELDS

    assert Link._fields == EXPORT_FIELDS


def test_a_rehashed_duplicate_event_id_is_refused_by_the_database(db_url, tmp_path):
    """A file whose hashes were recomputed after an edit passes the chain's checks;
    the log's constraints still refuse a repeated event id, and nothing is written."""
    path = tmp_path / "duplicate.jsonl"
    synthetic_log(path, 3, paragraphs=1, event_ids=["a", "b", "a"])
    message = refused(db_url, path)
    assert "vi phạm ràng buộc của sổ (trùng mã sự kiện" in message
    assert "Đã hủy nhập: không ghi gì" in message
    assert state(db_url) == EMPTY


def test_imported_log_accepts_new_commands(source_file, db_url):
    """The head carries on from the file: the next append links to its last hash."""
    assert run(db_url, "events", "import", str(source_file)).exit_code == 0
    before = state(db_url)[0]
    added = run(db_url, "agency", "add", "SDL", "--name", "Sở Du lịch", "--kind", "so")
    assert added.exit_code == 0, added.output
    assert state(db_url)[0] == before + 1
    assert run(db_url, "events", "verify").exit_code == 0
    listed = json.loads(run(db_url, "agency", "list", "--json").stdout)
    assert "SDL" in {a["code"] for a in listed}


BOM = "\ufeff".encode()


@pytest.mark.parametrize(
    "copy",
    [
        lambda data: data.replace(b"\n", b"\r\n"),  # Windows line ends
        lambda data: BOM + data,  # a UTF-8 byte-order mark, as Notepad saves
        lambda data: BOM + data.replace(b"\n", b"\r\n"),
    ],
    ids=["crlf", "bom", "bom-crlf"],
)
def test_a_file_copied_through_windows_is_imported(source_url, source_file, db_url, tmp_path, copy):
    """Line ends and a byte-order mark are no part of the hashed JSON: a file that went
    through Windows is the log it was, not one "edited outside the system"."""
    copied = tmp_path / "so-su-kien.jsonl"
    copied.write_bytes(copy(source_file.read_bytes()))
    result = run(db_url, "events", "import", str(copied))
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert state(db_url)[:3] == state(source_url)[:3]
    assert snapshot(db_url) == snapshot(source_url)
    again = run(db_url, "events", "export", "--out", "-")
    assert again.stdout_bytes == source_file.read_bytes()


def test_what_a_copy_does_not_do_is_still_refused(source_file, db_url, tmp_path):
    """A byte-order mark after the first line (files joined), a carriage return not at
    a line end, a file saved as UTF-16: each said for what it is."""
    lines = _lines(source_file)
    for number, changed in ((2, BOM + lines[1]), (3, lines[2][:-1] + b"\r\r\n")):
        edited = tmp_path / f"edited-{number}.jsonl"
        edited.write_bytes(b"".join([*lines[: number - 1], changed, *lines[number:]]))
        message = refused(db_url, edited)
        assert f"Dòng {number} " in message, message
    wide = tmp_path / "utf-16.jsonl"
    wide.write_bytes(source_file.read_text("utf-8").encode("utf-16"))
    message = refused(db_url, wide)
    assert "bảng mã UTF-16" in message and "lưu lại ở UTF-8" in message
    assert "bị sửa" not in message
    assert state(db_url) == EMPTY


def test_import_reads_standard_input(source_url, source_file, db_url):
    """`events import -`, the other end of `events export --out -`."""
    cut = CliRunner().invoke(
        cli, ["--db", db_url, "events", "import", "-"], input=source_file.read_bytes()[:-40]
    )
    assert cut.exit_code == 1
    assert cut.stderr.startswith("Lỗi: Dữ liệu từ stdin: Dòng ")
    assert "không ghi gì" in cut.stderr
    assert state(db_url) == EMPTY
    exported = CliRunner().invoke(cli, ["--db", source_url, "events", "export", "--out", "-"])
    result = CliRunner().invoke(
        cli, ["--db", db_url, "events", "import", "-", "--json"], input=exported.stdout_bytes
    )
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert json.loads(result.stdout)["file"] == "-"
    assert state(db_url)[:3] == state(source_url)[:3]


def test_standard_input_from_the_keyboard_is_refused(monkeypatch):
    """'-' typed at a terminal would wait for a log typed by hand: said instead."""
    import cli_transfer

    class Keyboard(io.BytesIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(Keyboard()))
    with pytest.raises(TransferError, match="stdin đang là bàn phím"), cli_transfer._input("-"):
        pass


def test_a_log_moves_through_a_pipe(source_url, source_file, tmp_path):
    """`nhiemvu --db OLD events export --out - | nhiemvu --db NEW events import -`, as
    processes of their own: a pipe has no size for the progress bar to count to."""
    import subprocess

    target = f"sqlite:///{tmp_path / 'moi.db'}"
    nhiemvu = [sys.executable, "-c", "from cli import main; main()"]
    repo = Path(__file__).resolve().parents[1]
    subprocess.run([*nhiemvu, "--db", target, "init"], cwd=repo, check=True, capture_output=True)
    exporter = subprocess.Popen(
        [*nhiemvu, "--db", source_url, "events", "export", "--out", "-"],
        cwd=repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    importer = subprocess.run(
        [*nhiemvu, "--db", target, "events", "import", "-"],
        cwd=repo,
        stdin=exporter.stdout,
        capture_output=True,
        text=True,
    )
    exporter.stdout.close()
    assert exporter.wait() == 0
    assert importer.returncode == 0, importer.stderr
    assert importer.stdout.startswith(f"Đã nạp {len(_lines(source_file))} sự kiện từ stdin")
    assert state(target)[:3] == state(source_url)[:3]


# -- refusals --------------------------------------------------------------------------


def refused(db_url: str, path: Path, *extra: str) -> str:
    result = run(db_url, "events", "import", str(path), *extra)
    assert result.exit_code == 1, (result.stdout, result.stderr, result.exception)
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.stderr.startswith("Lỗi: ")
    return result.stderr


def test_non_empty_database_is_refused(source_file, db_url):
    assert (
        run(db_url, "agency", "add", "SXD", "--name", "Sở Xây dựng", "--kind", "so").exit_code == 0
    )
    message = refused(db_url, source_file)
    assert "đã có sự kiện" in message
    assert state(db_url)[:2] == (1, 1)


def _lines(path: Path) -> list[bytes]:
    """The event lines of an export, without its closing line."""
    *events, closing = path.read_bytes().splitlines(keepends=True)
    assert closing.startswith(b'{"end":{"events":')
    return events


def test_edited_byte_in_a_payload_is_refused(source_file, db_url, tmp_path):
    lines = _lines(source_file)
    number = next(
        i for i, line in enumerate(lines, 1) if b'"event_type":"task.assigned"' in line and i > 50
    )
    line = bytearray(lines[number - 1])
    start = line.index(b'"title":"') + len(b'"title":"')
    offset = next(
        i for i in range(start, len(line)) if chr(line[i]).isascii() and chr(line[i]).isalpha()
    )
    line[offset] ^= 0x20  # one letter's case: still valid UTF-8 and JSON
    lines[number - 1] = bytes(line)
    edited = tmp_path / "edited.jsonl"
    edited.write_bytes(b"".join(lines))

    message = refused(db_url, edited)
    assert f"dòng {number} " in message and f"vị trí {number}" in message
    assert "Mã băm không khớp" in message
    assert "không ghi gì" in message
    assert state(db_url) == EMPTY


def test_truncated_last_line_is_refused(source_file, db_url, tmp_path):
    data = b"".join(_lines(source_file))
    count = data.count(b"\n")
    cut = tmp_path / "cut.jsonl"
    cut.write_bytes(data[:-40])
    message = refused(db_url, cut).lower()
    assert f"dòng {count} " in message and "cắt cụt" in message
    assert state(db_url) == EMPTY


def test_missing_trailing_newline_is_refused(source_file, db_url, tmp_path):
    data = b"".join(_lines(source_file))
    cut = tmp_path / "no-newline.jsonl"
    cut.write_bytes(data[:-1])
    count = data.count(b"\n")
    message = refused(db_url, cut).lower()
    assert f"dòng {count} " in message and "xuống dòng" in message
    assert state(db_url) == EMPTY


def test_missing_line_is_a_gap(source_file, db_url, tmp_path):
    lines = _lines(source_file)
    del lines[19]
    gap = tmp_path / "gap.jsonl"
    gap.write_bytes(b"".join(lines))
    message = refused(db_url, gap)
    assert "thiếu sự kiện ở vị trí 20" in message and "dòng 20" in message
    assert state(db_url) == EMPTY


def test_a_file_cut_at_a_line_break_is_refused(source_file, db_url, tmp_path):
    """A file cut exactly between two lines is a valid shorter log: its closing line
    is gone with the events, or says more than it holds; the hash the exporter
    reported tells too, and alone for a file from before the closing line."""
    lines = _lines(source_file)
    short = tmp_path / "short.jsonl"
    short.write_bytes(b"".join(lines[:-3]))
    message = refused(db_url, short)
    assert f"Tệp không có dòng kết thúc (sau {len(lines) - 3} sự kiện)" in message
    last_hash = json.loads(lines[-1])["hash"]
    message = refused(db_url, short, "--expect-hash", last_hash)
    assert "khác mã băm mong đợi" in message
    closing = source_file.read_bytes().splitlines(keepends=True)[-1]
    short.write_bytes(b"".join(lines[:-3]) + closing)
    message = refused(db_url, short)
    assert f"không khớp với {len(lines) - 3} sự kiện đọc được trước nó" in message
    assert state(db_url) == EMPTY


def test_nothing_may_follow_the_closing_line(source_file, db_url, tmp_path):
    lines = source_file.read_bytes().splitlines(keepends=True)
    longer = tmp_path / "longer.jsonl"
    longer.write_bytes(b"".join(lines) + lines[0])
    message = refused(db_url, longer)
    assert f"Dòng {len(lines) + 1} ở sau dòng kết thúc của tệp" in message
    assert state(db_url) == EMPTY


def test_non_canonical_line_is_refused(source_file, db_url, tmp_path):
    lines = _lines(source_file)
    lines[4] = lines[4].replace(b'"stream_version":', b'"stream_version": ', 1)
    spaced = tmp_path / "spaced.jsonl"
    spaced.write_bytes(b"".join(lines))
    message = refused(db_url, spaced).lower()
    assert "dòng 5 " in message and "dạng chuẩn" in message
    assert state(db_url) == EMPTY


def _one_event_file(path: Path, **fields) -> Path:
    """A file of one event, hashed and encoded as the exporter would: `fields` over an
    agency's registration."""
    row = {
        "position": 1,
        "event_id": str(uuid.uuid4()),
        "stream_id": "agency:SXD",
        "stream_version": 1,
        "event_type": "agency.registered",
        "schema_version": 1,
        "occurred_at": datetime(2023, 1, 1, tzinfo=LOCAL_TZ),
        "recorded_at": datetime(2023, 1, 1, tzinfo=LOCAL_TZ),
        "actor": "x",
        "causation_id": None,
        "correlation_id": None,
        "payload": {},
        "metadata": {},
        **fields,
    }
    row["hash"] = event_digest(GENESIS_HASH, hashed_fields(row))
    path.write_bytes(encode_line(row) + closing_line(TransferResult(1, row["hash"])))
    return path


def test_unknown_event_type_is_refused(db_url, tmp_path):
    path = _one_event_file(
        tmp_path / "future.jsonl", stream_id="future:1", event_type="future.thing"
    )
    message = refused(db_url, path)
    assert "future.thing" in message and "cập nhật" in message
    assert state(db_url) == EMPTY


@pytest.mark.parametrize(
    ("payload", "said"),
    [({"percent": 2**70}, "payload.percent: số nguyên"), ({"percent": math.nan}, "không hữu hạn")],
)
def test_a_value_the_store_would_refuse_is_refused(db_url, tmp_path, payload, said):
    """A line hashed and written as the exporter would, holding what no append
    accepts: the file was not made by nhiemvu, and the import stops at it."""
    message = refused(db_url, _one_event_file(tmp_path / "wide.jsonl", payload=payload))
    assert "Dòng 1 (vị trí 1)" in message and said in message
    assert state(db_url) == EMPTY


@pytest.mark.parametrize(
    ("field", "value"), [("actor", "x" * 201), ("stream_id", "agency:" + "S" * 194)]
)
def test_a_value_longer_than_the_log_holds_is_refused_on_either_engine(
    db_url, tmp_path, field, value
):
    """SQLite would keep it and PostgreSQL refuse it: both refuse it, by its line."""
    message = refused(db_url, _one_event_file(tmp_path / "long.jsonl", **{field: value}))
    assert f"Dòng 1 (vị trí 1): trường {field} dài quá 200 ký tự" in message
    assert state(db_url) == EMPTY


_ASSIGNED = {
    "task_id": "NV-00001",
    "directive": "1/TB-UBND",
    "title": "Rà soát",
    "leads": ["SXD"],
    "assigned_on": "2023-01-02",
    "deadline": {"kind": "date", "value": "2023-03-31", "due": "2023-03-31"},
}


@pytest.mark.parametrize(
    ("payload", "said"),
    [
        # A date no calendar has: the fold stops at this very event.
        ({**_ASSIGNED, "assigned_on": "31/02/2023"}, "Sự kiện ở vị trí 1 (loại 'task.assigned'"),
        # A field missing: found only as the task's row is written.
        ({k: v for k, v in _ASSIGNED.items() if k != "deadline"}, "KeyError: 'deadline'"),
    ],
)
def test_a_log_its_projection_cannot_read_is_refused_whole(db_url, tmp_path, payload, said):
    """Hashed as the exporter would, yet not shaped as nhiemvu writes it (other
    software, or edited and hashed again): committed, it would fail every command
    after it, and the log cannot be emptied. The import builds the projection in its
    own transaction, and refuses the file."""
    path = _one_event_file(
        tmp_path / "forged.jsonl",
        stream_id="task:NV-00001",
        event_type="task.assigned",
        payload=payload,
    )
    message = refused(db_url, path)
    assert said in message and "không đưa được vào các bảng dẫn xuất" in message
    assert "Đã hủy nhập: không ghi gì" in message
    assert state(db_url) == EMPTY


def test_missing_file_is_an_error(db_url, tmp_path):
    message = refused(db_url, tmp_path / "khong-co.jsonl")
    assert "Không tìm thấy tệp" in message


def test_decode_line_round_trips_encode_line():
    row = {
        "position": 7,
        "event_id": "e",
        "stream_id": "task:NV-00001",
        "stream_version": 3,
        "event_type": "task.completed",
        "schema_version": 1,
        "occurred_at": datetime(2023, 3, 30, tzinfo=LOCAL_TZ),
        "recorded_at": datetime(2023, 4, 2, 8, 0, 1, 123456, tzinfo=LOCAL_TZ),
        "actor": "Trần Văn Á",
        "causation_id": None,
        "correlation_id": "c",
        "payload": {"on": "2023-03-30", "doc": "15/BC-SXD", "z": [1.5, {"b": 1, "a": None}]},
        "metadata": {},
        "hash": "f" * 64,
    }
    line = encode_line(row)
    assert line.endswith(b"}\n") and b"\n" not in line[:-1]
    assert line.startswith(b'{"position":7,"event_id":"e",')
    assert b'"recorded_at":"2023-04-02T01:00:01.123456Z"' in line
    assert b'{"a":null,"b":1}' in line  # nested keys sorted
    assert "Trần Văn Á".encode() in line
    assert decode_line(line, 1) == row
    with pytest.raises(TransferError, match="Dòng 1 "):
        decode_line(line.replace(b'"actor"', b'"Actor"'), 1)


# -- streaming ---------------------------------------------------------------------------


def synthetic_log(
    path: Path, count: int, paragraphs: int = 4, event_ids: list[str] | None = None
) -> int:
    """A valid log of `count` events with Vietnamese payloads of `paragraphs` paragraphs
    (and these event ids, if given: the chain does not look at their uniqueness)."""
    note = (
        "Báo cáo tiến độ: đã rà soát hồ sơ giải phóng mặt bằng, phối hợp với UBND quận, "
        "huyện và các Sở, ngành liên quan; dự kiến hoàn thành trong quý II năm 2023. "
    ) * paragraphs
    prev = GENESIS_HASH
    instant = datetime(2023, 5, 1, 8, tzinfo=LOCAL_TZ)
    with path.open("wb") as handle:
        for position in range(1, count + 1):
            row = {
                "position": position,
                "event_id": event_ids[position - 1] if event_ids else str(uuid.UUID(int=position)),
                "stream_id": f"task:SYN-{(position - 1) // 10:06d}",
                "stream_version": (position - 1) % 10 + 1,  # each stream from version 1
                "event_type": "task.progress_reported",
                "schema_version": 1,
                "occurred_at": instant,
                "recorded_at": instant,
                "actor": "đồng bộ",
                "causation_id": None,
                "correlation_id": None,
                "payload": {"on": "2023-05-01", "percent": position % 101, "note": note},
                "metadata": {},
            }
            row["hash"] = prev = event_digest(prev, hashed_fields(row))
            handle.write(encode_line(row))
        handle.write(closing_line(TransferResult(count, prev)))
    return path.stat().st_size


def test_large_log_streams_in_bounded_memory(db_url, tmp_path):
    """A 30 MB log goes in and out with memory bounded by the batch, not the log.

    Few, large events keep tracemalloc's overhead small; with batches of 50
    events of ~12 KB one batch is well under a megabyte of text.
    """
    path = tmp_path / "large.jsonl"
    size = synthetic_log(path, 2_000, paragraphs=72)
    assert size > 25_000_000
    engine = make_engine(db_url)
    try:
        tracemalloc.start()
        try:
            with path.open("rb") as handle:
                result = import_log(engine, handle, REGISTRY, batch_size=50)
            _, import_peak = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            out = _CountingSink()
            exported = export_log(engine, out, batch_size=50)
            _, export_peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert result.count == exported.count == 2_000
        assert exported.last_hash == result.last_hash
        assert out.size == size and out.digest == _file_digest(path)
        # Holding the log would take at least its size again once decoded.
        assert import_peak < size / 4, (import_peak, size)
        assert export_peak < size / 4, (export_peak, size)
    finally:
        engine.dispose()


def test_export_is_the_same_whatever_the_fetch_size(db_url, tmp_path):
    """The export streams the log (see the memory test above) a fetch at a time;
    where the fetches end must not show in the file, nor stop the chain's check."""
    path = tmp_path / "small.jsonl"
    synthetic_log(path, 250)
    engine = make_engine(db_url)
    try:
        with path.open("rb") as handle:
            import_log(engine, handle, REGISTRY)
        expected = path.read_bytes()
        for batch_size in (1, 7, 100, 250, 5000):
            lines = export_lines(engine, batch_size=batch_size)
            assert next(lines).startswith(b'{"position":1,')
            assert b"".join(lines) == expected[expected.index(b"\n") + 1 :], batch_size
    finally:
        engine.dispose()


class _CountingSink(io.RawIOBase):
    """A write-only stream that keeps a hash and a size instead of the bytes."""

    def __init__(self) -> None:
        import hashlib

        self._hash = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._hash.update(data)
        self.size += len(data)
        return len(data)

    @property
    def digest(self) -> str:
        return self._hash.hexdigest()


def _file_digest(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def test_export_to_stdout_matches_the_file(source_url, source_file):
    result = CliRunner().invoke(cli, ["--db", source_url, "events", "export", "--out", "-"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes == source_file.read_bytes()
    assert "Đã xuất" in result.stderr  # the summary stays off the data stream


def test_an_export_is_not_written_over_a_file_already_there_unless_asked(
    source_url, source_file, tmp_path
):
    """An earlier export may be the only copy of a log since lost: it stays as it was
    unless --replace; '-' is standard output, and no file."""
    target = tmp_path / "so-su-kien.jsonl"
    target.write_bytes(b"the export of last year")
    refused = run(source_url, "events", "export", "--out", str(target))
    assert refused.exit_code == 1
    assert refused.stderr == (
        f"Lỗi: Tệp '{target}' đã có: không ghi đè (có thể là một bản xuất cần giữ). Hãy chọn "
        "tên tệp khác, hoặc thêm --replace để ghi đè.\n"
    )
    assert refused.stdout == ""
    assert target.read_bytes() == b"the export of last year"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]  # no partial file either
    replaced = run(source_url, "events", "export", "--out", str(target), "--replace")
    assert replaced.exit_code == 0, replaced.stderr
    assert replaced.stdout.startswith("Đã xuất ") and str(target) in replaced.stdout
    assert target.read_bytes() == source_file.read_bytes()


def test_progress_bar_only_on_a_terminal(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    quiet = io.StringIO()
    monkeypatch.setattr(sys, "stderr", quiet)
    with cli_support.progress_bar(100, "Đang nạp") as tick:
        assert tick is None
    assert quiet.getvalue() == ""

    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    with cli_support.progress_bar(100, "Đang nạp") as tick:
        tick(60)
        tick(40)
    assert "Đang nạp" in screen.getvalue() and "100%" in screen.getvalue()


def test_an_empty_log_is_not_exported(db_url, tmp_path):
    # The importer refuses a file without events, so such a file would be useless.
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "trong.jsonl"
    result = run(db_url, "events", "export", "--out", str(target))
    assert result.exit_code == 1
    assert "Sổ sự kiện trống" in result.output and "không ghi tệp nào" in result.output
    assert not target.exists()
    assert list(out_dir.iterdir()) == []  # no temporary file left behind either
    to_stdout = run(db_url, "events", "export", "--out", "-")
    assert to_stdout.exit_code == 1 and to_stdout.stdout_bytes == b""
