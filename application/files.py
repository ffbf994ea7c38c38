"""Files the commands write for people (workbooks, letters, reports, exports).

Each is written under a temporary name beside its target and renamed when whole,
so an interrupted command never leaves a file that opens as a shorter good one;
a target that cannot be written is refused in Vietnamese, saying why.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from events.locations import sqlite_file
from workflow.errors import DomainError

# The SQLite files of the database this process has open: a report or an export
# given one of them as its target would replace the ledger itself.
_DATABASE_FILES: set[str] = set()
_SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


def protect_database(url: str) -> None:
    """Refuse from now on to write a file over the SQLite database at `url`."""
    path = sqlite_file(url.split("?", 1)[0])  # the file, whatever options follow
    if path and path != ":memory:":
        _DATABASE_FILES.update(os.path.realpath(path + s) for s in _SQLITE_COMPANIONS)


def _check_not_the_database(target: Path) -> None:
    if os.path.realpath(target) in _DATABASE_FILES:
        raise DomainError(
            f"Tệp '{target}' là cơ sở dữ liệu đang dùng (hoặc tệp đi kèm của nó): ghi vào đó "
            "sẽ xóa mất sổ sự kiện. Hãy chọn một tên tệp khác."
        )


class CannotWrite(DomainError):
    def __init__(self, path: Path, error: OSError):
        self.path = path
        super().__init__(f"Không ghi được tệp '{path}': {_why(path, error)}.")


def _why(path: Path, error: OSError) -> str:
    if error.errno == errno.ENOENT and not path.parent.is_dir():
        return f"thư mục '{path.parent}' không tồn tại"
    if error.errno == errno.EISDIR or path.is_dir():
        return "đây là một thư mục; hãy ghi rõ tên tệp"
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "không có quyền ghi vào đó"
    if error.errno == errno.ENOSPC:
        return "ổ đĩa đã đầy"
    return error.strerror or str(error)


@contextmanager
def written_whole(
    path: str | Path, mode: str = "wb", durable: bool = False, new_only: bool = False
) -> Iterator[IO]:
    """A handle on the temporary file that becomes `path` when the block ends
    without error. `durable`: flushed to the disk before the rename (an export that
    is the only copy of a log). `new_only`: refuse a `path` that exists (a blank form
    must not replace the one someone filled in)."""
    target = Path(path)
    _check_not_the_database(target)
    if target.is_dir():
        raise CannotWrite(target, IsADirectoryError(errno.EISDIR, "is a directory"))
    if new_only and target.exists():
        raise DomainError(
            f"Tệp '{target}' đã có: không ghi đè (có thể là sổ đã điền). Hãy chọn tên tệp "
            "khác, hoặc xóa tệp đó trước."
        )
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        with partial.open(mode, **({} if "b" in mode else {"encoding": "utf-8"})) as handle:
            yield handle
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(partial, target)
    except OSError as exc:
        raise CannotWrite(target, exc) from None
    finally:
        partial.unlink(missing_ok=True)


def folder_for_files(path: str | Path) -> Path:
    """A folder to write files into, made if it is not there yet."""
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CannotWrite(folder, exc) from None
    return folder
