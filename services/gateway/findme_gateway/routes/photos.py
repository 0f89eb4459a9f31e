"""Event photos: the organizer's uploads and processing progress, and the image
routes that attendees matched to a photo and the event's organizer may fetch.

Another organizer's event answers 404 exactly like a missing one.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, File, Request, Response, UploadFile
from findme.events.v1 import events_pb2

from findme_gateway.deps import (
    BackendsDep,
    BearerCredentials,
    CurrentOrganizer,
    SettingsDep,
    UploadRateLimit,
    current_attendee,
    current_organizer,
)
from findme_gateway.errors import ApiError
from findme_gateway.routes.converters import event_ref, progress_out
from findme_gateway.schemas import (
    PathId,
    PhotosAcceptedOut,
    PhotoStatusOut,
    ProgressOut,
)
from findme_gateway.tokens import Principal, Role

router = APIRouter(prefix="/api", tags=["photos"])

# One request may carry many photos; the multipart parser spools them to disk.
MAX_FILES_PER_REQUEST = 50
BATCH_MAX_BYTES = 100 * 1024 * 1024
# The path the body-size guard gives BATCH_MAX_BYTES.
UPLOAD_PATH = re.compile(r"^/api/events/\d+/photos$")
# Files go to the events service in calls below the gRPC message limit (32 MiB).
RPC_BATCH_BYTES = 24 * 1024 * 1024

_IMAGE_HEADERS = {
    # Private: only this viewer may see it; the URL never changes content.
    "Cache-Control": "private, max-age=3600",
    "X-Content-Type-Options": "nosniff",
}


def sniff_format(head: bytes) -> str | None:
    """The image formats the selfie service decodes, recognised by their magic bytes."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp" and head[8:12] in {b"heic", b"heix", b"hevc", b"heim", b"mif1"}:
        return "heif"
    return None


@router.get("/events/{event_id}/progress")
async def progress(
    event_id: PathId, organizer: CurrentOrganizer, backends: BackendsDep
) -> ProgressOut:
    reply = await backends.events.GetProgress(
        event_ref(organizer, event_id), timeout=backends.deadlines.cheap
    )
    return progress_out(reply)


async def _read_checked(files: list[UploadFile], limit: int) -> list[bytes]:
    """Every file's bytes, or one refusal naming every offending file (nothing stored)."""
    if len(files) > MAX_FILES_PER_REQUEST:
        raise ApiError(
            413, "too_many_files", f"Send at most {MAX_FILES_PER_REQUEST} photos per request."
        )
    contents, too_large, unsupported = [], [], []
    for index, upload in enumerate(files):
        name = upload.filename or f"file {index + 1}"
        content = await upload.read(limit + 1)
        if len(content) > limit:
            too_large.append(name)
        elif sniff_format(content[:16]) is None:
            unsupported.append(name)
        contents.append(content)
    if too_large:
        raise ApiError(
            413,
            "too_large",
            f"Photos are at most {limit} bytes each.",
            extra={"files": too_large},
        )
    if unsupported:
        raise ApiError(
            415,
            "unsupported_format",
            "Photos must be JPEG, PNG, WebP or HEIC.",
            extra={"files": unsupported},
        )
    return contents


@router.post("/events/{event_id}/photos", status_code=202, dependencies=[UploadRateLimit])
async def upload_photos(
    event_id: PathId,
    organizer: CurrentOrganizer,
    backends: BackendsDep,
    settings: SettingsDep,
    files: Annotated[list[UploadFile], File(description="Photos (repeat the field).")],
) -> PhotosAcceptedOut:
    contents = await _read_checked(files, settings.max_upload_bytes)
    accepted: list[PhotoStatusOut] = []
    batch: list[bytes] = []
    for content in [*contents, None]:
        if batch and (content is None or sum(map(len, batch)) + len(content) > RPC_BATCH_BYTES):
            reply = await backends.events.AddPhotos(
                events_pb2.AddPhotosRequest(
                    organizer_id=organizer.subject_id,
                    event_id=event_id,
                    photos=[events_pb2.PhotoUpload(content=c) for c in batch],
                ),
                timeout=backends.deadlines.photos,
            )
            accepted.extend(
                PhotoStatusOut(id=p.id, status=p.status, duplicate=p.duplicate)
                for p in reply.photos
            )
            batch = []
        if content is not None:
            batch.append(content)
    return PhotosAcceptedOut(photos=accepted)


# -- images ----------------------------------------------------------------------------


def current_viewer(request: Request, credentials: BearerCredentials) -> Principal:
    """An attendee or an organizer token; the events service decides what it may see."""
    try:
        return current_attendee(request, credentials)
    except ApiError:
        return current_organizer(request, credentials)


CurrentViewer = Annotated[Principal, Depends(current_viewer)]


async def _image(backends: BackendsDep, viewer: Principal, photo_id: int, kind: int) -> Response:
    role = (
        events_pb2.VIEWER_ROLE_ORGANIZER
        if viewer.role is Role.ORGANIZER
        else events_pb2.VIEWER_ROLE_ATTENDEE
    )
    image = await backends.events.GetPhotoImage(
        events_pb2.GetPhotoImageRequest(
            photo_id=photo_id,
            kind=kind,  # type: ignore[arg-type]
            viewer_role=role,
            viewer_id=viewer.subject_id,
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
