"""Moving the whole event log between databases as a JSON Lines file.

The file holds one event per line, every column of the `events` table in a
fixed order, each line the canonical encoding of its row (see `encode_line`),
then a closing line with the number of events and the last hash (`closing_line`).
Because the encoding is canonical, exporting, importing elsewhere and
exporting again gives the same bytes, whatever the backends.

The importer does not go through `append`: that would allocate new positions
and recording times and so produce a different (and differently hashed) log.
It inserts the rows as they are, after checking each one against the hash
chain, in a single transaction that also moves the log head; a file that fails
any check leaves the database exactly as it was.

Both directions read and write in batches, so memory does not grow with the
size of the log (a city decade is a few million events).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring
from typing import Any, BinaryIO

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from .chain import BrokenLink, walk_chain
from .database import WRITE
from .errors import EventNotProjected, EventStoreError, InvalidEvent
from .feeds import head_row
from .registry import EventRegistry
from .schema import events as events_table
from .schema import log_head, projection_checkpoints
from .serialization import (
    ACTOR_LENGTH,
    GENESIS_HASH,
    STREAM_ID_LENGTH,
    canonical_json,
    chain_digest,
    check_json_data,
    event_body,
    format_instant,
)
from .sql import Raw
from .store import EVENT_COLUMNS

# Column order of every line; it is part of the file format.
EXPORT_FIELDS = (
    "position",
    "event_id",
    "stream_id",
    "stream_version",
    "event_type",
    "schema_version",
    "occurred_at",
    "recorded_at",
    "actor",
    "causation_id",
    "correlation_id",
    "payload",
    "metadata",
    "hash",
)
_INT_FIELDS = ("position", "stream_version", "schema_version")
_STR_FIELDS = ("event_id", "stream_id", "event_type", "actor", "hash")
_OPTIONAL_STR_FIELDS = ("causation_id", "correlation_id")
_INSTANT_FIELDS = ("occurred_at", "recorded_at")
_OBJECT_FIELDS = ("payload", "metadata")

EXPORT_BATCH = 1000
IMPORT_BATCH = 500
# No real event comes near this; the limit keeps a corrupt file without line
# breaks from being read into memory whole.
MAX_LINE_BYTES = 16 * 1024 * 1024

Progress = Callable[[int], None]


class TransferError(EventStoreError):
    """The log cannot be exported or the file cannot be imported; nothing was written."""


@dataclass(frozen=True)
class TransferResult:
    count: int
    last_hash: str


# -- the line format -------------------------------------------------------------------


def encode_line(row: Mapping[str, Any]) -> bytes:
    """The canonical line of one stored event, newline included.

    Keys in EXPORT_FIELDS order, no spaces, UTF-8 text unescaped, instants as
    `format_instant`, payload and metadata with sorted keys at every depth.
    """
    return _line({**row, **{k: format_instant(row[k]) for k in _INSTANT_FIELDS}})


_KEYS = tuple(f'"{key}":' for key in EXPORT_FIELDS)


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return encode_basestring(value)
    return str(int(value))


def _line(fields: Mapping[str, Any], objects_as_text: bool = False) -> bytes:
    """Encode a row whose instants are already text (and, if `objects_as_text`, its
    payload and metadata already canonical JSON text)."""
    parts = []
    for key, prefix in zip(EXPORT_FIELDS, _KEYS, strict=True):
        value = fields[key]
        if key in _OBJECT_FIELDS:
            text = value if objects_as_text else canonical_json(value)
        else:
            text = _scalar(value)
        parts.append(prefix + text)
    return ("{" + ",".join(parts) + "}\n").encode("utf-8")


def decode_line(line: bytes, line_number: int) -> dict[str, Any]:
    """A row from one line (newline included), refusing anything not in canonical form."""
    return _decoded(line, line_number)[0]


def _decoded(line: bytes, line_number: int) -> tuple[dict[str, Any], dict[str, str]]:
    """`decode_line`, and the canonical texts of the line's payload and metadata (the
    line holds them as they are hashed and stored)."""
    where = f"Dòng {line_number}"
    if not line.endswith(b"\n"):
        raise TransferError(
            f"{where} không kết thúc bằng ký tự xuống dòng: tệp bị cắt cụt hoặc chưa ghi xong."
        )
    try:
        obj = json.loads(line[:-1].decode("utf-8"))
    except UnicodeDecodeError:
        raise TransferError(f"{where} không phải văn bản UTF-8 hợp lệ: tệp bị hỏng.") from None
    except json.JSONDecodeError as exc:
        raise TransferError(
            f"{where} không phải JSON hợp lệ (ký tự thứ {exc.pos + 1}): tệp bị hỏng hoặc bị sửa."
        ) from None
    if not isinstance(obj, dict) or list(obj) != list(EXPORT_FIELDS):
        raise TransferError(
            f"{where} không có đúng các trường của một sự kiện theo thứ tự quy định "
            f"({', '.join(EXPORT_FIELDS)})."
        )
    where = f"{where} (vị trí {obj['position']})"
    problems = [
        *(k for k in _INT_FIELDS if not isinstance(obj[k], int) or isinstance(obj[k], bool)),
        *(k for k in _STR_FIELDS + _INSTANT_FIELDS if not isinstance(obj[k], str)),
        *(k for k in _OPTIONAL_STR_FIELDS if obj[k] is not None and not isinstance(obj[k], str)),
        *(k for k in _OBJECT_FIELDS if not isinstance(obj[k], dict)),
    ]
    if problems:
        raise TransferError(f"{where}: trường {', '.join(problems)} sai kiểu dữ liệu.")
    try:  # what the store itself would refuse to append (NaN, a 100-bit integer…)
        for key in _OBJECT_FIELDS:
            check_json_data(obj[key], key)
    except InvalidEvent as exc:
        raise TransferError(f"{where}: {exc}") from None
    for key, longest in (("stream_id", STREAM_ID_LENGTH), ("actor", ACTOR_LENGTH)):
        if len(obj[key]) > longest:  # as an append refuses them, on either engine
            raise TransferError(f"{where}: trường {key} dài quá {longest} ký tự.")
    row = dict(obj)
    for key in _INSTANT_FIELDS:
        row[key] = _parse_instant(obj[key], key, where)
    texts = {key: canonical_json(obj[key]) for key in _OBJECT_FIELDS}
    # Any other difference from the canonical form (spacing, escapes, a second
    # copy of a key…) means the line was not written by the exporter.
    if _line({**obj, **texts}, objects_as_text=True) != line:
        raise TransferError(
            f"{where} không ở dạng chuẩn của tệp xuất (khoảng trắng, thứ tự khóa hoặc cách "
            "viết ký tự khác): tệp đã bị sửa ngoài hệ thống."
        )
    return row, texts


_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")


def _parse_instant(text: str, key: str, where: str) -> datetime:
    """The exact text `format_instant` writes, back to an aware UTC instant.

    Faster than strptime; with the fixed shape checked first, formatting the
    result again gives the same text, so the hash is computed over what the
    file says.
    """
    try:
        if not _INSTANT.fullmatch(text):
            raise ValueError(text)
        return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)
    except ValueError:
        raise TransferError(
            f"{where}: thời điểm {key} '{text}' không đúng dạng 2023-03-31T01:02:03.000000Z."
        ) from None


# -- export ----------------------------------------------------------------------------


def export_lines(engine: Engine, batch_size: int = EXPORT_BATCH) -> Iterator[bytes]:
    """The log as canonical lines, read in keyset batches up to the head seen at the
    start, and the closing line (`closing_line`)."""
    count, last_hash = 0, GENESIS_HASH
    for line, line_hash in _export(engine, batch_size):
        count, last_hash = count + 1, line_hash
        yield line
    yield closing_line(TransferResult(count, last_hash))


# The file's last line says how many events it holds and the last one's hash: a file
# cut at a line break is a valid shorter log, which only this (or --expect-hash) tells.
_CLOSING_PREFIX = b'{"end":'


def closing_line(result: TransferResult) -> bytes:
    body = {"events": result.count, "last_hash": result.last_hash}
    return f'{{"end":{canonical_json(body)}}}\n'.encode()


def _export(engine: Engine, batch_size: int) -> Iterator[tuple[bytes, str]]:
    """Lines with their hashes.

    The chain is checked on the way (events.chain): a file that the importer would
    refuse is not worth writing, and the operator learns at once that the log is
    damaged. Each link comes in canonical form already, so a line is its texts put
    together.
    """
    with engine.connect() as connection:
        raw = Raw(connection)
        # Positions up to the head are committed and never change (the table
        # is append-only), so appends made during the export cannot tear it.
        last, head_hash = head_row(raw, "last_position, last_hash")
        prev_hash, count = GENESIS_HASH, 0
        try:
            for link in walk_chain(raw, up_to=last, batch_size=batch_size):
                prev_hash, count = link.hash, count + 1
                yield _line(link._asdict(), objects_as_text=True), prev_hash
        except BrokenLink as broken:
            raise TransferError(_broken(broken, "trong cơ sở dữ liệu")) from None
        if count == 0 and last == 0:
            # The importer refuses a file with no event (it cannot tell it from a
            # cut one), so an empty export would be a file nothing can read.
            raise TransferError(
                "Sổ sự kiện trống: không có sự kiện nào để xuất, không ghi tệp nào. Một cơ sở "
                "dữ liệu mới chỉ cần `nhiemvu init`, không cần nhập."
            )
        if count != last or prev_hash != head_hash:
            raise TransferError(
                f"Sổ sự kiện không khớp với đầu sổ (event_log_head: vị trí {last}); đã đọc được "
                f"{count} sự kiện. Chạy `nhiemvu events verify` để xem chỗ hỏng."
            )


def _broken(broken: BrokenLink, where: str) -> str:
    """What a break in the chain means, `where` it was found (the database, a file line)."""
    if broken.kind == "hash":
        return (
            f"Mã băm không khớp {where} (vị trí {broken.position}): nội dung sự kiện đã bị sửa "
            "hoặc bị hỏng."
        )
    return f"Chuỗi sự kiện bị đứt {where}: {broken.sequence_detail}."


def export_log(
    engine: Engine,
    out: BinaryIO,
    batch_size: int = EXPORT_BATCH,
    progress: Progress | None = None,
) -> TransferResult:
    """Write the whole log to a binary stream; `progress` gets the number of events written."""
    count, last_hash, pending = 0, GENESIS_HASH, 0
    for line, line_hash in _export(engine, batch_size):
        out.write(line)
        count += 1
        last_hash = line_hash
        pending += 1
        if progress is not None and pending >= batch_size:
            progress(pending)
            pending = 0
    if progress is not None and pending:
        progress(pending)
    result = TransferResult(count, last_hash)
    out.write(closing_line(result))
    return result


# -- import ----------------------------------------------------------------------------


def import_log(
    engine: Engine,
    source: BinaryIO,
    registry: EventRegistry | None = None,
    batch_size: int = IMPORT_BATCH,
    progress: Progress | None = None,
    expect_hash: str | None = None,
    project: Callable[[Connection], Any] | None = None,
) -> TransferResult:
    """Load an exported log into a database whose log is empty, all or nothing.

    Each line is checked before it is inserted: canonical form, consecutive
    positions from 1, the recomputed hash against the file's, and (with a
    registry) an event type this software knows. `progress` gets the number of
    bytes consumed. `expect_hash` is the last hash the exporter reported: a file
    cut exactly at a line break is a valid shorter log and only that catches it.
    `project`, once every row is in, builds the projections from them in the same
    transaction: a log whose hashes hold but which they cannot read (written by
    other software, or edited and hashed again) is then refused whole, instead of
    committed and failing every command after it (EventNotProjected).
    """
    with engine.connect() as connection:
        connection = connection.execution_options(**{WRITE: True})
        with connection.begin():
            head = (
                connection.execute(sa.select(log_head).where(log_head.c.id == 1).with_for_update())
                .mappings()
                .one()
            )
            present = connection.execute(sa.select(events_table.c.position).limit(1)).first()
            if head["last_position"] or present is not None:
                raise TransferError(
                    f"Cơ sở dữ liệu đích đã có sự kiện (đầu sổ ở vị trí {head['last_position']}). "
                    "Chỉ nhập sổ sự kiện vào một cơ sở dữ liệu trống (vừa chạy `nhiemvu init`)."
                )
            # Projections that follow the head have seen nothing of what comes in:
            # they start from the beginning (the caller rebuilds them).
            connection.execute(
                projection_checkpoints.update()
                .where(projection_checkpoints.c.position.is_(None))
                .values(position=0)
            )
            try:
                result = _import_rows(
                    connection, source, registry, batch_size, progress, expect_hash is None
                )
                if expect_hash is not None and result.last_hash != expect_hash.strip().lower():
                    raise TransferError(
                        f"Mã băm cuối của tệp ({result.last_hash}) khác mã băm mong đợi "
                        f"({expect_hash.strip()}): tệp thiếu các sự kiện cuối hoặc không phải "
                        "tệp đã xuất."
                    )
                if project is not None:
                    _projected(project, connection)
            except EventNotProjected as exc:
                raise TransferError(f"{exc} Đã hủy nhập: không ghi gì vào cơ sở dữ liệu.") from exc
            except TransferError as exc:
                # Leaving the `with` rolls back every row inserted so far.
                raise TransferError(f"{exc} Đã hủy nhập: không ghi gì vào cơ sở dữ liệu.") from None
    return result


def _projected(project: Callable[[Connection], Any], connection: Connection) -> None:
    """`project`, a value the projection's columns refuse (a code too long for
    PostgreSQL, from a log SQLite kept) said as the import's refusal."""
    errors = Raw(connection).data_errors
    try:
        project(connection)
    except errors as exc:
        reason = str(exc).strip().splitlines()[0]
        raise TransferError(
            f"Các bảng dẫn xuất không nhận một giá trị của sổ ({reason}): sổ có mã hoặc số "
            "hiệu dài hơn cơ sở dữ liệu này cho phép."
        ) from None


def _import_rows(
    connection: Connection,
    source: BinaryIO,
    registry: EventRegistry | None,
    batch_size: int,
    progress: Progress | None,
    closing_required: bool = True,
) -> TransferResult:
    prev_hash, expected, line_number = GENESIS_HASH, 1, 0
    batch: list[dict[str, Any]] = []
    first_line_of_batch, batch_bytes = 1, 0
    last_recorded_at = None
    closed = False
    while True:
        read = source.readline(MAX_LINE_BYTES + 1)
        if not read:
            break
        line_number += 1
        if len(read) > MAX_LINE_BYTES:
            raise TransferError(
                f"Dòng {line_number} dài quá {MAX_LINE_BYTES // (1024 * 1024)} MB: "
                "không phải tệp xuất sổ sự kiện."
            )
        line = _as_exported(read, line_number)
        if closed:
            raise TransferError(
                f"Dòng {line_number} ở sau dòng kết thúc của tệp: tệp đã bị ghép hoặc sửa."
            )
        if line.startswith(_CLOSING_PREFIX):
            _check_closing(line, line_number, TransferResult(expected - 1, prev_hash))
            closed = True
            batch_bytes += len(read)
            continue
        row, texts = _decoded(line, line_number)
        _check_link(row, texts, expected, prev_hash, f"ở dòng {line_number} của tệp")
        if registry is not None:
            _check_type(registry, row, line_number)
        prev_hash, expected = row["hash"], expected + 1
        last_recorded_at = row["recorded_at"]
        if not batch:
            first_line_of_batch = line_number
        batch.append({**row, **texts})
        batch_bytes += len(read)
        if len(batch) >= batch_size:
            _insert(connection, batch, first_line_of_batch, line_number)
            batch = []
            if progress is not None:
                progress(batch_bytes)
            batch_bytes = 0
    if batch:
        _insert(connection, batch, first_line_of_batch, line_number)
        if progress is not None:
            progress(batch_bytes)
    count = expected - 1
    if count == 0:
        raise TransferError("Tệp không có sự kiện nào: không phải tệp xuất, hoặc tệp đã bị cắt.")
    if closing_required and not closed:
        raise TransferError(
            f"Tệp không có dòng kết thúc (sau {count} sự kiện): tệp đã bị cắt, có thể thiếu các "
            "sự kiện cuối. Nếu đó là tệp xuất bằng một bản nhiemvu cũ (chưa ghi dòng kết "
            "thúc), hãy nhập với --expect-hash và mã băm cuối đã in ra khi xuất."
        )
    connection.execute(
        log_head.update()
        .where(log_head.c.id == 1)
        .values(last_position=count, last_hash=prev_hash, last_recorded_at=last_recorded_at)
    )
    return TransferResult(count, prev_hash)


_BOM = "\ufeff".encode()
_UTF16_BOMS = ("\ufeff".encode("utf-16-le"), "\ufeff".encode("utf-16-be"))


def _as_exported(line: bytes, line_number: int) -> bytes:
    """The line as the exporter wrote it, whatever a copy through Windows did to what
    the hashes do not cover: a CRLF line end (the JSON itself holds no carriage
    return: a string's is written `\\r`), and a UTF-8 byte-order mark before the
    first line. A file saved as UTF-16 is said as such, not as one edited."""
    if line_number == 1:
        if line.startswith(_UTF16_BOMS):
            raise TransferError(
                "Tệp được lưu ở bảng mã UTF-16 (như Notepad ghi khi chọn 'Unicode'), không "
                "phải UTF-8 như tệp xuất: hãy dùng chính tệp đã xuất, hoặc lưu lại ở UTF-8."
            )
        line = line.removeprefix(_BOM)
    if line.endswith(b"\r\n"):
        line = line[:-2] + b"\n"
    return line


def _check_closing(line: bytes, line_number: int, read: TransferResult) -> None:
    """The closing line must say what was read before it, in the exporter's form."""
    if line != closing_line(read):
        raise TransferError(
            f"Dòng kết thúc của tệp (dòng {line_number}) không khớp với {read.count} sự kiện "
            "đọc được trước nó: tệp thiếu dòng, hoặc đã bị sửa."
        )


def _check_link(
    row: Mapping[str, Any], texts: Mapping[str, str], expected: int, prev_hash: str, where: str
) -> None:
    """Position `expected` must come next and its hash must follow from `prev_hash`
    (`texts`: the payload and metadata as canonical JSON)."""
    position = row["position"]
    if position != expected:
        kind = "gap" if position > expected else "order"
        raise TransferError(_broken(BrokenLink(expected, kind, position), where))
    body = event_body(row, texts["payload"], texts["metadata"])
    if chain_digest(prev_hash, body) != row["hash"]:
        raise TransferError(_broken(BrokenLink(position, "hash"), where))


def _check_type(registry: EventRegistry, row: Mapping[str, Any], line_number: int) -> None:
    name = row["event_type"]
    if name not in registry:
        raise TransferError(
            f"Dòng {line_number} (vị trí {row['position']}): loại sự kiện '{name}' không có trong "
            "phiên bản nhiemvu này; hãy cập nhật phần mềm trước khi nhập."
        )
    known = registry.get(name).version
    if row["schema_version"] > known:
        raise TransferError(
            f"Dòng {line_number} (vị trí {row['position']}): sự kiện '{name}' có phiên bản "
            f"{row['schema_version']}, mới hơn phần mềm ({known}); hãy cập nhật nhiemvu."
        )


def _insert(connection: Connection, rows: list[dict[str, Any]], first: int, last: int) -> None:
    """The rows as the store writes them: payload and metadata as the canonical text
    the chain hashed (events.chain verifies such rows without decoding them)."""
    raw = Raw(connection)
    instant = raw.dialect.instant
    for row in rows:
        row["occurred_at"], row["recorded_at"] = (
            instant(row["occurred_at"]),
            instant(row["recorded_at"]),
        )
    try:
        raw.insert_rows("events", EVENT_COLUMNS, rows)
    except (raw.integrity_errors, raw.data_errors) as exc:
        # A consistent chain with a repeated event id or stream version can only
        # come from a file whose hashes were recomputed after editing.
        raise TransferError(
            f"Các dòng {first}–{last} vi phạm ràng buộc của sổ (trùng mã sự kiện, trùng phiên "
            f"bản luồng hoặc giá trị quá dài): {exc.__class__.__name__}."
        ) from None
