"""Files the commands write for people (workbooks, letters, reports, exports).

Each is written under a temporary name beside its target and renamed when whole,
so an interrupted command never leaves a file that opens as a shorter good one;
a target that cannot be written is refused in Vietnamese, saying why.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
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
    filled it in or edited it. `may_be`: what it may be; `remedy`: what to do instead."""

    may_be: str = "có thể là sổ đã điền"
    remedy: str = "chọn tên tệp khác, hoặc xóa tệp đó trước"

    def check(self, target: Path) -> None:
        if target.exists():
            raise DomainError(
                f"Tệp '{target}' đã có: không ghi đè ({self.may_be}). Hãy {self.remedy}."
            )


# A blank form must not replace the one someone filled in: no way round it but a
# new name (`nhiemvu import template`).
KEEP_FILLED_IN = Keep()


def replaceable(may_be: str) -> Keep:
    """Kept unless the command is given --replace."""
    return Keep(may_be, "chọn tên tệp khác, hoặc thêm --replace để ghi đè")


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


class Staging:
    """The files of a set being written (`written_together`), each under its own name
    in a hidden folder beside their places."""

    def __init__(self, folder: Path, staging: Path, keep: Keep | None) -> None:
        self.folder, self.staging, self.keep = folder, staging, keep
        self.names: list[str] = []

    @contextmanager
    def file(self, name: str) -> Iterator[IO[bytes]]:
        """A binary handle on the file that becomes `name` in the folder with the others."""
        target = check_target(self.folder / name, self.keep)
        try:
            with (self.staging / name).open("wb") as handle:
                yield handle
        except OSError as exc:
            raise CannotWrite(target, exc) from None
        self.names.append(name)


@contextmanager
def written_together(path: str | Path, keep: Keep | None = None) -> Iterator[Staging]:
    """Files written into the folder at `path` (made if need be) all or none.

    Each is written in a hidden folder inside it and they are moved into place, a
    rename each, once the block has ended without error. On any error before that,
    Ctrl-C (KeyboardInterrupt) included, none reaches its place: a re-run would find
    some of the set there and, taking them for files someone may have edited
    (`keep`), refuse. An error while moving them puts back what was moved (see
    `_move_into_place`); a folder made for them and left empty goes too.
    """
    folder = Path(path)
    made = _missing_folders(folder)
    try:
        folder = folder_for_files(folder)
        _remove_stale_stagings(folder)
        try:
            prefix = f"{STAGING_PREFIX}{os.getpid()}-"
            staging = Path(tempfile.mkdtemp(prefix=prefix, suffix=".partial", dir=folder))
        except OSError as exc:
            raise CannotWrite(folder, exc) from None
        try:
            files = Staging(folder, staging, keep)
            yield files
            _move_into_place(files, staging / ".replaced")
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    except BaseException:
        for made_folder in made:  # the deepest first; each only if left empty
            with suppress(OSError):
                made_folder.rmdir()
        raise


STAGING_PREFIX = ".nhiemvu-"
_STAGING = re.compile(rf"^{re.escape(STAGING_PREFIX)}(\d+)-.*\.partial$")


def _remove_stale_stagings(folder: Path) -> None:
    """The hidden folders of sets a killed run was writing (its process gone: SIGKILL,
    a power cut) — drafts never put in place, nothing else refers to them. One holding
    files it had replaced (killed while moving the set into place) is left for a person
    to look at: those are the only copies of the files it replaced."""
    if os.name != "posix":  # os.kill(pid, 0) asks after a process on POSIX only
        return
    for entry in folder.iterdir():
        found = _STAGING.match(entry.name)
        if found is None or not entry.is_dir() or _alive(int(found.group(1))):
            continue
        replaced = entry / ".replaced"
        if replaced.is_dir() and any(replaced.iterdir()):
            continue
        shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _missing_folders(folder: Path) -> list[Path]:
    """The folders `folder_for_files(folder)` would make, the deepest first."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing


def _move_into_place(files: Staging, replaced: Path) -> None:
    """Every staged file to its place, or none: on any error, Ctrl-C included, each
    file moved is taken back — removed if this run created it, the one it replaced
    put back otherwise (kept in `replaced` until the set is in place)."""
    begun: list[str] = []
    target = files.folder
    try:
        replaced.mkdir()
        for name in files.names:
            target = files.folder / name
            if files.keep is not None:
                files.keep.check(target)  # written meanwhile by someone else
            begun.append(name)
            if target.exists():
                os.replace(target, replaced / name)
            os.replace(files.staging / name, target)
    except BaseException as exc:
        for name in reversed(begun):
            with suppress(OSError):
                if (replaced / name).exists():
                    os.replace(replaced / name, files.folder / name)
                elif not (files.staging / name).exists():  # this run's file, in place
                    (files.folder / name).unlink()
        if isinstance(exc, OSError):
            raise CannotWrite(target, exc) from None
        raise
