"""Attendee registration, login and selfie upload."""

from __future__ import annotations

from fastapi import APIRouter

from findme_gateway.deps import (
    AttendeeUploadRateLimit,
    BackendsDep,
    ClientAddress,
    CurrentAttendee,
    LoginRateLimit,
    NameReservationsDep,
    RegisterRateLimit,
    SelfieTurn,
    SettingsDep,
    UploadForm,
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
from findme_gateway.uploads import form_file, form_flag, multipart_body, read_image

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


@router.post(
    "/upload-selfie",
    # In this order: token, the account's rate limit, its turn; only then the body.
    dependencies=[AttendeeUploadRateLimit, SelfieTurn],
    openapi_extra=multipart_body(files=("file",), flags=("add",)),
)
async def upload_selfie(
    attendee: CurrentAttendee, backends: BackendsDep, settings: SettingsDep, form: UploadForm
) -> SelfieOut:
    image = await read_image(form_file(form, "file"), settings.max_upload_bytes)
    # add=true keeps the other selfies (up to 3) instead of replacing them.
    add = form_flag(form, "add")
    saved = await selfies.upload_selfie(
        backends=backends, attendee_id=attendee.subject_id, image=image, add=add
    )
    return selfie_out(saved)
