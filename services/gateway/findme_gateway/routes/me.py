"""The attendee's own account: "my photos", and delete everything about me."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from findme.events.v1 import events_pb2
from findme_common.refusals import Reason

from findme_gateway.deps import BackendsDep, CurrentAttendee
from findme_gateway.errors import ApiError
from findme_gateway.routes.converters import photo_urls
from findme_gateway.schemas import MyPhotoOut, MyPhotosOut

router = APIRouter(prefix="/api", tags=["me"])

MAX_CURSOR_LENGTH = 200


@router.get("/me/photos")
async def my_photos(
    attendee: CurrentAttendee, backends: BackendsDep, cursor: str = ""
) -> MyPhotosOut:
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise ApiError(Reason.INVALID_CURSOR, "The cursor is not one this API gave.")
    page = await backends.events.ListMyPhotos(
        events_pb2.ListMyPhotosRequest(attendee_id=attendee.subject_id, cursor=cursor),
        timeout=backends.deadlines.cheap,
    )
    items = []
    for item in page.items:
        url, thumbnail_url = photo_urls(item.photo_id)
        items.append(
            MyPhotoOut(
                photo_id=item.photo_id,
                url=url,
                thumbnail_url=thumbnail_url,
                distance=item.distance,
                detected_at=datetime.fromisoformat(item.detected_at),
            )
        )
    return MyPhotosOut(items=items, next_cursor=page.next_cursor or None)


@router.delete("/me", status_code=204)
async def delete_me(attendee: CurrentAttendee, backends: BackendsDep) -> None:
    await backends.events.DeleteAttendee(
        events_pb2.DeleteAttendeeRequest(attendee_id=attendee.subject_id),
        timeout=backends.deadlines.cheap,
    )
