"""The "maybe you?" tier: an attendee's suggestions, their answers ("that's me",
"not me"), and "not me" on a sure match.

An answer changes the attendee's references or negatives, so it runs under the
event's matching lock and settles every photo where their tiers were or now are
(``matching.attendee_change``): a confirmed face pulls in the photos near it, a
rejected one lets another attendee have it.
"""

from __future__ import annotations

from findme_common.refusals import Reason, Refusal
from sqlalchemy.ext.asyncio import AsyncConnection

from findme_events import matching, validation
from findme_events.models import Match, Suggestion
from findme_events.schemas import MyPhotosPage
from findme_events.store import suggestions
from findme_events.usecases.resources import Resources
from findme_events.usecases.selfies import lock_attendee_event


async def list_suggestions(
    r: Resources, *, attendee_id: int, cursor: str, limit: int = 0
) -> MyPhotosPage:
    size = validation.page_size(limit, largest=r.settings.my_photos_page_size)
    async with r.engine.connect() as conn:
        return await suggestions.suggestions(
            conn=conn, attendee_id=attendee_id, cursor=cursor, limit=size
        )


async def _answer(
    r: Resources,
    conn: AsyncConnection,
    *,
    table: type[Suggestion] | type[Match],
    attendee_id: int,
    photo_id: int,
    answer: str,
) -> bool:
    """Answer about the face of the attendee's suggestion (or match) in the photo,
    under the event's lock; False when there is none."""
    event_id, bounds = await lock_attendee_event(conn, attendee_id)
    face_id = await suggestions.offered_face(
        conn=conn, table=table, attendee_id=attendee_id, photo_id=photo_id
    )
    if face_id is None:
        return False
    async with matching.attendee_change(conn, attendee_id=attendee_id, bounds=bounds):
        await suggestions.record_answer(
            conn=conn, attendee_id=attendee_id, face_id=face_id, photo_id=photo_id, answer=answer
        )
        if answer == "not_me":
            # A face confirmed before and rejected now stops standing for them.
            await suggestions.forget_confirmed(conn=conn, attendee_id=attendee_id, face_id=face_id)
            return True
        confirmed = await suggestions.confirmed_references(conn=conn, attendee_id=attendee_id)
        # Beyond the cap the answer still makes the face a match (a confirmed face is
        # at distance 0); it just does not widen the search any further.
        if confirmed < r.settings.max_confirmed_references:
            await matching.add_reference(
                conn, attendee_id=attendee_id, event_id=event_id, bounds=bounds, face_id=face_id
            )
    return True


async def answer_suggestion(r: Resources, *, attendee_id: int, photo_id: int, answer: str) -> None:
    answer = validation.answer(answer)
    async with r.engine.begin() as conn:
        if await _answer(
            r, conn, table=Suggestion, attendee_id=attendee_id, photo_id=photo_id, answer=answer
        ):
            return
        if not await suggestions.answered(
            conn=conn, attendee_id=attendee_id, photo_id=photo_id, answer=answer
        ):
            raise Refusal(Reason.SUGGESTION_NOT_FOUND, "no such suggestion")
        # Else the same answer again (a retried request): nothing to do.


async def reject_match(r: Resources, *, attendee_id: int, photo_id: int) -> None:
    async with r.engine.begin() as conn:
        if not await _answer(
            r, conn, table=Match, attendee_id=attendee_id, photo_id=photo_id, answer="not_me"
        ):
            raise Refusal(Reason.PHOTO_NOT_FOUND, "no such photo")
