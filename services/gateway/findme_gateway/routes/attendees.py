"""Attendee registration, login and selfie upload."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile

from findme_gateway.deps import (
    BackendsDep,
    ClientAddress,
    CurrentAttendee,
    LoginRateLimit,
    NameReservationsDep,
    RegisterRateLimit,
    SettingsDep,
    UploadRateLimit,
)
from findme_gateway.flows import accounts, selfies
from findme_gateway.routes.converters import selfie_out
from findme_gateway.schemas import (
    AttendeeOut,
    LoginIn,
    RegisterIn,
    RegisterOut,
    SelfieOut,
    TokenOut,
)
from findme_gateway.uploads import read_image

router = APIRouter(prefix="/api", tags=["attendees"])


@router.post("/register-with-event-code", status_code=201, dependencies=[RegisterRateLimit])
async def register(
    body: RegisterIn, backends: BackendsDep, reservations: NameReservationsDep
) -> RegisterOut:
    registered = await accounts.register_attendee(
        backends=backends,
        reservations=reservations,
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
    add: Annotated[
        bool,
        Form(description="Keep your other selfies (up to 3), instead of replacing them."),
    ] = False,
) -> SelfieOut:
    image = await read_image(file, settings.max_upload_bytes)
    saved = await selfies.upload_selfie(
        backends=backends, attendee_id=attendee.subject_id, image=image, add=add
    )
    return selfie_out(saved)
