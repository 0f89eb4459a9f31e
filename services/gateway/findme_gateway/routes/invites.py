"""Registration through an invite link, the selfie in the same request."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile

from findme_gateway.deps import BackendsDep, RegisterRateLimit, SettingsDep
from findme_gateway.flows import invites
from findme_gateway.routes.converters import selfie_out
from findme_gateway.schemas import AttendeeOut, InviteRegisterOut
from findme_gateway.uploads import read_image

router = APIRouter(prefix="/api", tags=["invites"])

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
    image = await read_image(file, settings.max_upload_bytes)
    registered = await invites.register_with_invite(
        backends=backends, token=token, username=username.strip(), password=password, image=image
    )
    return InviteRegisterOut(
        access_token=registered.token.access_token,
        expires_in=registered.token.expires_in,
        attendee=AttendeeOut(id=registered.attendee_id, username=registered.username),
        selfie=selfie_out(registered.selfie),
    )
