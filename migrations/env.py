"""Alembic environment: URL from the application's settings, batch mode on SQLite."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context

from application.tables import metadata
from events.database import WRITE, make_engine, resolve_url
from migrations import include_object, lock_schema

config = context.config
if config.config_file_name is not None and not config.attributes.get("quiet_logging"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def database_url() -> str:
    return resolve_url(
        config.attributes.get("url") or context.get_x_argument(as_dictionary=True).get("db")
    )


def run_migrations_offline() -> None:
    context.configure(
        url=database_url(),
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(database_url())
    # A write transaction from its start (BEGIN IMMEDIATE on SQLite): a second init
    # on a new file waits for the first, instead of failing as it turns to writing.
    with engine.connect().execution_options(**{WRITE: True}) as connection:
        _run(connection)
    engine.dispose()


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        # SQLite's DDL is transactional (the driver sends no COMMIT of its own: nhiemvu
        # issues BEGIN itself), but Alembic assumes otherwise and commits after each
        # migration — releasing the write lock between two steps to another init, which
        # then ran the remaining steps again. One transaction, as on PostgreSQL.
        transactional_ddl=True,
        compare_type=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        # Before Alembic reads the revision: one waiting here finds the others' work.
        lock_schema(connection)
        context.run_migrations()
    if connection.in_transaction():
        connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
