"""Organizer side of an event: list, change, delete, stats, invite links, photo
uploads and processing progress; plus the photo image routes that attendees
(matched to the photo) and the event's organizer may fetch.

Another organizer's event answers 404 exactly like a missing one.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
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
from findme_gateway.schemas import (
    CreateInviteIn,
    EventDetailOut,
    EventListOut,
    EventStatsOut,
    InviteOut,
    PhotosAcceptedOut,
    PhotoStatusOut,
    ProgressOut,
    UpdateEventIn,
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


def _event_out(event: events_pb2.Event) -> EventDetailOut:
    return EventDetailOut(
        id=event.id,
        code=event.code,
        name=event.name,
        starts_on=event.starts_on or None,  # type: ignore[arg-type]
        ends_on=event.ends_on or None,  # type: ignore[arg-type]
        match_tolerance=event.match_tolerance,
        retention_days=event.retention_days,
    )


def _progress_out(progress: events_pb2.Progress) -> ProgressOut:
    return ProgressOut(
        pending=progress.pending,
        processing=progress.processing,
        done=progress.done,
        failed=progress.failed,
    )


def _ref(organizer: Principal, event_id: int) -> events_pb2.EventRef:
    return events_pb2.EventRef(organizer_id=organizer.subject_id, event_id=event_id)


@router.get("/events")
async def list_events(organizer: CurrentOrganizer, backends: BackendsDep) -> EventListOut:
    reply = await backends.events.ListEvents(
        events_pb2.ListEventsRequest(organizer_id=organizer.subject_id),
        timeout=backends.deadlines.cheap,
    )
    return EventListOut(events=[_event_out(event) for event in reply.events])


@router.patch("/events/{event_id}")
async def update_event(
    event_id: int, body: UpdateEventIn, organizer: CurrentOrganizer, backends: BackendsDep
) -> EventDetailOut:
    fields = body.model_dump(exclude_none=True)
    for day in ("starts_on", "ends_on"):
        if day in fields:
            fields[day] = fields[day].isoformat()
    event = await backends.events.UpdateEvent(
        events_pb2.UpdateEventRequest(
            organizer_id=organizer.subject_id, event_id=event_id, **fields
        ),
        timeout=backends.deadlines.cheap,
    )
    return _event_out(event)


@router.delete("/events/{event_id}", status_code=204)
async def delete_event(event_id: int, organizer: CurrentOrganizer, backends: BackendsDep) -> None:
    await backends.events.DeleteEvent(_ref(organizer, event_id), timeout=backends.deadlines.photos)


@router.get("/events/{event_id}/stats")
async def event_stats(
    event_id: int, organizer: CurrentOrganizer, backends: BackendsDep
) -> EventStatsOut:
    stats = await backends.events.GetEventStats(
        _ref(organizer, event_id), timeout=backends.deadlines.cheap
    )
    return EventStatsOut(
        attendees=stats.attendees,
        selfies=stats.selfies,
        photos=_progress_out(stats.photos),
        faces=stats.faces,
        matches=stats.matches,
    )


@router.post("/events/{event_id}/invites", status_code=201)
async def create_invite(
    event_id: int,
    organizer: CurrentOrganizer,
    backends: BackendsDep,
    body: CreateInviteIn | None = None,
) -> InviteOut:
    invite = await backends.events.CreateInvite(
        events_pb2.CreateInviteRequest(
            organizer_id=organizer.subject_id,
            event_id=event_id,
            valid_for_seconds=(body.valid_for_seconds or 0) if body else 0,
        ),
        timeout=backends.deadlines.cheap,
    )
    return InviteOut(
        token=invite.token,
        register_url=f"/api/invites/{invite.token}/register",
        expires_at=datetime.fromtimestamp(invite.expires_at_unix, UTC),
    )


@router.get("/events/{event_id}/progress")
async def progress(
    event_id: int, organizer: CurrentOrganizer, backends: BackendsDep
) -> ProgressOut:
    reply = await backends.events.GetProgress(
        _ref(organizer, event_id), timeout=backends.deadlines.cheap
    )
    return _progress_out(reply)


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
    event_id: int,
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
async def photo_display(photo_id: int, viewer: CurrentViewer, backends: BackendsDep) -> Response:
    return await _image(backends, viewer, photo_id, events_pb2.IMAGE_KIND_DISPLAY)


@router.get("/photos/{photo_id}/thumbnail", response_class=Response)
async def photo_thumbnail(photo_id: int, viewer: CurrentViewer, backends: BackendsDep) -> Response:
    return await _image(backends, viewer, photo_id, events_pb2.IMAGE_KIND_THUMBNAIL)
