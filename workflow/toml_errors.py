"""tomllib's complaints about a rulebook or calendar file, said in Vietnamese."""

from __future__ import annotations

import re

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
