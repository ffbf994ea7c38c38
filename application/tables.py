"""Every table of the application on one MetaData: the store's and the projections'.

Projection tables keep, per aggregate, the facts still in force (retracted ones
removed) as JSON; the domain derives state from them. A few columns are copied
out only so that queries can filter without reading every document.
"""

import sqlalchemy as sa

from events.schema import metadata

tasks = sa.Table(
    "proj_tasks",
    metadata,
    sa.Column("task_id", sa.String(100), primary_key=True),
    sa.Column("directive", sa.String(100), nullable=False, index=True),
    sa.Column("assigned_on", sa.Date, nullable=False),
    sa.Column("facts", sa.JSON, nullable=False),
)

task_leads = sa.Table(
    "proj_task_leads",
    metadata,
    sa.Column("task_id", sa.String(100), primary_key=True),
    sa.Column("agency", sa.String(50), primary_key=True, index=True),
)

agencies = sa.Table(
    "proj_agencies",
    metadata,
    sa.Column("code", sa.String(50), primary_key=True),
    sa.Column("facts", sa.JSON, nullable=False),
)

directives = sa.Table(
    "proj_directives",
    metadata,
    sa.Column("number", sa.String(100), primary_key=True),
    sa.Column("issued_on", sa.Date, nullable=False),
    sa.Column("kind", sa.String(100), nullable=True),
    sa.Column("issuer", sa.String(200), nullable=True),
    sa.Column("title", sa.Text, nullable=False),
)

documents = sa.Table(
    "proj_documents",
    metadata,
    sa.Column("number", sa.String(100), primary_key=True),
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
    sa.Column("agency", sa.String(50), nullable=False),
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

PROJECTION_TABLES = [tasks, task_leads, agencies, directives, documents, assessments, ratings]

__all__ = ["metadata", "PROJECTION_TABLES"]
