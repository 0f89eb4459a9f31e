"""The retention job's deletions against real PostgreSQL: each event's own limit."""

from __future__ import annotations

from findme_events.store import retention
from findme_events.usecases import events, photos
from findme_events.usecases.resources import Resources
from sqlalchemy import text

from ..support import claim, complete, count, fail_next_photo, near, new_attendee, new_event, unit

AGE_EVERYTHING = (
    "UPDATE matches SET detected_at = now() - interval '2 days'",
    "UPDATE selfies SET created_at = now() - interval '2 days'",
    "UPDATE faces SET created_at = now() - interval '2 days'",
    "UPDATE photos SET created_at = now() - interval '2 days'",
)


async def test_retention_purges_old_matches_selfies_faces_and_failed_photos_per_event(
    resources: Resources, organizer_id: int
) -> None:
    engine = resources.engine
    short = await new_event(resources, organizer_id, retention_days=1)
    long = await new_event(resources, organizer_id, retention_days=30)
    for event_id in (short, long):
        await new_attendee(resources, event_id, "ann", unit(8))
        await photos.add_photos(
            resources, organizer_id=organizer_id, event_id=event_id, contents=[b"x", b"y"]
        )
        photo = await claim(engine)
        assert photo is not None
        # Ann, and a bystander who never registered.
        await complete(engine, photo, [near(unit(8), 0.1), unit(9)])
        await fail_next_photo(engine)
    async with engine.begin() as conn:
        assert await retention.purge(conn=conn) == retention.Purged()  # nothing old yet
        assert await retention.expired_failed_photos(conn=conn, limit=10) == []
        for statement in AGE_EVERYTHING:
            await conn.execute(text(statement))
        assert await retention.purge(conn=conn) == retention.Purged(matches=1, selfies=1, faces=2)
        (expired,) = await retention.expired_failed_photos(conn=conn, limit=10)
        assert expired.blob_keys[0].startswith(f"events/{short}/originals/")
        assert await retention.delete_photos(conn=conn, photo_ids=[expired.id]) == 1

    stats = await events.event_stats(resources, organizer_id=organizer_id, event_id=short)
    assert (stats.matches, stats.selfies, stats.faces) == (0, 0, 0)
    assert await count(engine, "SELECT count(*) FROM photos WHERE event_id = :e", e=short) == 1
    kept = await events.event_stats(resources, organizer_id=organizer_id, event_id=long)
    assert (kept.matches, kept.selfies, kept.faces) == (1, 1, 2)
    assert await count(engine, "SELECT count(*) FROM photos WHERE event_id = :e", e=long) == 2
