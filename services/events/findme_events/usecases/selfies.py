"""Selfies: add one, or replace them all, and re-derive the attendee's tiers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from findme_common.refusals import Reason, Refusal
from sqlalchemy.ext.asyncio import AsyncConnection

from findme_events import matching, validation
from findme_events.metrics import MATCHES_WRITTEN
from findme_events.schemas import FaceBox
from findme_events.store import selfies
from findme_events.usecases.resources import Resources


@dataclass(frozen=True, slots=True)
class SavedSelfie:
    matches: int
    stored_bytes: int
    selfies: int


async def lock_attendee_event(
    conn: AsyncConnection, attendee_id: int
) -> tuple[int, matching.Bounds]:
    """The attendee's event, its matching lock taken; (event id, bounds)."""
    event_id = await selfies.attendee_event(conn=conn, attendee_id=attendee_id)
    bounds = await matching.lock_event(conn, event_id)
    if bounds is None:
        raise Refusal(Reason.ATTENDEE_NOT_FOUND, "no such attendee")
    return event_id, bounds


async def store_and_match(
    conn: AsyncConnection,
    *,
    attendee_id: int,
    jpeg: bytes,
    encoding: list[float],
    face: FaceBox,
    max_selfies: int,
    add: bool = False,
) -> SavedSelfie:
    """In the caller's transaction: the selfie stored as a new reference, the tiers
    re-derived wherever the attendee's references were or now are."""
    event_id, bounds = await lock_attendee_event(conn, attendee_id)
    async with matching.attendee_change(conn, attendee_id=attendee_id, bounds=bounds):
        selfie_id, count = await selfies.store_selfie(
            conn=conn,
            attendee_id=attendee_id,
            jpeg=jpeg,
            encoding=encoding,
            face=face,
            add=add,
            max_selfies=max_selfies,
        )
        await matching.add_reference(
            conn,
            attendee_id=attendee_id,
            event_id=event_id,
            bounds=bounds,
            encoding=encoding,
            selfie_id=selfie_id,
        )
    matches = await matching.matched_photos(conn, attendee_id)
    MATCHES_WRITTEN.labels("selfie").inc(matches)
    return SavedSelfie(matches=matches, stored_bytes=len(jpeg), selfies=count)


async def save_selfie(
    r: Resources,
    *,
    attendee_id: int,
    jpeg: bytes,
    encoding: Sequence[float],
    face: FaceBox,
    add: bool = False,
) -> SavedSelfie:
    jpeg = validation.selfie_jpeg(jpeg, max_bytes=r.settings.max_selfie_bytes)
    vector = validation.encoding(encoding)
    async with r.engine.begin() as conn:
        return await store_and_match(
            conn,
            attendee_id=attendee_id,
            jpeg=jpeg,
            encoding=vector,
            face=face,
            max_selfies=r.settings.max_selfies,
            add=add,
        )
