"""Tables of the event store (SQLAlchemy Core), shared with Alembic.

`metadata` is the single MetaData of the application: projection tables are
declared on it too, so that Alembic's autogenerate sees one schema.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

from .errors import CONTIGUOUS_VERSIONS_MESSAGE
from .serialization import ACTOR_LENGTH, STREAM_ID_LENGTH, to_utc

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator):
    """A timezone-aware instant stored in UTC on every backend.

    SQLite has no time zones: values go in as UTC and come back as naive UTC,
    so both directions normalise.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        value = to_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        return None if value is None else to_utc(value)


events = sa.Table(
    "events",
    metadata,
    # On SQLite an INTEGER primary key is the table's rowid: one b-tree fewer to
    # write per event, and a read by position goes straight to the row.
    sa.Column(
        "position",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=False,
    ),
    sa.Column("event_id", sa.String(36), nullable=False, unique=True),
    sa.Column("stream_id", sa.String(STREAM_ID_LENGTH), nullable=False),
    sa.Column("stream_version", sa.Integer, nullable=False),
    sa.Column("event_type", sa.String(100), nullable=False),
    sa.Column("schema_version", sa.Integer, nullable=False),
    sa.Column("occurred_at", UTCDateTime, nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.Column("actor", sa.String(ACTOR_LENGTH), nullable=False),
    sa.Column("causation_id", sa.String(36), nullable=True),
    sa.Column("correlation_id", sa.String(36), nullable=True),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("metadata", sa.JSON, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.UniqueConstraint("stream_id", "stream_version"),
    # No index on the two times: reads by recording time are reads by position
    # (recorded_at never decreases along it), reads "as of" a business date go by
    # stream, and every index is paid for by every append.
)

# One row (id = 1): the last allocated position, the hash it ended with and its
# recording time. Appenders lock this row for the rest of their transaction,
# which serialises allocation so positions are gapless and in commit order.
log_head = sa.Table(
    "event_log_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("last_position", sa.BigInteger, nullable=False),
    sa.Column("last_hash", sa.String(64), nullable=False),
    sa.Column("last_recorded_at", UTCDateTime, nullable=True),
    sa.CheckConstraint("id = 1", name="single_row"),
)

# The last position each projection has applied; NULL: it follows the head, having
# applied every event (see events.feeds).
projection_checkpoints = sa.Table(
    "projection_checkpoints",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=True),
)


# The database itself refuses to change history (migrations create these).
IMMUTABLE_EVENTS = {
    "sqlite": [
        """CREATE TRIGGER events_no_update BEFORE UPDATE ON events
           BEGIN SELECT RAISE(ABORT, 'events is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER events_no_delete BEFORE DELETE ON events
           BEGIN SELECT RAISE(ABORT, 'events is append-only: DELETE refused'); END""",
    ],
    "postgresql": [
        """CREATE FUNCTION events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN
             RAISE EXCEPTION 'events is append-only: % refused', TG_OP
               USING ERRCODE = 'insufficient_privilege';
           END $$""",
        """CREATE TRIGGER events_no_update BEFORE UPDATE OR DELETE ON events
           FOR EACH ROW EXECUTE FUNCTION events_refuse_change()""",
        """CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
           FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change()""",
    ],
}

# SQLite resolves INSERT OR REPLACE by deleting the row in the way, with no DELETE
# trigger run (see migration 0005): this refuses any insert over an existing event.
# PostgreSQL has no REPLACE; its upsert is an UPDATE, which the log refuses.
NO_REPLACE = {
    "sqlite": [
        """CREATE TRIGGER events_no_replace BEFORE INSERT ON events
   WHEN EXISTS (SELECT 1 FROM events WHERE position = NEW.position)
     OR EXISTS (SELECT 1 FROM events WHERE event_id = NEW.event_id)
   BEGIN SELECT RAISE(ABORT, 'events is append-only: an insert over an existing event refused');
   END""",
    ],
}

# Stream versions are contiguous: a row must be its stream's next version. The
# store computes versions under the log's lock; the database checks them anyway,
# for every writer, so no bug and no hand-made INSERT can leave a gap or a repeat.
CONTIGUOUS_VERSIONS = {
    "sqlite": [
        f"""CREATE TRIGGER events_contiguous_versions BEFORE INSERT ON events
           WHEN NEW.stream_version <> COALESCE(
               (SELECT MAX(stream_version) FROM events WHERE stream_id = NEW.stream_id), 0) + 1
           BEGIN SELECT RAISE(ABORT, '{CONTIGUOUS_VERSIONS_MESSAGE}'); END""",
    ],
    "postgresql": [
        f"""CREATE FUNCTION events_check_version() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN
             IF NEW.stream_version <> COALESCE(
                 (SELECT MAX(stream_version) FROM events WHERE stream_id = NEW.stream_id), 0) + 1
             THEN
               RAISE EXCEPTION '{CONTIGUOUS_VERSIONS_MESSAGE}: % version %',
                 NEW.stream_id, NEW.stream_version USING ERRCODE = 'integrity_constraint_violation';
             END IF;
             RETURN NEW;
           END $$""",
        """CREATE TRIGGER events_contiguous_versions BEFORE INSERT ON events
           FOR EACH ROW EXECUTE FUNCTION events_check_version()""",
    ],
}
DROP_CONTIGUOUS_VERSIONS = {
    "sqlite": ["DROP TRIGGER IF EXISTS events_contiguous_versions"],
    "postgresql": [
        "DROP TRIGGER IF EXISTS events_contiguous_versions ON events",
        "DROP FUNCTION IF EXISTS events_check_version()",
    ],
}
