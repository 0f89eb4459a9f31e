"""Selfies: store (or replace) an attendee's selfie and recompute their matches."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from findme_events import matching, validation
from findme_events.metrics import MATCHES_WRITTEN
from findme_events.schemas import FaceBox
from findme_events.store import selfies
from findme_events.usecases.resources import Resources


async def store_and_match(
    conn: AsyncConnection, *, attendee_id: int, jpeg: bytes, encoding: list[float], face: FaceBox
) -> int:
    """In the caller's transaction: the selfie stored, the attendee's matches
    recomputed; the number of matched photos."""
    owner = await selfies.store_selfie(
        conn=conn, attendee_id=attendee_id, jpeg=jpeg, encoding=encoding, face=face
    )
    matches = await matching.match_selfie(
        conn=conn,
        attendee_id=attendee_id,
        event_id=owner.event_id,
        tolerance=owner.match_tolerance,
        encoding=encoding,
    )
    MATCHES_WRITTEN.labels("selfie").inc(matches)
    return matches


async def save_selfie(
    r: Resources, *, attendee_id: int, jpeg: bytes, encoding: Sequence[float], face: FaceBox
) -> tuple[int, int]:
    """(number of matched photos, stored bytes)."""
    jpeg = validation.selfie_jpeg(jpeg, max_bytes=r.settings.max_selfie_bytes)
    vector = validation.encoding(encoding)
    async with r.engine.begin() as conn:
        matches = await store_and_match(
            conn, attendee_id=attendee_id, jpeg=jpeg, encoding=vector, face=face
        )
    return matches, len(jpeg)
