"""The attendee's own account: register through an invite link (with the selfie),
list "my photos", delete everything about me."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from findme.auth.v1 import auth_pb2
from findme.events.v1 import events_pb2
from findme.selfie.v1 import selfie_pb2

from findme_gateway.deps import (
    BackendsDep,
    CurrentAttendee,
    RegisterRateLimit,
    SettingsDep,
)
from findme_gateway.errors import ApiError
from findme_gateway.schemas import (
    AttendeeOut,
    FaceBoxOut,
    InviteRegisterOut,
    MyPhotoOut,
    MyPhotosOut,
    SelfieOut,
)

router = APIRouter(prefix="/api", tags=["me"])

MAX_CURSOR_LENGTH = 200


def photo_urls(photo_id: int) -> tuple[str, str]:
    """Gateway routes that check, per request, that the caller may see the photo."""
    return f"/api/photos/{photo_id}/display", f"/api/photos/{photo_id}/thumbnail"


@router.get("/me/photos")
async def my_photos(
    attendee: CurrentAttendee, backends: BackendsDep, cursor: str = ""
) -> MyPhotosOut:
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise ApiError(422, "invalid_cursor", "The cursor is not one this API gave.")
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
                detected_at=item.detected_at,  # type: ignore[arg-type]
            )
        )
    return MyPhotosOut(items=items, next_cursor=page.next_cursor or None)


@router.delete("/me", status_code=204)
async def delete_me(attendee: CurrentAttendee, backends: BackendsDep) -> None:
    await backends.events.DeleteAttendee(
        events_pb2.DeleteAttendeeRequest(attendee_id=attendee.subject_id),
        timeout=backends.deadlines.cheap,
    )


Username = Annotated[str, Form(min_length=1, max_length=64)]
NewPassword = Annotated[str, Form(min_length=8, max_length=1024)]


@router.post("/invites/{token}/register", status_code=201, dependencies=[RegisterRateLimit])
async def register_with_invite(
    token: str,
    username: Username,
    password: NewPassword,
    file: Annotated[UploadFile, File(description="The selfie: JPEG, PNG, WebP or HEIC.")],
    backends: BackendsDep,
    settings: SettingsDep,
) -> InviteRegisterOut:
    """Cheap checks first (invite usable, name free), then the image, then bcrypt;
    the events service consumes the invite, creates the attendee and stores the
    selfie in one transaction, so any refusal leaves the invite usable."""
    username = username.strip()
    image = await file.read(settings.max_upload_bytes + 1)
    if len(image) > settings.max_upload_bytes:
        raise ApiError(
            413, "too_large", f"The image is larger than {settings.max_upload_bytes} bytes."
        )
    check = await backends.events.CheckInvite(
        events_pb2.CheckInviteRequest(token=token, username=username),
        timeout=backends.deadlines.cheap,
    )
    if not check.valid:
        raise ApiError(404, "invite_not_found", "This invite link is not valid.")
    if check.username_taken:
        raise ApiError(409, "username_taken", "That username is already taken at this event.")
    processed: selfie_pb2.ProcessSelfieResponse = await backends.selfie.ProcessSelfie(
        selfie_pb2.ProcessSelfieRequest(image=image), timeout=backends.deadlines.selfie
    )
    hashed = await backends.auth.HashPassword(
        auth_pb2.HashPasswordRequest(password=password), timeout=backends.deadlines.password
    )
    box = processed.face
    registered = await backends.events.RegisterWithInvite(
        events_pb2.RegisterWithInviteRequest(
            token=token,
            username=username,
            password_hash=hashed.password_hash,
            jpeg=processed.jpeg,
            encoding=processed.encoding,
            face=events_pb2.FaceBox(top=box.top, right=box.right, bottom=box.bottom, left=box.left),
        ),
        timeout=backends.deadlines.selfie,
    )
    attendee = registered.attendee
    issued = await backends.auth.IssueToken(
        auth_pb2.IssueTokenRequest(
            role=auth_pb2.ROLE_ATTENDEE, subject_id=attendee.id, event_id=attendee.event_id
        ),
        timeout=backends.deadlines.cheap,
    )
    return InviteRegisterOut(
        access_token=issued.access_token,
        expires_in=issued.expires_in,
        attendee=AttendeeOut(id=attendee.id, username=attendee.username),
        selfie=SelfieOut(
            face=FaceBoxOut(top=box.top, right=box.right, bottom=box.bottom, left=box.left),
            stored_bytes=registered.stored_bytes,
            matches=registered.matches,
        ),
    )
