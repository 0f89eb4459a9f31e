""" "You missed me here": an attendee flags a processed photo of their event; the
photo worker takes a closer look (``store.missed``) and the flag says what came of it."""

from __future__ import annotations

from findme_common.refusals import Reason, Refusal

from findme_events.schemas import MissedPhotoRecord
from findme_events.store import missed, selfies
from findme_events.usecases.resources import Resources


async def flag_missed_photo(r: Resources, *, attendee_id: int, photo_id: int) -> MissedPhotoRecord:
    async with r.engine.begin() as conn:
        event_id = await selfies.attendee_event(conn=conn, attendee_id=attendee_id)
        return await missed.flag(
            conn=conn,
            attendee_id=attendee_id,
            event_id=event_id,
            photo_id=photo_id,
            max_flags=r.settings.max_missed_photos,
        )


async def missed_photo(r: Resources, *, attendee_id: int, photo_id: int) -> MissedPhotoRecord:
    async with r.engine.connect() as conn:
        found = await missed.flag_of(conn=conn, attendee_id=attendee_id, photo_id=photo_id)
    if found is None:
        raise Refusal(Reason.PHOTO_NOT_FOUND, "this photo was not flagged")
    return found
