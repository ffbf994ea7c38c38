"""Create or upgrade the schema with Alembic (what `nhiemvu init` runs)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

import migrations


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations.DIRECTORY))
    config.attributes["url"] = url
    config.attributes["quiet_logging"] = True
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)
