"""The photo queue, matching, my-photos pages, invites, deletion and retention,
against real PostgreSQL (data functions and Operations; the worker's gRPC call to
the selfie service is covered end to end in tests/integration/test_photos.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest
from findme_events import invites, photos, pipeline, repository, retention
from findme_events.blobs import LocalBlobStore
from findme_events.cache import EventCache
from findme_events.errors import AlreadyExists, InvalidArgument, NotFound
from findme_events.operations import Operations
from findme_events.schemas import ClaimedPhoto, DetectedFace, FaceBox
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

BOX = FaceBox(top=1, right=2, bottom=3, left=0)


def unit(seed: int) -> list[float]:
    vector = np.random.default_rng(seed).normal(size=128)
    return [float(v) for v in vector / np.linalg.norm(vector)]


def near(encoding: list[float], distance: float, seed: int = 99) -> list[float]:
    """A vector exactly ``distance`` away from ``encoding``."""
    step = np.array(unit(seed))
    return [float(v) for v in np.array(encoding) + distance * step]


@pytest.fixture
def operations(engine: AsyncEngine, tmp_path: Path) -> Operations:
    async def load(code: str) -> None:
        return None

    return Operations(
        engine=engine,
        cache=EventCache(redis=None, load=load),
        default_match_tolerance=0.55,
        default_retention_days=30,
        max_selfie_bytes=1024 * 1024,
        blobs=LocalBlobStore(tmp_path / "blobs"),
        page_size=2,
    )


async def new_event(operations: Operations, organizer_id: int, **options: object) -> int:
    event = await operations.create_event(organizer_id=organizer_id, name="Party", **options)  # type: ignore[arg-type]
    return event.id


async def new_attendee(
    operations: Operations, event_id: int, name: str, encoding: list[float] | None
) -> int:
    async with operations.engine.begin() as conn:
        attendee = await repository.create_attendee(
            conn=conn, event_id=event_id, username=name, username_key=name, password_hash="h"
        )
    if encoding is not None:
        await operations.save_selfie(
            attendee_id=attendee.id, jpeg=b"jpeg", encoding=encoding, face=BOX
        )
    return attendee.id


async def claim(engine: AsyncEngine, lease: float = 60) -> ClaimedPhoto | None:
    async with engine.begin() as conn:
        await pipeline.release_expired(conn=conn, max_attempts=3)
        return await pipeline.claim(conn=conn, lease=lease)


async def complete(
    engine: AsyncEngine, photo: ClaimedPhoto, encodings: list[list[float]]
) -> int | None:
    async with engine.begin() as conn:
        return await pipeline.complete(
            conn=conn,
            photo=photo,
            width=10,
            height=10,
            display_key="d",
            thumbnail_key="t",
            faces=[DetectedFace(box=BOX, encoding=e) for e in encodings],
        )


async def test_event_options_are_validated(operations: Operations, organizer_id: int) -> None:
    event = await operations.create_event(
        organizer_id=organizer_id,
        name="Gala",
        starts_on="2026-06-01",
        ends_on="2026-06-02",
        match_tolerance=0.5,
        retention_days=7,
    )
    assert (event.starts_on, event.ends_on, event.match_tolerance, event.retention_days) == (
        "2026-06-01",
        "2026-06-02",
        0.5,
        7,
    )
    for options, reason in (
        ({"match_tolerance": 5.0}, "invalid_match_tolerance"),
        ({"retention_days": 0}, "invalid_retention_days"),
        ({"starts_on": "June"}, "invalid_dates"),
        ({"starts_on": "2026-06-02", "ends_on": "2026-06-01"}, "invalid_dates"),
    ):
        with pytest.raises(InvalidArgument) as refused:
            await new_event(operations, organizer_id, **options)
        assert refused.value.reason == reason
    with pytest.raises(InvalidArgument, match="ends_on"):
        await operations.update_event(
            organizer_id=organizer_id, event_id=event.id, ends_on="2026-05-01"
        )
    with pytest.raises(NotFound):  # someone else's event looks missing
        await operations.update_event(organizer_id=organizer_id + 1, event_id=event.id, name="x")


async def test_duplicates_are_detected_by_content(
    operations: Operations, organizer_id: int
) -> None:
    event_id = await new_event(operations, organizer_id)
    first = await operations.add_photos(
        organizer_id=organizer_id, event_id=event_id, contents=[b"one", b"two", b"one"]
    )
    assert [(p.status, p.duplicate) for p in first] == [
        ("pending", False),
        ("pending", False),
        ("pending", True),
    ]
    assert first[2].id == first[0].id
    with pytest.raises(NotFound):
        await operations.add_photos(
            organizer_id=organizer_id + 1, event_id=event_id, contents=[b"x"]
        )
    progress = await operations.progress(organizer_id=organizer_id, event_id=event_id)
    assert (progress.pending, progress.done) == (2, 0)


async def test_claims_skip_locked_rows_and_lease_expiry_is_fenced(
    operations: Operations, organizer_id: int, engine: AsyncEngine
) -> None:
    event_id = await new_event(operations, organizer_id)
    await operations.add_photos(organizer_id=organizer_id, event_id=event_id, contents=[b"a", b"b"])
    claims = await asyncio.gather(claim(engine), claim(engine), claim(engine))
    taken = [c for c in claims if c is not None]
    assert len(taken) == 2 and len({c.id for c in taken}) == 2  # never the same photo twice

    # The first worker "dies": its lease runs out and another worker takes the photo.
    dead = taken[0]
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE photos SET lease_until = now() - interval '1 s' WHERE id = :id"),
            {"id": dead.id},
        )
    again = await claim(engine)
    assert again is not None and again.id == dead.id and again.attempt == 2
    # The presumed-dead worker wakes up: its results are refused, the new claim wins.
    assert await complete(engine, dead, [unit(1)]) is None
    assert await complete(engine, again, [unit(1)]) == 0
    async with engine.connect() as conn:
        faces = (
            await conn.execute(
                text("SELECT count(*) FROM faces WHERE photo_id = :id"), {"id": dead.id}
            )
        ).scalar_one()
    assert faces == 1


async def test_transient_failures_retry_then_fail_and_refusals_fail_at_once(
    operations: Operations, organizer_id: int, engine: AsyncEngine
) -> None:
    event_id = await new_event(operations, organizer_id)
    await operations.add_photos(organizer_id=organizer_id, event_id=event_id, contents=[b"a", b"b"])

    async def give_up(photo: ClaimedPhoto, reason: str, permanent: bool) -> str | None:
        async with engine.begin() as conn:
            return await pipeline.retry_or_fail(
                conn=conn, photo=photo, reason=reason, permanent=permanent, max_attempts=3, delay=0
            )

    outcomes = []
    for _ in range(3):  # the selfie service is down: the oldest photo is retried
        photo = await claim(engine)
        assert photo is not None
        outcomes.append((photo.attempt, await give_up(photo, "unavailable", False)))
    assert outcomes == [(1, "pending"), (2, "pending"), (3, "failed")]

    other = await claim(engine)
    assert other is not None and other.attempt == 1
    assert await give_up(other, "not_an_image", True) == "failed"  # no second try
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT status, error FROM photos ORDER BY id"))).all()
    assert [tuple(row) for row in rows] == [("failed", "unavailable"), ("failed", "not_an_image")]


async def test_new_photo_matches_the_closest_face_per_attendee(
    operations: Operations, organizer_id: int, engine: AsyncEngine
) -> None:
    event_id = await new_event(operations, organizer_id, match_tolerance=0.5)
    ann, bob = unit(1), unit(2)
    ann_id = await new_attendee(operations, event_id, "ann", ann)
    bob_id = await new_attendee(operations, event_id, "bob", bob)
    await new_attendee(operations, event_id, "cy", None)  # no selfie yet
    await operations.add_photos(organizer_id=organizer_id, event_id=event_id, contents=[b"p"])
    photo = await claim(engine)
    assert photo is not None
    # Two faces near ann (0.3, 0.1), one just outside bob's tolerance.
    assert await complete(engine, photo, [near(ann, 0.3), near(ann, 0.1), near(bob, 0.51)]) == 1
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text("SELECT attendee_id, distance FROM matches ORDER BY attendee_id")
            )
        ).all()
    assert [(r.attendee_id, round(r.distance, 6)) for r in rows] == [(ann_id, 0.1)]
    assert bob_id not in {r.attendee_id for r in rows}

    # The other direction: bob's new selfie is ann's face -> he now matches the photo.
    await operations.save_selfie(attendee_id=bob_id, jpeg=b"j", encoding=near(ann, 0.2), face=BOX)
    page = await operations.my_photos(attendee_id=bob_id, cursor="")
    assert [item.photo_id for item in page.items] == [photo.id]


async def test_my_photos_pages_newest_first(
    operations: Operations, organizer_id: int, engine: AsyncEngine
) -> None:
    event_id = await new_event(operations, organizer_id)
    ann = unit(3)
    ann_id = await new_attendee(operations, event_id, "ann", ann)
    await operations.add_photos(
        organizer_id=organizer_id, event_id=event_id, contents=[b"1", b"2", b"3", b"4", b"5"]
    )
    done = []
    while (photo := await claim(engine)) is not None:
        await complete(engine, photo, [near(ann, 0.2)])
        done.append(photo.id)
    pages, cursor = [], ""
    while True:
        page = await operations.my_photos(attendee_id=ann_id, cursor=cursor)
        pages.append([item.photo_id for item in page.items])
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert pages == [done[::-1][0:2], done[::-1][2:4], done[::-1][4:]]
    with pytest.raises(InvalidArgument, match="cursor"):
        await operations.my_photos(attendee_id=ann_id, cursor="garbage!")

    # Images: the matched attendee and the organizer, nobody else.
    for viewer, organizer in ((ann_id, False), (organizer_id, True)):
        async with engine.connect() as conn:
            key = await photos.image_key(
                conn=conn, photo_id=done[0], viewer_id=viewer, organizer=organizer, thumbnail=True
            )
        assert key == "t"
    other = await new_attendee(operations, event_id, "other", None)
    with pytest.raises(NotFound):
        await operations.photo_image(
            photo_id=done[0], viewer_id=other, organizer=False, thumbnail=False
        )


async def test_invites_are_single_use_and_all_or_nothing(
    operations: Operations, organizer_id: int
) -> None:
    event_id = await new_event(operations, organizer_id)
    await new_attendee(operations, event_id, "taken", None)
    token, _ = await operations.create_invite(organizer_id=organizer_id, event_id=event_id)
    assert await operations.check_invite(token=token, username="Taken") == (event_id, True)

    def register(name: str):  # type: ignore[no-untyped-def]
        return operations.register_with_invite(
            token=token, username=name, password_hash="h", jpeg=b"j", encoding=unit(5), face=BOX
        )

    with pytest.raises(AlreadyExists):
        await register("taken")
    assert (await operations.check_invite(token=token, username="new"))[0] == event_id  # unused
    outcomes = await asyncio.gather(register("new"), register("newer"), return_exceptions=True)
    assert sorted(type(o).__name__ for o in outcomes) == ["NotFound", "tuple"]
    assert await operations.check_invite(token=token, username="x") == (None, False)

    expired, _ = await operations.create_invite(
        organizer_id=organizer_id, event_id=event_id, valid_for=0.001
    )
    await asyncio.sleep(0.05)
    with pytest.raises(NotFound, match="invite"):
        await operations.register_with_invite(
            token=expired, username="late", password_hash="h", jpeg=b"j", encoding=unit(6), face=BOX
        )
    assert invites.token_hash(token) != token  # only hashes are stored


async def test_deleting_removes_rows_and_blobs(
    operations: Operations, organizer_id: int, engine: AsyncEngine, tmp_path: Path
) -> None:
    event_id = await new_event(operations, organizer_id)
    ann_id = await new_attendee(operations, event_id, "ann", unit(7))
    await operations.add_photos(organizer_id=organizer_id, event_id=event_id, contents=[b"x"])
    photo = await claim(engine)
    assert photo is not None
    await complete(engine, photo, [near(unit(7), 0.1)])
    assert (await operations.event_stats(organizer_id=organizer_id, event_id=event_id)).matches == 1

    await operations.delete_attendee(attendee_id=ann_id)
    stats = await operations.event_stats(organizer_id=organizer_id, event_id=event_id)
    assert (stats.attendees, stats.selfies, stats.matches, stats.faces) == (0, 0, 0, 1)
    await operations.delete_attendee(attendee_id=ann_id)  # twice is fine

    assert (tmp_path / "blobs" / "events" / str(event_id)).is_dir()
    with pytest.raises(NotFound):
        await operations.delete_event(organizer_id=organizer_id + 1, event_id=event_id)
    await operations.delete_event(organizer_id=organizer_id, event_id=event_id)
    assert not (tmp_path / "blobs" / "events" / str(event_id)).exists()
    async with engine.connect() as conn:
        left = (await conn.execute(text("SELECT count(*) FROM photos"))).scalar_one()
    assert left == 0


async def test_retention_purges_old_matches_and_selfies_per_event(
    operations: Operations, organizer_id: int, engine: AsyncEngine
) -> None:
    short = await new_event(operations, organizer_id, retention_days=1)
    long = await new_event(operations, organizer_id, retention_days=30)
    for event_id in (short, long):
        await new_attendee(operations, event_id, "ann", unit(8))
        await operations.add_photos(organizer_id=organizer_id, event_id=event_id, contents=[b"x"])
        photo = await claim(engine)
        assert photo is not None
        await complete(engine, photo, [near(unit(8), 0.1)])
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE matches SET detected_at = now() - interval '2 days'"))
        await conn.execute(text("UPDATE selfies SET created_at = now() - interval '2 days'"))
        assert await retention.purge(conn=conn) == (1, 1)
    assert (await operations.event_stats(organizer_id=organizer_id, event_id=short)).matches == 0
    kept = await operations.event_stats(organizer_id=organizer_id, event_id=long)
    assert (kept.matches, kept.selfies) == (1, 1)
