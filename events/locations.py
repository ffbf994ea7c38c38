"""Where the database is: --db, $NHIEMVU_DB or the embedded default (no driver needed)."""

from __future__ import annotations

import os
from urllib.parse import unquote

from .errors import UnsupportedDatabase

DB_ENV_VAR = "NHIEMVU_DB"
DEFAULT_SQLITE_FILE = "nhiemvu.db"
SQLITE_PREFIX = "sqlite:///"


def resolve_url(url: str | None = None) -> str:
    """--db, then $NHIEMVU_DB, then an SQLite file in the working directory.

    A bare path is taken as an SQLite file; `postgresql://` gets the psycopg driver.
    """
    url = url or os.environ.get(DB_ENV_VAR) or DEFAULT_SQLITE_FILE
    if "://" not in url:
        return sqlite_url(url)
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if not url.startswith(SUPPORTED_SCHEMES):
        raise UnsupportedDatabase(url.split("://", 1)[0])
    return url


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
