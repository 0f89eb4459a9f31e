"""The retention job's deletions against real PostgreSQL: each event's own limit."""

from __future__ import annotations

from findme_events.store import retention
from findme_events.usecases import events, missed, photos, suggestions
from findme_events.usecases.resources import Resources
from sqlalchemy import text

from ..support import (
    age_everything,
    claim,
    complete,
    count,
    event_data_for_retention,
    near,
    new_attendee,
    new_event,
    unit,
)


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


async def test_retention_purges_what_the_matching_learnt(
    resources: Resources, organizer_id: int
) -> None:
    """Confirmed faces, suggestions, answers and flags go with the selfie's time."""
    engine = resources.engine
    event_id = await new_event(resources, organizer_id, retention_days=1, match_tolerance=0.4)
    me = unit(9)
    ann = await new_attendee(resources, event_id, "ann", me)
    await photos.add_photos(
        resources, organizer_id=organizer_id, event_id=event_id, contents=[b"1", b"2", b"3"]
    )
    ids = []
    for face in (near(me, 0.45, seed=1), near(me, 0.5, seed=2), near(me, 0.45, seed=3)):
        photo = await claim(engine)
        assert photo is not None
        await complete(engine, photo, [face])
        ids.append(photo.id)
    await suggestions.answer_suggestion(resources, attendee_id=ann, photo_id=ids[0], answer="me")
    await suggestions.answer_suggestion(
        resources, attendee_id=ann, photo_id=ids[1], answer="not_me"
    )
    await missed.flag_missed_photo(resources, attendee_id=ann, photo_id=ids[1])
    learnt = (
        "face_references",
        "nearby_faces",
        "suggestions",
        "face_answers",
        "missed_photos",
        "selfies",
    )
    assert [await count(engine, f"SELECT count(*) FROM {t}") for t in learnt] == [2, 4, 1, 2, 1, 1]
    async with engine.begin() as conn:
        for table in learnt:
            if table != "nearby_faces":  # no time of its own: it goes with its reference
                await conn.execute(
                    text(f"UPDATE {table} SET created_at = now() - interval '2 days'")
                )
        removed = await retention.purge(conn=conn)
    assert removed == retention.Purged(
        selfies=1, references=1, suggestions=1, answers=2, missed_photos=1
    )
    assert [await count(engine, f"SELECT count(*) FROM {t}") for t in learnt] == [0] * 6
