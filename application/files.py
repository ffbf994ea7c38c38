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
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Keep:
    """A file already at a target is kept and the command refused: someone may have
    filled it in or edited it. `may_be`: what it may be; `otherwise`: how to write
    anyway."""

    may_be: str = "có thể là sổ đã điền"
    otherwise: str = "xóa tệp đó trước"

    def check(self, target: Path) -> None:
        if target.exists():
            raise DomainError(
                f"Tệp '{target}' đã có: không ghi đè ({self.may_be}). Hãy chọn tên tệp "
                f"khác, hoặc {self.otherwise}."
            )


# A blank form must not replace the one someone filled in: no way round it but a
# new name (`nhiemvu import template`).
KEEP_FILLED_IN = Keep()


def replaceable(may_be: str) -> Keep:
    """Kept unless the command is given --replace."""
    return Keep(may_be, "thêm --replace để ghi đè")


def check_target(path: str | Path, keep: Keep | None = None) -> Path:
    """`path` as a file a command may write: not the database, not a folder, in a
    folder that exists, and (with `keep`) not there yet. A command checks it before
    its work too, so that a refusal costs no report computed for nothing."""
    target = Path(path)
    _check_not_the_database(target)
    if target.is_dir():
        raise CannotWrite(target, IsADirectoryError(errno.EISDIR, "is a directory"))
    if not target.parent.is_dir():
        raise CannotWrite(target, FileNotFoundError(errno.ENOENT, "no such directory"))
    if keep is not None:
        keep.check(target)
    return target


@contextmanager
def written_whole(
    path: str | Path, mode: str = "wb", durable: bool = False, keep: Keep | None = None
) -> Iterator[IO]:
    """A handle on the temporary file that becomes `path` when the block ends
    without error. `durable`: flushed to the disk before the rename (an export that
    is the only copy of a log). `keep`: refuse a `path` that exists (see Keep)."""
    target = check_target(path, keep)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        with partial.open(mode, **({} if "b" in mode else {"encoding": "utf-8"})) as handle:
            yield handle
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        if keep is not None:
            keep.check(target)  # written meanwhile by someone else
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
