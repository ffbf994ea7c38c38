"""Every table of the application on one MetaData: the store's and the projections'.

Projection tables keep, per aggregate, the facts still in force (retracted ones
removed) as JSON; the domain derives state from them. A few columns are copied
out only so that queries can filter without reading every document.
"""

import sqlalchemy as sa

from events.schema import metadata

from .lengths import AGENCY_CODE, DIRECTIVE_KIND, DOCUMENT_NUMBER, ISSUER, TASK_ID

tasks = sa.Table(
    "proj_tasks",
    metadata,
    sa.Column("task_id", sa.String(TASK_ID), primary_key=True),
    # The version of the task's stream after its last event: the expected version
    # of the next append.
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("directive", sa.String(DOCUMENT_NUMBER), nullable=False, index=True),
    sa.Column("assigned_on", sa.Date, nullable=False),
    # The task's state now, copied out of the facts so that reports, ratings and
    # escalation select and classify tasks without reading the facts. A state "as
    # of" a date equals this one when no fact is dated after it (`last_fact_on`).
    sa.Column("leads", sa.JSON, nullable=False),
    sa.Column("original_deadline", sa.Date, nullable=True),
    sa.Column("effective_deadline", sa.Date, nullable=True),
    sa.Column("current_deadline", sa.Date, nullable=True),
    sa.Column("completed_on", sa.Date, nullable=True),
    sa.Column("cancelled_on", sa.Date, nullable=True),
    sa.Column("closed_on", sa.Date, nullable=True, index=True),  # completed or cancelled
    sa.Column("last_fact_on", sa.Date, nullable=False),
    sa.Column("escalation_level", sa.Integer, nullable=False),  # for the current deadline
    sa.Column("last_position", sa.BigInteger, nullable=False),  # of the last event applied
    # When the leads changed (NULL: never): each outcome goes to the leads of its day.
    sa.Column("lead_periods", sa.JSON(none_as_null=True), nullable=True),
    sa.Column("facts", sa.JSON, nullable=False),
    sa.Index(None, "current_deadline"),
)

task_leads = sa.Table(
    "proj_task_leads",
    metadata,
    sa.Column("task_id", sa.String(TASK_ID), primary_key=True),
    sa.Column("agency", sa.String(AGENCY_CODE), primary_key=True, index=True),
)

agencies = sa.Table(
    "proj_agencies",
    metadata,
    sa.Column("code", sa.String(AGENCY_CODE), primary_key=True),
    sa.Column("facts", sa.JSON, nullable=False),
)

directives = sa.Table(
    "proj_directives",
    metadata,
    sa.Column("number", sa.String(DOCUMENT_NUMBER), primary_key=True),
    sa.Column("issued_on", sa.Date, nullable=False),
    sa.Column("kind", sa.String(DIRECTIVE_KIND), nullable=True),
    sa.Column("issuer", sa.String(ISSUER), nullable=True),
    sa.Column("title", sa.Text, nullable=False),
)

documents = sa.Table(
    "proj_documents",
    metadata,
    sa.Column("number", sa.String(DOCUMENT_NUMBER), primary_key=True),
    sa.Column("event_id", sa.String(36), nullable=False),
    sa.Column("kind", sa.String(30), nullable=False),
    sa.Column("issued_on", sa.Date, nullable=False, index=True),
    sa.Column("data", sa.JSON, nullable=False),
)

assessments = sa.Table(
    "proj_assessments",
    metadata,
    sa.Column("event_id", sa.String(36), primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("agency", sa.String(AGENCY_CODE), nullable=False),
    sa.Column("year", sa.Integer, nullable=False),
    sa.Column("criterion", sa.String(50), nullable=False),
    sa.Column("points", sa.Float, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Index(None, "year", "agency"),
)

ratings = sa.Table(
    "proj_ratings",
    metadata,
    sa.Column("year", sa.Integer, primary_key=True),
    sa.Column("revision", sa.Integer, primary_key=True),
    sa.Column("event_id", sa.String(36), nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
)

# Counters of the ledger that must never go back, such as the number of the last
# task id handed out (`NV-00042`): a retracted assignment does not free its id.
counters = sa.Table(
    "proj_counters",
    metadata,
    sa.Column("name", sa.String(50), primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)

# The latest completed escalation pass per ladder: what the next pass may skip.
escalation_passes = sa.Table(
    "proj_escalation_passes",
    metadata,
    sa.Column("ladder", sa.String(64), primary_key=True),
    sa.Column("as_of", sa.Date, nullable=False),
    sa.Column("through_position", sa.BigInteger, nullable=False),
    sa.Column("event_id", sa.String(36), nullable=False),
)

PROJECTION_TABLES = [
    tasks,
    task_leads,
    agencies,
    directives,
    documents,
    assessments,
    ratings,
    counters,
    escalation_passes,
]

__all__ = ["metadata", "PROJECTION_TABLES"]
