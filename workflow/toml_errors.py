"""Reading a rulebook or calendar file, with tomllib's complaints said in Vietnamese."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

_WHERE = re.compile(r"^(?P<what>.*) \(at line (?P<line>\d+), column (?P<column>\d+)\)$")
# tomllib's messages (Python 3.11), by how they begin; the rest is the file's own text.
_SAID = (
    ("Invalid value", "giá trị không hợp lệ"),
    ("Invalid statement", "dòng không đúng dạng 'khóa = giá trị' hay '[bảng]'"),
    ("Expected '=' after a key", "thiếu dấu '=' sau tên khóa"),
    ("Expected ']' at the end of a table", "thiếu dấu ']' cuối tên bảng"),
    ("Expected ']]' at the end of an array", "thiếu dấu ']]' cuối tên mảng bảng"),
    ("Expected", "thiếu ký tự"),
    ("Cannot overwrite a value", "một khóa được ghi hai lần"),
    ("Cannot declare", "một bảng được khai báo hai lần"),
    ("Unterminated string", "chuỗi chưa có dấu nháy đóng"),
    ("Unclosed array", "mảng chưa có dấu ']' đóng"),
    ("Unclosed inline table", "bảng trên một dòng chưa có dấu '}' đóng"),
    ("Invalid date or datetime", "ngày giờ không hợp lệ"),
    ("Illegal character", "ký tự không được phép"),
    ("Invalid initial character for a key part", "tên khóa bắt đầu bằng ký tự không được phép"),
)


def toml_error_text(exc: Exception) -> str:
    """ "ở dòng 2, cột 11: giá trị không hợp lệ" for tomllib's "Invalid value (at line 2,
    column 11)"; its own words where no translation is known."""
    text = str(exc)
    match = _WHERE.match(text)
    what = match.group("what") if match else text
    said = next((vi for en, vi in _SAID if what.startswith(en)), what)
    if match is None:
        return said
    return f"ở dòng {match.group('line')}, cột {match.group('column')}: {said}"


def load_toml(path: str | Path, what: str, error: type[Exception]) -> dict[str, Any]:
    """The TOML file at `path` — `what` it is, for the messages ("sổ quy tắc") —, or
    `error` saying in Vietnamese why it cannot be read. TOML is UTF-8; a byte-order
    mark, which Windows editors write, is allowed. A file saved in another encoding
    (UTF-16, Windows-1258…) is refused with how to save it again."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise error(f"Không tìm thấy tệp {what} '{path}'.") from None
    except OSError as exc:
        raise error(f"Không đọc được tệp {what} '{path}': {exc.strerror}.") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(
            f"Tệp {what} '{path}' không phải văn bản UTF-8 (byte thứ {exc.start + 1} không "
            "đọc được). Hãy mở tệp và lưu lại với bảng mã UTF-8 (trong Notepad: Lưu thành… "
            "› Mã hóa: UTF-8)."
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(
            f"Tệp {what} '{path}' không đúng cú pháp TOML {toml_error_text(exc)}."
        ) from None
