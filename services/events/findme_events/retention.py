"""The retention job: matches and selfies older than their event's retention_days go.

Each statement first narrows by the shortest retention of any event, a plain range
on the time index (ix_matches_detected_at, ix_selfies_created_at), then applies
each row's own event's limit.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

SHORTEST_RETENTION = text("SELECT coalesce(min(retention_days), 0) FROM events")

PURGE_MATCHES = text(
    """
    DELETE FROM matches m
    USING attendees a, events e
    WHERE m.detected_at < now() - make_interval(days => :shortest)
      AND a.id = m.attendee_id AND e.id = a.event_id
      AND m.detected_at < now() - make_interval(days => e.retention_days)
    """
)

PURGE_SELFIES = text(
    """
    DELETE FROM selfies s
    USING attendees a, events e
    WHERE s.created_at < now() - make_interval(days => :shortest)
      AND a.id = s.attendee_id AND e.id = a.event_id
      AND s.created_at < now() - make_interval(days => e.retention_days)
    """
)


async def purge(*, conn: AsyncConnection) -> tuple[int, int]:
    """Delete expired matches and selfies; (matches, selfies) removed."""
    shortest = int((await conn.execute(SHORTEST_RETENTION)).scalar_one())
    if shortest <= 0:
        return 0, 0
    matches = await conn.execute(PURGE_MATCHES, {"shortest": shortest})
    selfies = await conn.execute(PURGE_SELFIES, {"shortest": shortest})
    return int(matches.rowcount), int(selfies.rowcount)
