"""The matching rule in both directions, against real PostgreSQL with pgvector:
a stored selfie against the event's faces, and a processed photo against the
event's selfies."""

from __future__ import annotations

import numpy as np
import pytest
from findme_common.refusals import Refusal
from findme_events import matching
from findme_events.models import Face, Match, Photo, Selfie, Suggestion
from findme_events.usecases import attendees, photos, selfies, suggestions
from findme_events.usecases.resources import Resources
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from .support import BOX, claim, complete, count, near, new_attendee, new_event, unit


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
    saved = await selfies.save_selfie(
        r, attendee_id=attendee_id, jpeg=jpeg, encoding=encoding, face=BOX
    )
    return saved.matches


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


# -- two tiers, references, answers, one face one person ----------------------------------


async def tiers_of(engine: AsyncEngine, attendee_id: int) -> tuple[set[int], set[int]]:
    """(matched photos, suggested photos) of the attendee."""
    async with engine.connect() as conn:
        matched = set(
            (
                await conn.execute(select(Match.photo_id).where(Match.attendee_id == attendee_id))
            ).scalars()
        )
        suggested = set(
            (
                await conn.execute(
                    select(Suggestion.photo_id).where(Suggestion.attendee_id == attendee_id)
                )
            ).scalars()
        )
    return matched, suggested


def gap(a: list[float], b: list[float]) -> float:
    return float(np.linalg.norm(np.array(a) - np.array(b)))


async def processed(
    r: Resources, organizer_id: int, event_id: int, faces: list[list[float]]
) -> int:
    """A photo uploaded and processed by the worker's own store calls; its id."""
    await photos.add_photos(
        r, organizer_id=organizer_id, event_id=event_id, contents=[str(faces).encode()]
    )
    photo = await claim(r.engine)
    assert photo is not None
    assert await complete(r.engine, photo, faces) is not None
    return photo.id


async def test_beyond_the_tolerance_a_face_is_a_suggestion_and_answers_teach(
    resources: Resources, organizer_id: int
) -> None:
    """Tolerance 0.40, maybe bound 0.55 (the service default)."""
    engine = resources.engine
    event_id = await new_event(resources, organizer_id, match_tolerance=0.4)
    me = unit(1)
    profile = near(me, 0.45, seed=2)  # maybe
    beside_profile = near(profile, 0.38, seed=3)  # too far from the selfie
    lookalike = near(me, 0.5, seed=4)  # maybe, but a stranger
    lookalike_again = near(lookalike, 0.1, seed=5)  # nearer the stranger than me
    assert gap(me, beside_profile) > 0.55 and gap(me, lookalike_again) <= 0.55
    ann = await new_attendee(resources, event_id, "ann", me)
    sure = await processed(resources, organizer_id, event_id, [near(me, 0.3, seed=6)])
    one = await processed(resources, organizer_id, event_id, [profile, near(me, 0.5, seed=7)])
    two = await processed(resources, organizer_id, event_id, [beside_profile])
    three = await processed(resources, organizer_id, event_id, [lookalike])
    four = await processed(resources, organizer_id, event_id, [lookalike_again])
    far = await processed(resources, organizer_id, event_id, [near(me, 0.6, seed=8)])
    assert await tiers_of(engine, ann) == ({sure}, {one, three, four})
    async with engine.connect() as conn:
        offered = (
            await conn.execute(select(Suggestion.distance).where(Suggestion.photo_id == one))
        ).scalar_one()
    assert offered == pytest.approx(0.45, abs=1e-4)  # the closer face of the photo

    # "That's me": a match, and the confirmed face finds the photo beside it.
    await suggestions.answer_suggestion(resources, attendee_id=ann, photo_id=one, answer="me")
    assert await tiers_of(engine, ann) == ({sure, one, two}, {three, four})
    # Asked again (a retried request): nothing changes, no error.
    await suggestions.answer_suggestion(resources, attendee_id=ann, photo_id=one, answer="me")

    # "Not me": gone for good, and its lookalike is no longer suggested.
    await suggestions.answer_suggestion(resources, attendee_id=ann, photo_id=three, answer="not_me")
    assert await tiers_of(engine, ann) == ({sure, one, two}, set())
    await save(resources, ann, me, b"again")
    assert await tiers_of(engine, ann) == ({sure, one, two}, set())
    assert far not in (await tiers_of(engine, ann))[1]

    # "Not me" on a sure match.
    await suggestions.reject_match(resources, attendee_id=ann, photo_id=sure)
    assert await tiers_of(engine, ann) == ({one, two}, set())
    # A face confirmed, then rejected, stops standing for her: the photo beside it
    # goes; the photo's other face (0.5) is a suggestion again.
    await suggestions.reject_match(resources, attendee_id=ann, photo_id=one)
    assert await tiers_of(engine, ann) == (set(), {one})
    assert (
        await count(engine, "SELECT count(*) FROM face_references WHERE face_id IS NOT NULL") == 0
    )
    for refused, call in (
        (
            "suggestion_not_found",
            suggestions.answer_suggestion(resources, attendee_id=ann, photo_id=far, answer="me"),
        ),
        ("photo_not_found", suggestions.reject_match(resources, attendee_id=ann, photo_id=far)),
        (
            "invalid_answer",
            suggestions.answer_suggestion(
                resources, attendee_id=ann, photo_id=three, answer="maybe"
            ),
        ),
    ):
        with pytest.raises(Refusal) as caught:
            await call
        assert caught.value.reason == refused


async def test_a_new_photo_meets_every_reference(resources: Resources, organizer_id: int) -> None:
    """The photo direction uses confirmed faces too, and the outcome does not depend
    on whether the selfie or the photo came first."""
    engine = resources.engine
    event_id = await new_event(resources, organizer_id, match_tolerance=0.4)
    me = unit(21)
    profile = near(me, 0.45, seed=22)
    ann = await new_attendee(resources, event_id, "ann", me)
    first = await processed(resources, organizer_id, event_id, [profile])
    await suggestions.answer_suggestion(resources, attendee_id=ann, photo_id=first, answer="me")
    later = await processed(resources, organizer_id, event_id, [near(profile, 0.38, seed=23)])
    assert await tiers_of(engine, ann) == ({first, later}, set())

    bob_face = unit(24)
    maybe_bob = await processed(resources, organizer_id, event_id, [near(bob_face, 0.5, seed=25)])
    bob = await new_attendee(resources, event_id, "bob", bob_face)
    assert await tiers_of(engine, bob) == (set(), {maybe_bob})


async def test_one_face_one_person(resources: Resources, organizer_id: int) -> None:
    engine = resources.engine
    event_id = await new_event(resources, organizer_id, match_tolerance=0.5)
    face = unit(31)
    ann = await new_attendee(resources, event_id, "ann", near(face, 0.2, seed=32))
    bob = await new_attendee(resources, event_id, "bob", near(face, 0.45, seed=33))
    photo = await processed(resources, organizer_id, event_id, [face])
    # The closest takes it; the other gets nothing, not even a suggestion.
    assert await tiers_of(engine, ann) == ({photo}, set())
    assert await tiers_of(engine, bob) == (set(), set())
    # Someone much closer than strangers ever are keeps it too (the same person twice).
    twin = await new_attendee(resources, event_id, "twin", near(face, 0.35, seed=34))
    assert await tiers_of(engine, twin) == ({photo}, set())
    assert await tiers_of(engine, bob) == (set(), set())
    # The closest say "not me": it goes to the next.
    await suggestions.reject_match(resources, attendee_id=ann, photo_id=photo)
    await suggestions.reject_match(resources, attendee_id=twin, photo_id=photo)
    assert await tiers_of(engine, bob) == ({photo}, set())
    # A deleted attendee no longer claims anything: a new closest is found anew.
    close = await new_attendee(resources, event_id, "close", near(face, 0.1, seed=35))
    assert await tiers_of(engine, bob) == (set(), set())
    await attendees.delete_attendee(resources, attendee_id=close)
    assert await tiers_of(engine, bob) == ({photo}, set())


async def test_up_to_three_selfies_each_a_reference(
    resources: Resources, organizer_id: int
) -> None:
    engine = resources.engine
    event_id = await new_event(resources, organizer_id, match_tolerance=0.4)
    front, side, dark = unit(41), unit(42), unit(43)
    ann = await new_attendee(resources, event_id, "ann", front)
    photos_of = [
        await processed(resources, organizer_id, event_id, [near(v, 0.3, seed=44)])
        for v in (front, side, dark)
    ]
    assert await tiers_of(engine, ann) == ({photos_of[0]}, set())
    for vector, selfie_count in ((side, 2), (dark, 3)):
        saved = await selfies.save_selfie(
            resources, attendee_id=ann, jpeg=b"j", encoding=vector, face=BOX, add=True
        )
        assert saved.selfies == selfie_count
    assert await tiers_of(engine, ann) == (set(photos_of), set())
    with pytest.raises(Refusal) as refused:
        await selfies.save_selfie(
            resources, attendee_id=ann, jpeg=b"j", encoding=front, face=BOX, add=True
        )
    assert refused.value.reason == "too_many_selfies"
    # Without "add" the new selfie is the only one again.
    saved = await selfies.save_selfie(
        resources, attendee_id=ann, jpeg=b"j", encoding=side, face=BOX
    )
    assert (saved.selfies, saved.matches) == (1, 1)
    assert await tiers_of(engine, ann) == ({photos_of[1]}, set())
    assert await count(engine, "SELECT count(*) FROM face_references") == 1


async def test_settling_again_changes_nothing(resources: Resources, organizer_id: int) -> None:
    """Idempotent: re-deriving the same photos writes nothing, and matches keep their
    time when an unrelated change settles their photo."""
    engine = resources.engine
    event_id = await new_event(resources, organizer_id, match_tolerance=0.4)
    me = unit(51)
    ann = await new_attendee(resources, event_id, "ann", me)
    photo = await processed(
        resources, organizer_id, event_id, [near(me, 0.3, seed=52), near(me, 0.5, seed=53)]
    )
    before = await matches_of(engine, ann)
    async with engine.begin() as conn:
        bounds = await matching.lock_event(conn, event_id)
        assert bounds == matching.Bounds(tolerance=0.4, maybe=0.55)
        assert await matching.settle(conn, photo_ids=[photo], bounds=bounds) == 0
        stamp = (await conn.execute(select(Match.detected_at))).scalar_one()
    await new_attendee(resources, event_id, "bob", near(me, 0.45, seed=54))
    async with engine.connect() as conn:
        assert (await conn.execute(select(Match.detected_at))).scalar_one() == stamp
    assert await matches_of(engine, ann) == before
