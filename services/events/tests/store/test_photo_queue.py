"""The photo queue against real PostgreSQL: claims, leases, fencing, retries."""

from __future__ import annotations

import asyncio

from findme_common.refusals import Reason
from findme_events.schemas import ClaimedPhoto
from findme_events.store import photo_queue
from findme_events.usecases import photos
from findme_events.usecases.resources import Resources
from sqlalchemy import text

from ..support import claim, complete, count, new_event, unit


async def test_claims_skip_locked_rows_and_lease_expiry_is_fenced(
    resources: Resources, organizer_id: int
) -> None:
    engine = resources.engine
    event_id = await new_event(resources, organizer_id)
    await photos.add_photos(
        resources, organizer_id=organizer_id, event_id=event_id, contents=[b"a", b"b"]
    )
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
    assert await count(engine, "SELECT count(*) FROM faces WHERE photo_id = :id", id=dead.id) == 1


async def test_transient_failures_retry_then_fail_and_refusals_fail_at_once(
    resources: Resources, organizer_id: int
) -> None:
    engine = resources.engine
    event_id = await new_event(resources, organizer_id)
    await photos.add_photos(
        resources, organizer_id=organizer_id, event_id=event_id, contents=[b"a", b"b"]
    )

    async def give_up(photo: ClaimedPhoto, reason: Reason, permanent: bool) -> str | None:
        async with engine.begin() as conn:
            return await photo_queue.retry_or_fail(
                conn=conn, photo=photo, reason=reason, permanent=permanent, max_attempts=3, delay=0
            )

    outcomes = []
    for _ in range(3):  # the selfie service is down: the oldest photo is retried
        photo = await claim(engine)
        assert photo is not None
        outcomes.append((photo.attempt, await give_up(photo, Reason.SERVICE_UNAVAILABLE, False)))
    assert outcomes == [(1, "pending"), (2, "pending"), (3, "failed")]

    other = await claim(engine)
    assert other is not None and other.attempt == 1
    assert await give_up(other, Reason.NOT_AN_IMAGE, True) == "failed"  # no second try
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT status, error FROM photos ORDER BY id"))).all()
    assert [tuple(row) for row in rows] == [
        ("failed", "service_unavailable"),
        ("failed", "not_an_image"),
    ]


async def test_a_claim_that_outlives_every_attempt_fails_as_timed_out(
    resources: Resources, organizer_id: int
) -> None:
    engine = resources.engine
    event_id = await new_event(resources, organizer_id)
    await photos.add_photos(
        resources, organizer_id=organizer_id, event_id=event_id, contents=[b"a"]
    )
    for attempt in range(1, 4):
        photo = await claim(engine)
        assert photo is not None and photo.attempt == attempt
        async with engine.begin() as conn:  # the worker holding it dies each time
            await conn.execute(text("UPDATE photos SET lease_until = now() - interval '1 s'"))
    assert await claim(engine) is None
    async with engine.connect() as conn:
        row = (await conn.execute(text("SELECT status, error FROM photos"))).one()
    assert tuple(row) == ("failed", "processing_timed_out")


async def test_depth_counts_waiting_and_claimed_photos_and_the_oldest_wait(
    resources: Resources, organizer_id: int
) -> None:
    engine = resources.engine
    event_id = await new_event(resources, organizer_id)
    async with engine.connect() as conn:
        empty = await photo_queue.depth(conn=conn)
    assert (empty.pending, empty.processing, empty.oldest_pending_seconds) == (0, 0, 0.0)
    await photos.add_photos(
        resources, organizer_id=organizer_id, event_id=event_id, contents=[b"a", b"b", b"c"]
    )
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE photos SET created_at = now() - interval '90 s' WHERE event_id = :e"),
            {"e": event_id},
        )
    assert await claim(engine) is not None
    async with engine.connect() as conn:
        depth = await photo_queue.depth(conn=conn)
    assert (depth.pending, depth.processing) == (2, 1)
    assert 90 <= depth.oldest_pending_seconds < 150


async def test_a_photo_becoming_pending_is_announced_to_listeners(
    resources: Resources, organizer_id: int
) -> None:
    event_id = await new_event(resources, organizer_id)
    heard: asyncio.Queue[str] = asyncio.Queue()
    async with resources.engine.connect() as listening:
        driver = (await listening.get_raw_connection()).driver_connection
        assert driver is not None
        await driver.add_listener(
            photo_queue.PENDING_CHANNEL, lambda *args: heard.put_nowait(args[2])
        )
        await photos.add_photos(
            resources, organizer_id=organizer_id, event_id=event_id, contents=[b"a", b"b"]
        )
        # One notification per committed upload transaction; none for other changes.
        assert await asyncio.wait_for(heard.get(), 10) == photo_queue.PENDING_CHANNEL
        assert await asyncio.wait_for(heard.get(), 10) == photo_queue.PENDING_CHANNEL
        taken = await claim(resources.engine)
        assert taken is not None
        await asyncio.sleep(0.3)
        assert heard.empty()  # pending -> processing is not news
