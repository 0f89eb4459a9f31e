"""The retention job's deletions against real PostgreSQL: each event's own limit."""

from __future__ import annotations

from findme_events.store import retention
from findme_events.usecases import events
from findme_events.usecases.resources import Resources

from ..support import age_everything, count, event_data_for_retention, new_event


async def test_retention_purges_old_matches_selfies_faces_and_failed_photos_per_event(
    resources: Resources, organizer_id: int
) -> None:
    engine = resources.engine
    short = await new_event(resources, organizer_id, retention_days=1)
    long = await new_event(resources, organizer_id, retention_days=30)
    for event_id in (short, long):
        await event_data_for_retention(resources, organizer_id, event_id, [b"x", b"y"])
    async with engine.begin() as conn:
        assert await retention.purge(conn=conn) == retention.Purged()  # nothing old yet
        assert await retention.expired_failed_photos(conn=conn, limit=10) == []
    await age_everything(engine, 2)
    async with engine.begin() as conn:
        assert await retention.purge(conn=conn) == retention.Purged(matches=1, selfies=1, faces=3)
        (expired,) = await retention.expired_failed_photos(conn=conn, limit=10)
        assert expired.blob_keys[0].startswith(f"events/{short}/originals/")
        assert await retention.delete_photos(conn=conn, photo_ids=[expired.id]) == 1

    stats = await events.event_stats(resources, organizer_id=organizer_id, event_id=short)
    assert (stats.matches, stats.selfies, stats.faces) == (0, 0, 0)
    assert await count(engine, "SELECT count(*) FROM photos WHERE event_id = :e", e=short) == 1
    kept = await events.event_stats(resources, organizer_id=organizer_id, event_id=long)
    assert (kept.matches, kept.selfies, kept.faces) == (1, 1, 3)
    assert await count(engine, "SELECT count(*) FROM photos WHERE event_id = :e", e=long) == 2
