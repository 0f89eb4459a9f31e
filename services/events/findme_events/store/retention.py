"""The retention job's deletions: matches and selfies older than their event's
``retention_days``, and with them everything the matching learnt from the person:
references (their pairs cascade), suggestions, answers and missed-photo flags.

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

from findme_events.models import (
    Attendee,
    Event,
    FaceAnswer,
    FaceReference,
    Match,
    MissedPhoto,
    Selfie,
    Suggestion,
)


def shortest_retention_query() -> Select[Any]:
    return select(func.coalesce(func.min(Event.retention_days), 0))


def _days_ago(days: Any) -> Any:
    return func.now() - func.make_interval(0, 0, 0, days)


def _purge_query(table: Any, stamp: InstrumentedAttribute[Any], shortest: int) -> Delete:
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


# What the matching learnt from a person: kept no longer than their selfie.
LEARNT: dict[str, Any] = {
    "references": FaceReference,
    "suggestions": Suggestion,
    "answers": FaceAnswer,
    "missed_photos": MissedPhoto,
}


def purge_learnt_query(table: Any, shortest: int) -> Delete:
    return _purge_query(table, table.created_at, shortest)


async def purge(*, conn: AsyncConnection) -> dict[str, int]:
    """Delete expired rows; how many of each kind were removed."""
    shortest = int((await conn.execute(shortest_retention_query())).scalar_one())
    if shortest <= 0:
        return {}
    matches = await conn.execute(purge_matches_query(shortest))
    selfies = await conn.execute(purge_selfies_query(shortest))
    removed = {"matches": int(matches.rowcount), "selfies": int(selfies.rowcount)}
    for name, table in LEARNT.items():
        removed[name] = int((await conn.execute(purge_learnt_query(table, shortest))).rowcount)
    return removed
