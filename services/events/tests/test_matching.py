"""The matching rule in both directions, against real PostgreSQL with pgvector:
a stored selfie against the event's faces, and a processed photo against the
event's selfies."""

from __future__ import annotations

import numpy as np
import pytest
from findme_common.refusals import Refusal
from findme_events.models import Face, Match, Photo, Selfie
from findme_events.usecases import photos, selfies
from findme_events.usecases.resources import Resources
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from .support import BOX, claim, complete, near, new_attendee, new_event, unit


async def add_photo(engine: AsyncEngine, event_id: int, faces: list[list[float]]) -> tuple:
    """A processed photo with these face encodings; (photo id, face ids)."""
    async with engine.begin() as conn:
        photo_id = (
            await conn.execute(
                insert(Photo)
                .values(
                    event_id=event_id,
                    status="done",
                    storage_key="k",
                    content_hash=str(np.random.default_rng().random()),
                )
                .returning(Photo.id)
            )
        ).scalar_one()
        face_ids = [
            (
                await conn.execute(
                    insert(Face)
                    .values(
                        photo_id=photo_id,
                        event_id=event_id,
                        top=0,
                        right=1,
                        bottom=1,
                        left=0,
                        encoding=face,
                    )
                    .returning(Face.id)
                )
            ).scalar_one()
            for face in faces
        ]
    return photo_id, face_ids


async def matches_of(engine: AsyncEngine, attendee_id: int) -> dict[int, tuple[int, float]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(Match.photo_id, Match.face_id, Match.distance).where(
                Match.attendee_id == attendee_id
            )
        )
        return {row.photo_id: (row.face_id, row.distance) for row in rows}


async def save(r: Resources, attendee_id: int, encoding: list[float], jpeg: bytes) -> int:
    matches, _ = await selfies.save_selfie(
        r, attendee_id=attendee_id, jpeg=jpeg, encoding=encoding, face=BOX
    )
    return matches


async def test_selfie_matches_the_closest_face_per_photo_within_tolerance(
    resources: Resources, organizer_id: int
) -> None:
    engine = resources.engine
    me = unit(7)
    event_id = await new_event(resources, organizer_id, match_tolerance=0.6)
    other_event = await new_event(resources, organizer_id, match_tolerance=0.6)
    attendee_id = await new_attendee(resources, event_id, "alice")

    group, (far_in_group, near_in_group) = await add_photo(
        engine, event_id, [near(me, 0.5, seed=1), near(me, 0.3, seed=2)]
    )
    solo, (solo_face,) = await add_photo(engine, event_id, [near(me, 0.55, seed=3)])
    stranger_vector = near(me, 0.7, seed=4)
    stranger, _ = await add_photo(engine, event_id, [stranger_vector])
    elsewhere, _ = await add_photo(engine, other_event, [near(me, 0.1, seed=5)])

    assert await save(resources, attendee_id, me, b"\xff\xd8first") == 2
    found = await matches_of(engine, attendee_id)
    assert set(found) == {group, solo}
    assert found[group][0] == near_in_group
    assert found[group][1] == pytest.approx(0.3, abs=1e-4)
    assert found[solo] == (solo_face, pytest.approx(0.55, abs=1e-4))
    assert stranger not in found and elsewhere not in found
    assert far_in_group != near_in_group

    # A new selfie replaces the matches instead of adding to them.
    assert await save(resources, attendee_id, stranger_vector, b"\xff\xd8second") == 1
    assert set(await matches_of(engine, attendee_id)) == {stranger}
    async with engine.connect() as conn:
        stored = (
            await conn.execute(
                select(Selfie.stored_bytes, Selfie.consented_at).where(
                    Selfie.attendee_id == attendee_id
                )
            )
        ).all()
    assert len(stored) == 1 and stored[0].stored_bytes == len(b"\xff\xd8second")


async def test_event_tolerance_is_respected(resources: Resources, organizer_id: int) -> None:
    me = unit(11)
    strict_event = await new_event(resources, organizer_id, match_tolerance=0.4)
    attendee_id = await new_attendee(resources, strict_event, "alice")
    await add_photo(resources.engine, strict_event, [near(me, 0.45)])
    close, _ = await add_photo(resources.engine, strict_event, [near(me, 0.35)])
    assert await save(resources, attendee_id, me, b"jpeg") == 1
    assert set(await matches_of(resources.engine, attendee_id)) == {close}


async def test_selfie_of_unknown_attendee_is_refused(resources: Resources) -> None:
    with pytest.raises(Refusal) as refused:
        await save(resources, 31337, [0.0] * 128, b"jpeg")
    assert refused.value.reason == "attendee_not_found"


async def test_new_photo_matches_the_closest_face_per_attendee(
    resources: Resources, organizer_id: int
) -> None:
    engine = resources.engine
    event_id = await new_event(resources, organizer_id, match_tolerance=0.5)
    ann, bob = unit(1), unit(2)
    ann_id = await new_attendee(resources, event_id, "ann", ann)
    bob_id = await new_attendee(resources, event_id, "bob", bob)
    await new_attendee(resources, event_id, "cy", None)  # no selfie yet
    await photos.add_photos(
        resources, organizer_id=organizer_id, event_id=event_id, contents=[b"p"]
    )
    photo = await claim(engine)
    assert photo is not None
    # Two faces near ann (0.3, 0.1), one just outside bob's tolerance.
    assert await complete(engine, photo, [near(ann, 0.3), near(ann, 0.1), near(bob, 0.51)]) == 1
    async with engine.connect() as conn:
        rows = (
            await conn.execute(text("SELECT attendee_id, distance FROM matches ORDER BY 1"))
        ).all()
    assert [(r.attendee_id, round(r.distance, 6)) for r in rows] == [(ann_id, 0.1)]

    # The other direction: bob's new selfie is ann's face -> he now matches the photo.
    await save(resources, bob_id, near(ann, 0.2), b"j")
    page = await photos.my_photos(resources, attendee_id=bob_id, cursor="")
    assert [item.photo_id for item in page.items] == [photo.id]
