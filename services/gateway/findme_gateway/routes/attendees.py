"""Attendee registration, login and selfie upload."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, UploadFile

from findme_gateway import accounts, selfies
from findme_gateway.deps import (
    BackendsDep,
    ClientAddress,
    CurrentAttendee,
    LoginRateLimit,
    NameClaimsDep,
    RegisterRateLimit,
    SettingsDep,
    UploadRateLimit,
)
from findme_gateway.errors import ApiError
from findme_gateway.schemas import (
    AttendeeOut,
    FaceBoxOut,
    LoginIn,
    RegisterIn,
    RegisterOut,
    SelfieOut,
    TokenOut,
)

router = APIRouter(prefix="/api", tags=["attendees"])


@router.post("/register-with-event-code", status_code=201, dependencies=[RegisterRateLimit])
async def register(body: RegisterIn, backends: BackendsDep, claims: NameClaimsDep) -> RegisterOut:
    registered = await accounts.register_attendee(
        backends=backends,
        claims=claims,
        event_code=body.event_code,
        username=body.username,
        password=body.password,
    )
    return RegisterOut(
        access_token=registered.token.access_token,
        expires_in=registered.token.expires_in,
        attendee=AttendeeOut(id=registered.attendee_id, username=registered.username),
    )


@router.post("/login", dependencies=[LoginRateLimit])
async def login(body: LoginIn, backends: BackendsDep, client: ClientAddress) -> TokenOut:
    token = await accounts.login_attendee(
        backends=backends,
        event_code=body.event_code,
        username=body.username,
        password=body.password,
        client_address=client,
    )
    return TokenOut(access_token=token.access_token, expires_in=token.expires_in)


@router.post("/upload-selfie", dependencies=[UploadRateLimit])
async def upload_selfie(
    attendee: CurrentAttendee,
    backends: BackendsDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="The selfie: JPEG, PNG, WebP or HEIC.")],
) -> SelfieOut:
    # Read one byte past the limit: enough to know it is too big without buffering more.
    image = await file.read(settings.max_upload_bytes + 1)
    if len(image) > settings.max_upload_bytes:
        raise ApiError(
            413, "too_large", f"The image is larger than {settings.max_upload_bytes} bytes."
        )
    saved = await selfies.upload_selfie(
        backends=backends, attendee_id=attendee.subject_id, image=image
    )
    return SelfieOut(
        face=FaceBoxOut(top=saved.top, right=saved.right, bottom=saved.bottom, left=saved.left),
        stored_bytes=saved.stored_bytes,
        matches=saved.matches,
    )
