"""The retention job's deletions against real PostgreSQL: each event's own limit."""

from __future__ import annotations

from findme_events.store import retention
from findme_events.usecases import events, photos
from findme_events.usecases.resources import Resources
from sqlalchemy import text

from ..support import claim, complete, near, new_attendee, new_event, unit


async def test_retention_purges_old_matches_and_selfies_per_event(
    resources: Resources, organizer_id: int
) -> None:
    engine = resources.engine
    short = await new_event(resources, organizer_id, retention_days=1)
    long = await new_event(resources, organizer_id, retention_days=30)
    for event_id in (short, long):
        await new_attendee(resources, event_id, "ann", unit(8))
        await photos.add_photos(
            resources, organizer_id=organizer_id, event_id=event_id, contents=[b"x"]
        )
        photo = await claim(engine)
        assert photo is not None
        await complete(engine, photo, [near(unit(8), 0.1)])
    async with engine.begin() as conn:
        assert await retention.purge(conn=conn) == (0, 0)  # nothing old yet
        await conn.execute(text("UPDATE matches SET detected_at = now() - interval '2 days'"))
        await conn.execute(text("UPDATE selfies SET created_at = now() - interval '2 days'"))
        assert await retention.purge(conn=conn) == (1, 1)
    stats = await events.event_stats(resources, organizer_id=organizer_id, event_id=short)
    assert (stats.matches, stats.selfies) == (0, 0)
    kept = await events.event_stats(resources, organizer_id=organizer_id, event_id=long)
    assert (kept.matches, kept.selfies) == (1, 1)
