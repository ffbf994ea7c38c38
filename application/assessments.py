"""A year's assessments of the general criteria as recorded (`nhiemvu assess`): which
of them the scores count — the latest of each agency and criterion — and the event
ids `nhiemvu correct` takes. The rating shows only their sum."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from events.schema import events
from workflow.rulebook import Rulebook
from workflow.text import code

from . import loading
from . import tables as t


def assessments_of(
    connection: Connection, year: int, rulebook: Rulebook, agency: str | None = None
) -> list[dict[str, Any]]:
    """Every standing assessment of `year` (of `agency`'s only, if given), by agency,
    then criterion as the rulebook orders them, then as recorded."""
    assessed = t.assessments
    query = (
        sa.select(assessed, events.c.recorded_at, events.c.actor)
        .join(events, events.c.event_id == assessed.c.event_id)
        .where(assessed.c.year == year)
        .order_by(assessed.c.position)
    )
    found = None
    if agency is not None:
        agency = code(agency)  # as typed: any case, NFD or NFC
        found = loading.load_agency(connection, agency)  # an unknown code is refused, named
        query = query.where(assessed.c.agency == agency)
    rows = connection.execute(query).all()
    if found is not None and not rows:
        # Not "none recorded, each criterion counts in full": a year it did not stand in
        # has no score, and `assess` refuses it.
        found.check_stands_in(date(year, 1, 1), date(year, 12, 31), "đánh giá tiêu chí chung")
    counted = {(r.agency, r.criterion): r.event_id for r in rows}  # the latest wins
    names = loading.load_agencies(connection)
    order = {c.code: i for i, c in enumerate(rulebook.general_criteria)}
    listed = []
    for r in rows:
        criterion = rulebook.criterion(r.criterion)
        listed.append(
            {
                "agency": r.agency,
                "name": names[r.agency].name_on(date(year, 12, 31)),
                "year": r.year,
                "criterion": r.criterion,
                "criterion_label": criterion.label if criterion else r.criterion,
                "points": r.points,
                "max_points": float(criterion.max) if criterion else None,
                "reason": r.reason,
                "recorded_at": r.recorded_at.isoformat(),
                "actor": r.actor,
                "event_id": r.event_id,
                "counted": criterion is not None and counted[(r.agency, r.criterion)] == r.event_id,
            }
        )
    listed.sort(key=lambda a: (a["agency"], order.get(a["criterion"], len(order))))
    return listed
