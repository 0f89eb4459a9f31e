"""The retention job's deletions: matches and selfies older than their event's
``retention_days``.

Each statement first narrows by the shortest retention of any event, a plain range
on the time index (ix_matches_detected_at, ix_selfies_created_at), then applies
each row's own event's limit.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Delete, Select, func, select
from sqlalchemy import delete as sql_delete
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import InstrumentedAttribute

from findme_events.models import Attendee, Event, Match, Selfie


def shortest_retention_query() -> Select[Any]:
    return select(func.coalesce(func.min(Event.retention_days), 0))


def _days_ago(days: Any) -> Any:
    return func.now() - func.make_interval(0, 0, 0, days)


def _purge_query(
    table: type[Match] | type[Selfie], stamp: InstrumentedAttribute[Any], shortest: int
) -> Delete:
    return sql_delete(table).where(
        stamp < _days_ago(shortest),
        Attendee.id == table.attendee_id,
        Event.id == Attendee.event_id,
        stamp < _days_ago(Event.retention_days),
    )


def purge_matches_query(shortest: int) -> Delete:
    return _purge_query(Match, Match.detected_at, shortest)


def purge_selfies_query(shortest: int) -> Delete:
    return _purge_query(Selfie, Selfie.created_at, shortest)


async def purge(*, conn: AsyncConnection) -> tuple[int, int]:
    """Delete expired matches and selfies; (matches, selfies) removed."""
    shortest = int((await conn.execute(shortest_retention_query())).scalar_one())
    if shortest <= 0:
        return 0, 0
    matches = await conn.execute(purge_matches_query(shortest))
    selfies = await conn.execute(purge_selfies_query(shortest))
    return int(matches.rowcount), int(selfies.rowcount)
