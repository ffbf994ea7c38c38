"""Opening the database with its DB-API driver alone, for reads that must start fast.

Importing SQLAlchemy costs a short read command (`task show`) more than all its
work; such a command can open sqlite3 or psycopg itself and read through
`events.sql.Raw`. Anything unusual (another driver, URL options, a file that
does not exist yet) is left to the SQLAlchemy path, which also says what is wrong.
"""

from __future__ import annotations

import os
from typing import Any

from .locations import resolve_url

SQLITE_PREFIX = "sqlite:///"
POSTGRES_PREFIX = "postgresql+psycopg://"
SQLITE_BUSY_TIMEOUT_S = 30


def connect(url: str | None) -> tuple[Any, str] | None:
    """A DB-API connection in autocommit mode and its dialect name, or None."""
    url = resolve_url(url)
    if url.startswith(SQLITE_PREFIX):
        path = url[len(SQLITE_PREFIX) :]
        if "?" in path or not os.path.isfile(path):
            return None
        import sqlite3  # noqa: PLC0415 - only the engine in use is imported

        connection = sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_S, isolation_level=None)
        return connection, "sqlite"
    if url.startswith(POSTGRES_PREFIX):
        import psycopg  # noqa: PLC0415

        try:
            connection = psycopg.connect(
                "postgresql://" + url[len(POSTGRES_PREFIX) :], autocommit=True
            )
        except psycopg.Error:
            return None  # the SQLAlchemy path reports it the usual way
        return connection, "postgresql"
    return None
