"""Errors raised by the event store.

Messages are Vietnamese because they reach the secretariat through the CLI.
"""

# What the database says when it refuses a stream version out of sequence (the
# trigger of events.schema); the store turns it into a ConcurrencyError.
CONTIGUOUS_VERSIONS_MESSAGE = "events: stream version out of sequence"
# What the database says when a new event's position is taken already (SQLite's
# trigger of migration 0005; the primary key's name on PostgreSQL): a row was put
# into the log behind the store's back, beyond its head.
POSITION_TAKEN_MESSAGES = (
    "an insert over an existing event refused",
    "pk_events",
    "events.position",
)


class EventStoreError(Exception):
    """Base class for every error the store raises on purpose."""


class ConcurrencyError(EventStoreError):
    """The stream is not at the version the writer expected."""

    def __init__(self, stream_id: str, expected, actual: int):
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"Xung đột ghi đồng thời trên luồng '{stream_id}': mong đợi phiên bản "
            f"{expected}, hiện tại là {actual}. Có người khác vừa ghi vào đây; "
            "hãy xem lại trạng thái rồi thực hiện lại lệnh."
        )


class UnknownEventType(EventStoreError):
    def __init__(self, name: str):
        self.name = name
        super().__init__(f"Loại sự kiện không xác định: '{name}'. Hãy đăng ký loại sự kiện này.")


class InvalidEvent(EventStoreError):
    """The event cannot be stored as given (bad payload, naive time, …)."""


class EventNotProjected(EventStoreError):
    """A projection could not take a stored event: its payload is not shaped as the
    software expects (a log written elsewhere, or edited and hashed again)."""

    def __init__(self, cause: Exception, event=None):
        self.position = None if event is None else event.position
        which = (
            "Một sự kiện trong sổ"
            if event is None
            else f"Sự kiện ở vị trí {event.position} (loại '{event.type}', luồng "
            f"'{event.stream_id}')"
        )
        super().__init__(
            f"{which} không đưa được vào các bảng dẫn xuất: nội dung không đúng dạng phần "
            f"mềm đọc được ({type(cause).__name__}: {cause})."
        )


# How the projection tables are mended, whatever put them out of step with the log.
REBUILD_REMEDY = "hãy chạy `nhiemvu projections rebuild` để dựng lại các bảng đó từ sổ."


class ProjectionOutOfStep(EventStoreError):
    """The projection tables already hold what the log's next events would add: they
    and their checkpoint were changed behind the store's back (a checkpoint moved
    back). Applying them again would count those events twice."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            f"Các bảng dẫn xuất không khớp với sổ sự kiện ({detail}): chúng hoặc mốc đã dựng "
            "(projection_checkpoints) đã bị sửa trực tiếp, ngoài chương trình. Lệnh không ghi "
            f"gì. Sổ sự kiện không bị ảnh hưởng: {REBUILD_REMEDY}"
        )


class HeadMissing(EventStoreError):
    """The log's head row is gone: someone with direct access emptied event_log_head."""

    def __init__(self) -> None:
        super().__init__(
            "Bảng đầu sổ (event_log_head) không còn dòng nào: cơ sở dữ liệu đã bị can thiệp "
            "trực tiếp. Không ghi thêm được vào sổ. Hãy khôi phục cơ sở dữ liệu từ bản sao "
            "lưu, hoặc xuất sổ (`nhiemvu events export`) từ một bản còn nguyên."
        )


class HeadOutOfStep(EventStoreError):
    """The head row names a last event the log does not hold as such: that row was
    deleted, or the head's hash edited. A new event would chain on a broken link."""

    def __init__(self, position: int, missing: bool) -> None:
        what = (
            "không còn trong sổ"
            if missing
            else "có mã băm khác với mã băm ghi ở đầu sổ (event_log_head)"
        )
        super().__init__(
            f"Sự kiện cuối cùng của sổ (vị trí {position}) {what}: cơ sở dữ liệu đã bị can "
            "thiệp trực tiếp. Không ghi thêm được. Hãy chạy `nhiemvu events verify` để xem "
            "chỗ hỏng, và khôi phục cơ sở dữ liệu từ bản sao lưu."
        )


class LogBeyondItsHead(EventStoreError):
    def __init__(self) -> None:
        super().__init__(
            "Sổ sự kiện có dòng ở vị trí sau đầu sổ (event_log_head): một dòng đã được chèn "
            "trực tiếp vào cơ sở dữ liệu. Không ghi thêm được. Hãy chạy `nhiemvu events "
            "verify` để xem vị trí, và khôi phục cơ sở dữ liệu từ bản sao lưu."
        )


class IdempotencyConflict(EventStoreError):
    """Some, but not all, of the events of an append are already stored."""


class SchemaOutOfDate(EventStoreError):
    """`current` None: never migrated; `missing_file`: an SQLite file not there at all
    (a mistyped --db would otherwise create an empty one)."""

    def __init__(self, current: str | None, expected: str, missing_file: str | None = None):
        self.current = current
        self.expected = expected
        self.missing_file = missing_file
        # Revision ids are zero-padded sequence numbers ("0005"): they compare as text.
        self.newer = current is not None and current > expected
        if missing_file is not None:
            text = (
                f"Chưa có tệp cơ sở dữ liệu '{missing_file}'. Hãy chạy `nhiemvu init` để tạo, "
                "hoặc kiểm tra đường dẫn trong --db hoặc biến môi trường NHIEMVU_DB."
            )
        elif self.newer:
            text = (
                f"Cơ sở dữ liệu ở phiên bản lược đồ {current}, mới hơn phiên bản {expected} mà "
                "chương trình này biết: nó đã được một bản nhiemvu mới hơn nâng cấp. Hãy dùng "
                "bản nhiemvu đó (hoặc mới hơn); `nhiemvu init` ở đây không hạ cấp được."
            )
        else:
            state = "chưa được khởi tạo" if current is None else f"ở phiên bản cũ ({current})"
            text = (
                f"Cơ sở dữ liệu {state}, cần phiên bản lược đồ {expected}. "
                "Hãy chạy `nhiemvu init` để tạo hoặc nâng cấp lược đồ."
            )
        super().__init__(text)


class UnsupportedDatabase(EventStoreError):
    def __init__(self, scheme: str):
        self.scheme = scheme
        super().__init__(
            f"Không hỗ trợ cơ sở dữ liệu loại '{scheme}'. Trong --db hoặc biến môi trường "
            "NHIEMVU_DB, hãy dùng đường dẫn tệp SQLite (nhiemvu.db) hoặc "
            "postgresql+psycopg://người_dùng@máy_chủ/tên_csdl."
        )


class BadDatabaseUrl(EventStoreError):
    def __init__(self, where: str, problem: str):
        self.where = where
        super().__init__(
            f"URL cơ sở dữ liệu PostgreSQL '{where}' không dùng được: {problem}. Trong --db hoặc "
            "biến môi trường NHIEMVU_DB, hãy ghi "
            "postgresql+psycopg://người_dùng:mật_khẩu@máy_chủ:cổng/tên_csdl."
        )


class DatabaseUnavailable(EventStoreError):
    """The database named by --db / NHIEMVU_DB cannot be opened or reached. `reason`
    is Vietnamese where the cause is known, the driver's own words otherwise."""

    def __init__(self, where: str, sqlite: bool, reason: str, known: bool = False):
        self.where = where
        self.reason = reason
        if not sqlite and known:
            text = f"Không kết nối được cơ sở dữ liệu PostgreSQL {where}: {reason}."
        elif sqlite:
            text = (
                f"Không mở được tệp cơ sở dữ liệu SQLite '{where}': {reason}. Hãy kiểm tra "
                "đường dẫn trong --db hoặc biến môi trường NHIEMVU_DB."
            )
        else:
            text = (
                f"Không kết nối được cơ sở dữ liệu PostgreSQL {where} (máy chủ báo: {reason}). "
                "Hãy kiểm tra máy chủ có đang chạy không, và tên cơ sở dữ liệu, người dùng, mật "
                "khẩu trong --db hoặc biến môi trường NHIEMVU_DB."
            )
        super().__init__(text)


class _DriverErrorExplained(EventStoreError):
    """A driver's error people can act on, said for them; `detail` is its own line."""

    SAID = "{detail}"
    # What is wrong, without what a person should do about the command: what a process
    # that tries again by itself (the scheduler) says. None: SAID whole.
    CAUSE: str | None = None

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(self.SAID.format(detail=detail))

    @property
    def cause(self) -> str:
        return (self.CAUSE or self.SAID).format(detail=self.detail)


class SchemaDamaged(_DriverErrorExplained):
    """A table or column the program needs is not in the database: its schema was
    changed by hand (the migrations never rename or drop what the code still reads)."""

    SAID = (
        "Cơ sở dữ liệu thiếu một bảng hoặc cột mà nhiemvu cần ({detail}): lược đồ đã bị sửa "
        "trực tiếp, ngoài chương trình. Lệnh không ghi gì. Hãy khôi phục cơ sở dữ liệu từ bản "
        "sao lưu, hoặc xuất sổ (`nhiemvu events export`) từ một bản còn nguyên rồi nhập vào "
        "một cơ sở dữ liệu mới."
    )


class DatabaseBusy(_DriverErrorExplained):
    """Another process held the database's write lock longer than this one waits."""

    CAUSE = (
        "Cơ sở dữ liệu đang bị một tiến trình khác giữ quyền ghi quá lâu ({detail}): có thể là "
        "một lần nhập, dựng lại bảng dẫn xuất, sao lưu, hoặc một phiên sqlite3 hay psql còn "
        "mở."
    )
    SAID = CAUSE + " Lệnh không ghi gì. Hãy chờ tiến trình đó xong rồi chạy lại lệnh."


class DatabaseReadOnly(_DriverErrorExplained):
    """SQLite opened the file for reading only: its permissions (or its folder's,
    where the -wal and -shm files go) refuse this user's writes."""

    SAID = (
        "Không ghi được vào tệp cơ sở dữ liệu: tệp chỉ cho phép đọc ({detail}). Lệnh không ghi "
        "gì. Hãy kiểm tra quyền của tệp và của thư mục chứa nó: người chạy nhiemvu phải được "
        "ghi vào cả hai."
    )


class DiskFull(_DriverErrorExplained):
    CAUSE = "Ổ đĩa chứa cơ sở dữ liệu đã đầy ({detail}): hãy giải phóng chỗ trống trên ổ đĩa đó."
    SAID = (
        "Ổ đĩa chứa cơ sở dữ liệu đã đầy ({detail}). Lệnh không ghi gì. Hãy giải phóng chỗ "
        "trống trên ổ đĩa đó rồi chạy lại lệnh."
    )


class DiskError(_DriverErrorExplained):
    CAUSE = (
        "Lỗi đọc ghi đĩa khi dùng cơ sở dữ liệu ({detail}): ổ đĩa có thể đã đầy, hoặc tệp và "
        "thư mục chứa nó không cho phép ghi."
    )
    SAID = CAUSE + (
        " Lệnh không ghi gì. Hãy giải phóng chỗ trống, kiểm tra quyền ghi rồi chạy lại lệnh."
    )


class ConnectionLost(_DriverErrorExplained):
    """The server closed the session under the command (terminated, restarted)."""

    CAUSE = (
        "Mất kết nối với máy chủ PostgreSQL giữa chừng ({detail}): máy chủ đã khởi động lại, "
        "hoặc phiên làm việc bị ngắt."
    )
    SAID = CAUSE + (
        " Nếu kết nối mất đúng lúc ghi xong, việc ghi có thể đã được lưu: hãy xem lại (ví dụ "
        "`nhiemvu task history MÃ_NV`) trước khi chạy lại lệnh."
    )


class ReadAbandoned(_DriverErrorExplained):
    """PostgreSQL ended a read left waiting for its reader (events.database.read_snapshot)."""

    SAID = (
        "Máy chủ PostgreSQL đã đóng phiên đọc vì kết quả bị dừng giữa chừng quá lâu "
        "({detail}): một lần đọc không được giữ cơ sở dữ liệu lâu như vậy (việc dọn dẹp và "
        "nâng cấp phải chờ nó). Lệnh không ghi gì. Hãy chạy lại lệnh; để xem từng phần, "
        "thu hẹp danh sách (--limit, --year, --month, --agency)."
    )


class PermissionDenied(_DriverErrorExplained):
    SAID = (
        "Người dùng PostgreSQL trong --db không có quyền làm việc này ({detail}). Lệnh không "
        "ghi gì. `nhiemvu init` cần người dùng được tạo bảng (chủ sở hữu cơ sở dữ liệu); các "
        "lệnh khác cần quyền SELECT, INSERT, UPDATE, DELETE trên các bảng của nhiemvu (trên "
        "bảng events chỉ SELECT, INSERT; lệnh GRANT ở README.md, mục 'A PostgreSQL role "
        "for the secretariat')."
    )


# How each engine says a table or column is not there, or the lock could not be
# had in time: SQLite in words only, PostgreSQL by SQLSTATE (undefined_table,
# undefined_column; lock_not_available).
_MISSING_IN_WORDS = ("no such table", "no such column", "has no column named")
_MISSING_SQLSTATES = frozenset({"42P01", "42703"})
_BUSY_IN_WORDS = ("database is locked", "database is busy")
_BUSY_SQLSTATES = frozenset({"55P03"})
# The file opened read-only, out of space, or failing (SQLITE_READONLY, SQLITE_FULL
# and disk_full, SQLITE_IOERR); no right to a table or schema (insufficient_privilege).
_READ_ONLY_IN_WORDS = ("attempt to write a readonly database",)
_FULL_IN_WORDS = ("database or disk is full",)
_FULL_SQLSTATES = frozenset({"53100"})
_DISK_IN_WORDS = ("disk I/O error",)
_DENIED_SQLSTATES = frozenset({"42501"})
# The session gone: psycopg's words for a socket closed under it, or the server's
# connection_exception class (08) and its shutdowns (admin_shutdown, crash_shutdown,
# cannot_connect_now).
_LOST_IN_WORDS = (
    "the connection is lost",
    "the connection is closed",
    "server closed the connection unexpectedly",
    "consuming input failed",
)
_LOST_SQLSTATES = frozenset({"57P01", "57P02", "57P03"})
# A row the projection inserts is there already (unique_violation).
_UNIQUE_IN_WORDS = "UNIQUE constraint failed"
_UNIQUE_SQLSTATE = "23505"


def driver_words(exc: BaseException) -> str:
    """The first line of what the driver said (SQLAlchemy wraps it, with its own
    lines and a link after); the error's kind if it said nothing."""
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else type(cause).__name__


def explained(exc: BaseException) -> EventStoreError | None:
    """The driver's error (or SQLAlchemy's wrapping of it) as the store's own, when it
    is one people can act on: a table or column changed by hand (SchemaDamaged), a
    write lock held too long elsewhere (DatabaseBusy), a file or a disk that refuses
    writes, a session the server ended, a right the role lacks. None for any other."""
    cause = getattr(exc, "orig", None) or exc
    detail = driver_words(exc)
    sqlstate = getattr(cause, "sqlstate", None) or ""

    def said(words, sqlstates=frozenset()) -> bool:
        return sqlstate in sqlstates or any(w in detail for w in words)

    for kind, words, sqlstates in _KINDS:
        if said(words, sqlstates):
            return kind(detail)
    if said(_LOST_IN_WORDS, _LOST_SQLSTATES) or sqlstate.startswith("08"):
        return ConnectionLost(detail)
    if said((_UNIQUE_IN_WORDS,), {_UNIQUE_SQLSTATE}) and "proj_" in detail:
        return ProjectionOutOfStep(detail)
    return None


_KINDS = (
    (SchemaDamaged, _MISSING_IN_WORDS, _MISSING_SQLSTATES),
    (DatabaseBusy, _BUSY_IN_WORDS, _BUSY_SQLSTATES),
    (DatabaseReadOnly, _READ_ONLY_IN_WORDS, frozenset()),
    (DiskFull, _FULL_IN_WORDS, _FULL_SQLSTATES),
    (DiskError, _DISK_IN_WORDS, frozenset()),
    (PermissionDenied, (), _DENIED_SQLSTATES),
    (ReadAbandoned, (), frozenset({"25P03"})),  # idle_in_transaction_session_timeout
)
