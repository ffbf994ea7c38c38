"""Where the database is: --db, $NHIEMVU_DB or the embedded default (no driver needed)."""

from __future__ import annotations

import os

from .errors import UnsupportedDatabase

DB_ENV_VAR = "NHIEMVU_DB"
DEFAULT_SQLITE_FILE = "nhiemvu.db"


def resolve_url(url: str | None = None) -> str:
    """--db, then $NHIEMVU_DB, then an SQLite file in the working directory.

    A bare path is taken as an SQLite file; `postgresql://` gets the psycopg driver.
    """
    url = url or os.environ.get(DB_ENV_VAR) or DEFAULT_SQLITE_FILE
    if "://" not in url:
        return f"sqlite:///{url}"
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if not url.startswith(SUPPORTED_SCHEMES):
        raise UnsupportedDatabase(url.split("://", 1)[0])
    return url


# The engines nhiemvu is built and tested for, with the drivers it installs.
SUPPORTED_SCHEMES = ("sqlite:", "sqlite+pysqlite:", "postgresql+psycopg:")
