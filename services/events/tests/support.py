"""Helpers the events tests share: face vectors at chosen distances, and events,
attendees and processed photos made through the real use cases and store."""

from __future__ import annotations

import numpy as np
from findme_common.refusals import Reason
from findme_events.schemas import ClaimedPhoto, DetectedFace, FaceBox
from findme_events.store import attendees, photo_queue
from findme_events.store import events as event_rows
from findme_events.usecases import events, photos, selfies
from findme_events.usecases.resources import Resources
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


async def store_event(engine: AsyncEngine, organizer_id: int, tolerance: float = 0.6) -> int:
    """An event made by the store alone (for the store's own tests)."""
    async with engine.begin() as conn:
        event = await event_rows.create_event(
            conn=conn,
            organizer_id=organizer_id,
            name="Party",
            match_tolerance=tolerance,
            retention_days=30,
        )
    return event.id


async def new_event(r: Resources, organizer_id: int, **options: object) -> int:
    event = await events.create_event(r, organizer_id=organizer_id, name="Party", **options)  # type: ignore[arg-type]
    return event.id


async def new_attendee(
    r: Resources, event_id: int, name: str, encoding: list[float] | None = None
) -> int:
    async with r.engine.begin() as conn:
        attendee = await attendees.create_attendee(
            conn=conn, event_id=event_id, username=name, username_key=name, password_hash="h"
        )
    if encoding is not None:
        await selfies.save_selfie(
            r, attendee_id=attendee.id, jpeg=b"jpeg", encoding=encoding, face=BOX
        )
    return attendee.id


async def claim(engine: AsyncEngine, lease: float = 60) -> ClaimedPhoto | None:
    async with engine.begin() as conn:
        await photo_queue.release_expired(conn=conn, max_attempts=3)
        return await photo_queue.claim(conn=conn, lease=lease)


async def complete(
    engine: AsyncEngine, photo: ClaimedPhoto, encodings: list[list[float]]
) -> int | None:
    async with engine.begin() as conn:
        return await photo_queue.complete(
            conn=conn,
            photo=photo,
            width=10,
            height=10,
            display_key="d",
            thumbnail_key="t",
            faces=[DetectedFace(box=BOX, encoding=e) for e in encodings],
        )


async def count(engine: AsyncEngine, sql: str, **params: object) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text(sql), params)).scalar_one())


async def fail_next_photo(engine: AsyncEngine) -> None:
    """Claim the next pending photo and fail it as the worker does a refused image."""
    photo = await claim(engine)
    assert photo is not None
    async with engine.begin() as conn:
        await photo_queue.retry_or_fail(
            conn=conn,
            photo=photo,
            reason=Reason.NOT_AN_IMAGE,
            permanent=True,
            max_attempts=3,
            delay=0,
        )


async def event_data_for_retention(
    r: Resources, organizer_id: int, event_id: int, contents: list[bytes]
) -> None:
    """Ann with a selfie; a photo of her with two bystanders (done, three faces, one
    match) and a photo that failed: ``contents`` are the two originals."""
    await new_attendee(r, event_id, "ann", unit(8))
    await photos.add_photos(r, organizer_id=organizer_id, event_id=event_id, contents=contents)
    done = await claim(r.engine)
    assert done is not None
    await complete(r.engine, done, [near(unit(8), 0.1), unit(9), unit(10)])
    await fail_next_photo(r.engine)


async def age_everything(engine: AsyncEngine, days: int) -> None:
    """Every match, selfie, face and photo found or made ``days`` ago."""
    async with engine.begin() as conn:
        for table, stamp in (
            ("matches", "detected_at"),
            ("selfies", "created_at"),
            ("faces", "created_at"),
            ("photos", "created_at"),
        ):
            await conn.execute(
                text(f"UPDATE {table} SET {stamp} = now() - make_interval(days => :d)"),
                {"d": days},
            )
