"""Event photos: the organizer's uploads, and the image routes that attendees
matched to a photo and the event's organizer may fetch.

Another organizer's event answers 404 exactly like a missing one.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from findme.events.v1 import events_pb2

from findme_gateway.deps import (
    BackendsDep,
    BearerCredentials,
    CurrentOrganizer,
    OrganizerUploadRateLimit,
    SettingsDep,
    UploadForm,
    current_attendee,
    current_organizer,
)
from findme_gateway.errors import ApiError
from findme_gateway.flows import photo_uploads
from findme_gateway.schemas import PathId, PhotosAcceptedOut, PhotoStatusOut
from findme_gateway.tokens import Principal, Role
from findme_gateway.uploads import form_files, multipart_body, read_photos

router = APIRouter(prefix="/api", tags=["photos"])

# The path whose bodies may be a whole batch of photos (the body-size guard).
UPLOAD_PATH = r"^/api/events/\d+/photos$"

_IMAGE_HEADERS = {
    # Private: only this viewer may see it; the URL never changes content.
    "Cache-Control": "private, max-age=3600",
    "X-Content-Type-Options": "nosniff",
}


@router.post(
    "/events/{event_id}/photos",
    status_code=202,
    dependencies=[OrganizerUploadRateLimit],
    openapi_extra=multipart_body(repeated=("files",)),
)
async def upload_photos(
    event_id: PathId,
    organizer: CurrentOrganizer,
    backends: BackendsDep,
    settings: SettingsDep,
    form: UploadForm,
) -> PhotosAcceptedOut:
    contents = await read_photos(
        form_files(form, "files"),
        limit=settings.max_upload_bytes,
        max_files=settings.max_photos_per_request,
    )
    added = await photo_uploads.add_photos(
        backends=backends,
        organizer_id=organizer.subject_id,
        event_id=event_id,
        contents=contents,
        batch_bytes=settings.photo_rpc_batch_bytes,
    )
    return PhotosAcceptedOut(
        photos=[PhotoStatusOut(id=p.id, status=p.status, duplicate=p.duplicate) for p in added]
    )


# -- images ----------------------------------------------------------------------------


def current_viewer(request: Request, credentials: BearerCredentials) -> Principal:
    """An attendee or an organizer token; the events service decides what it may see."""
    try:
        return current_attendee(request, credentials)
    except ApiError:
        return current_organizer(request, credentials)


CurrentViewer = Annotated[Principal, Depends(current_viewer)]


async def _image(
    backends: BackendsDep, viewer: Principal, photo_id: int, kind: events_pb2.ImageKind
) -> Response:
    role = (
        events_pb2.VIEWER_ROLE_ORGANIZER
        if viewer.role is Role.ORGANIZER
        else events_pb2.VIEWER_ROLE_ATTENDEE
    )
    image = await backends.events.GetPhotoImage(
        events_pb2.GetPhotoImageRequest(
            photo_id=photo_id, kind=kind, viewer_role=role, viewer_id=viewer.subject_id
        ),
        timeout=backends.deadlines.cheap,
    )
    return Response(content=image.jpeg, media_type="image/jpeg", headers=_IMAGE_HEADERS)


@router.get("/photos/{photo_id}/display", response_class=Response)
async def photo_display(photo_id: PathId, viewer: CurrentViewer, backends: BackendsDep) -> Response:
    return await _image(backends, viewer, photo_id, events_pb2.IMAGE_KIND_DISPLAY)


@router.get("/photos/{photo_id}/thumbnail", response_class=Response)
async def photo_thumbnail(
    photo_id: PathId, viewer: CurrentViewer, backends: BackendsDep
) -> Response:
    return await _image(backends, viewer, photo_id, events_pb2.IMAGE_KIND_THUMBNAIL)
