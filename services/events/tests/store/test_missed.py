""" "You missed me here" flags and their queue against real PostgreSQL."""

from __future__ import annotations

import pytest
from findme_common.refusals import Refusal
from findme_events.schemas import FaceBox
from findme_events.store import missed
from findme_events.usecases import photos
from findme_events.usecases.resources import Resources
from sqlalchemy import text

from ..support import claim, complete, count, new_attendee, new_event, unit


def test_overlap_is_intersection_over_union() -> None:
    box = FaceBox(top=0, right=10, bottom=10, left=0)
    assert missed.overlap(box, box) == 1.0
    assert missed.overlap(box, FaceBox(top=0, right=15, bottom=10, left=5)) == pytest.approx(1 / 3)
    assert missed.overlap(box, FaceBox(top=20, right=30, bottom=30, left=20)) == 0.0


async def done_photo(r: Resources, organizer_id: int, event_id: int, content: bytes) -> int:
    """A processed photo (without faces)."""
    (added,) = await photos.add_photos(
        r, organizer_id=organizer_id, event_id=event_id, contents=[content]
    )
    photo = await claim(r.engine)
    assert photo is not None and photo.id == added.id
    await complete(r.engine, photo, [])
    return added.id


async def test_flags_are_for_processed_photos_of_the_event_and_limited(
    resources: Resources, organizer_id: int
) -> None:
    engine = resources.engine
    event_id = await new_event(resources, organizer_id)
    other_event = await new_event(resources, organizer_id)
    ann = await new_attendee(resources, event_id, "ann", unit(1))
    mine = await done_photo(resources, organizer_id, event_id, b"mine")
    elsewhere = await done_photo(resources, organizer_id, other_event, b"elsewhere")
    async with engine.begin() as conn:
        first = await missed.flag(
            conn=conn, attendee_id=ann, event_id=event_id, photo_id=mine, max_flags=1
        )
        # Flagging again answers with the same flag, even at the limit.
        again = await missed.flag(
            conn=conn, attendee_id=ann, event_id=event_id, photo_id=mine, max_flags=1
        )
        assert first == again and first.status == "pending"
        with pytest.raises(Refusal, match=r"^photo_not_found"):
            await missed.flag(
                conn=conn, attendee_id=ann, event_id=event_id, photo_id=elsewhere, max_flags=5
            )
    second = await done_photo(resources, organizer_id, event_id, b"second")
    async with engine.begin() as conn:
        with pytest.raises(Refusal, match=r"^too_many_missed_photos"):
            await missed.flag(
                conn=conn, attendee_id=ann, event_id=event_id, photo_id=second, max_flags=1
            )
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE photos SET status = 'pending' WHERE id = :p"), {"p": second}
        )
        with pytest.raises(Refusal, match=r"^photo_not_found"):
            await missed.flag(
                conn=conn, attendee_id=ann, event_id=event_id, photo_id=second, max_flags=5
            )
    assert await count(engine, "SELECT count(*) FROM missed_photos") == 1


async def test_a_claim_that_expires_is_taken_again_then_fails(
    resources: Resources, organizer_id: int
) -> None:
    engine = resources.engine
    event_id = await new_event(resources, organizer_id)
    ann = await new_attendee(resources, event_id, "ann", unit(1))
    photo_id = await done_photo(resources, organizer_id, event_id, b"photo")
    async with engine.begin() as conn:
        await missed.flag(
            conn=conn, attendee_id=ann, event_id=event_id, photo_id=photo_id, max_flags=5
        )
    for attempt in (1, 2):
        async with engine.begin() as conn:
            claimed = await missed.claim(conn=conn, lease=60, max_attempts=2)
            assert claimed is not None and claimed.attempt == attempt
            assert await missed.claim(conn=conn, lease=60, max_attempts=2) is None
            await conn.execute(
                text("UPDATE missed_photos SET lease_until = now() - interval '1 s'")
            )
    async with engine.begin() as conn:
        assert await missed.claim(conn=conn, lease=60, max_attempts=2) is None
        # The second worker comes back from the dead: its results are not stored.
        assert await missed.complete(conn=conn, flag=claimed, faces=[]) is None
        row = (await conn.execute(text("SELECT status, error FROM missed_photos"))).one()
    assert tuple(row) == ("failed", "processing_timed_out")
