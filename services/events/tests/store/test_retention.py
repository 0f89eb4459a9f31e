"""The retention job's deletions against real PostgreSQL: each event's own limit."""

from __future__ import annotations

from findme_events.store import retention
from findme_events.usecases import events, missed, photos, suggestions
from findme_events.usecases.resources import Resources
from sqlalchemy import text

from ..support import claim, complete, count, near, new_attendee, new_event, unit


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
        assert set((await retention.purge(conn=conn)).values()) == {0}  # nothing old yet
        await conn.execute(text("UPDATE matches SET detected_at = now() - interval '2 days'"))
        await conn.execute(text("UPDATE selfies SET created_at = now() - interval '2 days'"))
        assert await retention.purge(conn=conn) == {
            "matches": 1,
            "selfies": 1,
            # The selfie's reference and pairs went with it (cascade).
            "references": 0,
            "suggestions": 0,
            "answers": 0,
            "missed_photos": 0,
        }
    stats = await events.event_stats(resources, organizer_id=organizer_id, event_id=short)
    assert (stats.matches, stats.selfies) == (0, 0)
    kept = await events.event_stats(resources, organizer_id=organizer_id, event_id=long)
    assert (kept.matches, kept.selfies) == (1, 1)
    assert await count(engine, "SELECT count(*) FROM face_references") == 1
    assert await count(engine, "SELECT count(*) FROM nearby_faces") == 1


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
    assert removed == {
        "matches": 0,
        "selfies": 1,
        "references": 1,
        "suggestions": 1,
        "answers": 2,
        "missed_photos": 1,
    }
    assert [await count(engine, f"SELECT count(*) FROM {t}") for t in learnt] == [0] * 6
