"""Create or upgrade the schema with Alembic (what `nhiemvu init` runs)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

import migrations

from .database import WRITE, connect_or_explain, make_engine
from .errors import EventStoreError, SchemaOutOfDate
from .guards import restore_guards


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations.DIRECTORY))
    config.attributes["url"] = url
    config.attributes["quiet_logging"] = True
    return config


def upgrade(url: str, revision: str = "head") -> list[str]:
    """Migrate to `revision`; at the head, put back the log's guarding triggers that
    were dropped or disabled behind the store's back. Returns their names."""
    engine = make_engine(url)
    try:  # a database that cannot be opened: a Vietnamese reason, not Alembic's traceback
        connect_or_explain(engine).close()
        _check_upgradable(engine)
    finally:
        engine.dispose()
    command.upgrade(alembic_config(url), revision)
    if revision != "head":
        return []
    engine = make_engine(url)
    try:
        with engine.connect().execution_options(**{WRITE: True}) as connection, connection.begin():
            migrations.lock_schema(connection)  # another init may be restoring them too
            return restore_guards(connection)
    finally:
        engine.dispose()


def _check_upgradable(engine) -> None:
    """What Alembic would fail on with a traceback: a schema from a newer program, or
    the log's tables without the table that says which schema they are. Read under
    the schema lock, in one transaction: another init committing between two reads
    made its new tables look like a schema of no known version."""
    with engine.connect() as connection, connection.begin():
        migrations.lock_schema(connection)
        tables = sa.inspect(connection)
        current = (
            connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
            if tables.has_table("alembic_version")
            else None
        )
        has_events = tables.has_table("events")
    if current is not None and current > migrations.HEAD:
        raise SchemaOutOfDate(current, migrations.HEAD)
    if current is None and has_events:
        raise EventStoreError(
            "Cơ sở dữ liệu đã có bảng sổ sự kiện (events) nhưng không có bảng phiên bản lược "
            "đồ (alembic_version): nó không do `nhiemvu init` tạo, hoặc bảng đó đã bị xóa. "
            "Không nâng cấp một lược đồ không rõ phiên bản: hãy kiểm tra lại --db; nếu bảng "
            "phiên bản bị xóa nhầm, hãy khôi phục cơ sở dữ liệu từ bản sao lưu."
        )
