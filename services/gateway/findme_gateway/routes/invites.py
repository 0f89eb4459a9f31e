"""Registration through an invite link, the selfie in the same request."""

from __future__ import annotations

from fastapi import APIRouter

from findme_gateway.deps import (
    BackendsDep,
    InviteSelfieTurn,
    RegisterRateLimit,
    SettingsDep,
    UploadForm,
)
from findme_gateway.flows import invites
from findme_gateway.routes.converters import selfie_out
from findme_gateway.schemas import AttendeeOut, InviteRegisterOut
from findme_gateway.uploads import form_file, form_text, multipart_body, read_image

router = APIRouter(prefix="/api", tags=["invites"])


@router.post(
    "/invites/{token}/register",
    status_code=201,
    # The address's rate limit and the invite's turn before the body is read.
    dependencies=[RegisterRateLimit, InviteSelfieTurn],
    openapi_extra=multipart_body(files=("file",), text=("username", "password")),
)
async def register_with_invite(
    token: str, backends: BackendsDep, settings: SettingsDep, form: UploadForm
) -> InviteRegisterOut:
    username = form_text(form, "username", min_length=1, max_length=64)
    password = form_text(form, "password", min_length=8, max_length=1024)
    image = await read_image(form_file(form, "file"), settings.max_upload_bytes)
    registered = await invites.register_with_invite(
        backends=backends, token=token, username=username.strip(), password=password, image=image
    )
    return InviteRegisterOut(
        access_token=registered.token.access_token,
        expires_in=registered.token.expires_in,
        attendee=AttendeeOut(id=registered.attendee_id, username=registered.username),
        selfie=selfie_out(registered.selfie),
    )
