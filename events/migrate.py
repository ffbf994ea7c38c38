"""Create or upgrade the schema with Alembic (what `nhiemvu init` runs)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

import migrations

from .database import connect_or_explain, make_engine


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations.DIRECTORY))
    config.attributes["url"] = url
    config.attributes["quiet_logging"] = True
    return config


def upgrade(url: str, revision: str = "head") -> None:
    engine = make_engine(url)
    try:  # a database that cannot be opened: a Vietnamese reason, not Alembic's traceback
        connect_or_explain(engine).close()
    finally:
        engine.dispose()
    command.upgrade(alembic_config(url), revision)
