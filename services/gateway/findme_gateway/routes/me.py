"""The attendee's own account: "my photos", the "maybe you?" suggestions and the
answers to them, "not me" on a photo, "you missed me here", and delete everything
about me."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from findme.events.v1 import events_pb2
from findme_common.refusals import Reason

from findme_gateway.deps import BackendsDep, CurrentAttendee
from findme_gateway.errors import ApiError
from findme_gateway.routes.converters import photo_links
from findme_gateway.schemas import (
    AnswerIn,
    MissedIn,
    MissedOut,
    MyPhotoOut,
    MyPhotosOut,
    PathId,
    SuggestionOut,
    SuggestionsOut,
)

router = APIRouter(prefix="/api", tags=["me"])

MAX_CURSOR_LENGTH = 200
ANSWERS = {"me": events_pb2.ANSWER_ME, "not_me": events_pb2.ANSWER_NOT_ME}


def _cursor(cursor: str) -> str:
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise ApiError(Reason.INVALID_CURSOR, "The cursor is not one this API gave.")
    return cursor


@router.get("/me/photos")
async def my_photos(
    attendee: CurrentAttendee, backends: BackendsDep, cursor: str = ""
) -> MyPhotosOut:
    cursor = _cursor(cursor)
    page = await backends.events.ListMyPhotos(
        events_pb2.ListMyPhotosRequest(attendee_id=attendee.subject_id, cursor=cursor),
        timeout=backends.deadlines.cheap,
    )
    items = [
        MyPhotoOut(
            photo_id=item.photo_id,
            **photo_links(item.photo_id),
            distance=item.distance,
            detected_at=datetime.fromisoformat(item.detected_at),
        )
        for item in page.items
    ]
    return MyPhotosOut(items=items, next_cursor=page.next_cursor or None)


@router.delete("/me", status_code=204)
async def delete_me(attendee: CurrentAttendee, backends: BackendsDep) -> None:
    await backends.events.DeleteAttendee(
        events_pb2.DeleteAttendeeRequest(attendee_id=attendee.subject_id),
        timeout=backends.deadlines.cheap,
    )


@router.post("/me/photos/{photo_id}/not-me", status_code=204)
async def not_me(photo_id: PathId, attendee: CurrentAttendee, backends: BackendsDep) -> None:
    await backends.events.RejectMatch(
        events_pb2.RejectMatchRequest(attendee_id=attendee.subject_id, photo_id=photo_id),
        timeout=backends.deadlines.cheap,
    )


@router.get("/me/suggestions")
async def my_suggestions(
    attendee: CurrentAttendee, backends: BackendsDep, cursor: str = ""
) -> SuggestionsOut:
    page = await backends.events.ListSuggestions(
        events_pb2.ListSuggestionsRequest(attendee_id=attendee.subject_id, cursor=_cursor(cursor)),
        timeout=backends.deadlines.cheap,
    )
    items = [
        SuggestionOut(photo_id=item.photo_id, **photo_links(item.photo_id), distance=item.distance)
        for item in page.items
    ]
    return SuggestionsOut(items=items, next_cursor=page.next_cursor or None)


@router.post("/me/suggestions/{photo_id}", status_code=204)
async def answer_suggestion(
    photo_id: PathId, body: AnswerIn, attendee: CurrentAttendee, backends: BackendsDep
) -> None:
    await backends.events.AnswerSuggestion(
        events_pb2.AnswerSuggestionRequest(
            attendee_id=attendee.subject_id, photo_id=photo_id, answer=ANSWERS[body.answer]
        ),
        timeout=backends.deadlines.cheap,
    )


def _missed_out(reply: events_pb2.MissedPhoto) -> MissedOut:
    return MissedOut(photo_id=reply.photo_id, status=reply.status, found=reply.found)


@router.post("/me/missed", status_code=202)
async def flag_missed(
    body: MissedIn, attendee: CurrentAttendee, backends: BackendsDep
) -> MissedOut:
    reply = await backends.events.FlagMissedPhoto(
        events_pb2.MissedPhotoRef(attendee_id=attendee.subject_id, photo_id=body.photo_id),
        timeout=backends.deadlines.cheap,
    )
    return _missed_out(reply)


@router.get("/me/missed/{photo_id}")
async def missed_status(
    photo_id: PathId, attendee: CurrentAttendee, backends: BackendsDep
) -> MissedOut:
    reply = await backends.events.GetMissedPhoto(
        events_pb2.MissedPhotoRef(attendee_id=attendee.subject_id, photo_id=photo_id),
        timeout=backends.deadlines.cheap,
    )
    return _missed_out(reply)
