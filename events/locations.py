"""Where the database is: --db, $NHIEMVU_DB or the embedded default (no driver needed)."""

from __future__ import annotations

import os
import re
from urllib.parse import unquote

from .errors import BadDatabaseUrl, UnsupportedDatabase

DB_ENV_VAR = "NHIEMVU_DB"
DEFAULT_SQLITE_FILE = "nhiemvu.db"
SQLITE_PREFIX = "sqlite:///"
POSTGRES_PREFIX = "postgresql+psycopg://"


def resolve_url(url: str | None = None) -> str:
    """--db, then $NHIEMVU_DB, then an SQLite file in the working directory.

    A bare path is taken as an SQLite file; `postgresql://` gets the psycopg driver.
    """
    url = url or os.environ.get(DB_ENV_VAR) or DEFAULT_SQLITE_FILE
    if "://" not in url:
        return sqlite_url(url)
    if url.startswith(("postgresql://", "postgres://")):
        url = POSTGRES_PREFIX + url.split("://", 1)[1]
    if not url.startswith(SUPPORTED_SCHEMES):
        raise UnsupportedDatabase(url.split("://", 1)[0])
    if url.startswith(POSTGRES_PREFIX):
        _check_postgres_url(url)
    return url


# SQLAlchemy's reading of a URL (sqlalchemy.engine.url._parse_url), which this module
# must not import: a one-command process on the bare driver would pay for it.
_URL_PARTS = re.compile(
    r"""[\w+]+://
    (?:(?P<username>[^:/]*)(?::(?P<password>[^@]*))?@)?
    (?:(?:\[(?P<ipv6host>[^/?]+)\]|(?P<ipv4host>[^/:?]+))?(?::(?P<port>[^/?]*))?)?
    (?:/(?P<database>[^?]*))?""",
    re.X,
)


def _check_postgres_url(url: str) -> None:
    """Refuse what SQLAlchemy would fail on with a traceback (a port that is not a
    number, an IPv6 address without its closing bracket), and a URL without a
    database: libpq would pick one by the user's name, and `init` migrate it."""
    parts = _URL_PARTS.match(url)
    port, database = parts["port"], unquote(parts["database"] or "")
    if parts["password"] is not None:  # what is said of the URL never shows it
        start, end = parts.span("password")
        url = f"{url[:start]}***{url[end:]}"
        parts = _URL_PARTS.match(url)
    problem = None
    if port is not None and "," in port:
        problem = _several_hosts(url, parts)
    elif port is not None and not (port.isdigit() and 0 < int(port) < 65536):
        problem = f"cổng '{port}' không phải là một số từ 1 đến 65535"
        if (parts["ipv4host"] or "").startswith("["):
            problem += " (địa chỉ IPv6 phải nằm trọn trong ngoặc vuông, như [::1]:5432)"
    elif not database:
        problem = (
            "thiếu tên cơ sở dữ liệu sau dấu '/' (không có nó, PostgreSQL tự chọn cơ sở dữ "
            "liệu trùng tên người dùng)"
        )
    if problem is not None:
        raise BadDatabaseUrl(url, problem)


def _several_hosts(url: str, parts: re.Match) -> str:
    """libpq's list of servers (`h1:5432,h2:5432`, for a standby to take over) is read
    by SQLAlchemy as one host with a port that is no number; it takes the same list as
    one `host` option each. The refusal gives the URL written that way."""
    hosts = f"{parts['ipv4host'] or ''}:{parts['port']}".split(",")
    query = "&".join(f"host={h}" for h in hosts)
    rest = url[parts.end() :].removeprefix("?")
    before = url[: parts.start("ipv4host")] if parts["ipv4host"] else url[: parts.start("port")]
    database = parts["database"] or "tên_csdl"
    if "target_session_attrs" not in rest:
        rest = "&".join(filter(None, [rest, "target_session_attrs=read-write"]))
    return (
        "nhiều máy chủ phải ghi mỗi máy một tham số host, không nối bằng dấu phẩy; ví dụ: "
        f"{before.rstrip(':')}/{database}?{query}&{rest} (target_session_attrs=read-write: "
        "chỉ ghi vào máy chủ chính)"
    )


def sqlite_url(path: str) -> str:
    """The URL of the SQLite file `path`, whatever its name holds.

    SQLAlchemy's parser reads `%XX` in a URL as an escape and `?` as the start of
    options: `c%20d.db` would open `c d.db`, and `b?mode=ro.db` a file `b`. Only
    those two are escaped, so the URL still shows the name as it was typed."""
    return SQLITE_PREFIX + path.replace("%", "%25").replace("?", "%3F")


def sqlite_file(url: str) -> str | None:
    """The file an `sqlite:///` URL names, read as SQLAlchemy reads it; None for
    another engine or driver, or a URL with options (`?…`)."""
    if not url.startswith(SQLITE_PREFIX):
        return None
    path, query, _ = url[len(SQLITE_PREFIX) :].partition("?")
    return None if query else unquote(path)


# The engines nhiemvu is built and tested for, with the drivers it installs.
SUPPORTED_SCHEMES = ("sqlite:", "sqlite+pysqlite:", "postgresql+psycopg:")


def shown(url: str) -> str:
    """The database as people gave it, to say which one a command worked on: an
    SQLite file by its path (a URL escapes its Vietnamese letters), a server's URL
    without its password."""
    path = sqlite_file(url)
    if path is not None:
        return path
    from sqlalchemy.engine import make_url  # noqa: PLC0415 - a server's URL only

    return make_url(url).render_as_string(hide_password=True)
