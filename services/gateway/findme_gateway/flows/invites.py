"""Registration through an invite link, with the selfie in the same request."""

from __future__ import annotations

from dataclasses import dataclass

from findme.auth.v1 import auth_pb2
from findme.events.v1 import events_pb2
from findme_common.refusals import Reason

from findme_gateway.backends import Backends
from findme_gateway.errors import ApiError
from findme_gateway.flows.accounts import IssuedToken, hash_password, issue_token, username_taken
from findme_gateway.flows.selfies import SavedSelfie, face_box, process_selfie, saved_selfie


@dataclass(frozen=True, slots=True)
class InvitedAttendee:
    token: IssuedToken
    attendee_id: int
    username: str
    selfie: SavedSelfie


async def register_with_invite(
    *, backends: Backends, token: str, username: str, password: str, image: bytes
) -> InvitedAttendee:
    """Cheap checks first (invite usable, name free), then the image, then bcrypt;
    the events service consumes the invite, creates the attendee and stores the
    selfie in one transaction, so any refusal leaves the invite usable."""
    check = await backends.events.CheckInvite(
        events_pb2.CheckInviteRequest(token=token, username=username),
        timeout=backends.deadlines.cheap,
    )
    if not check.valid:
        raise ApiError(Reason.INVITE_NOT_FOUND, "This invite link is not valid.")
    if check.username_taken:
        raise username_taken()
    processed = await process_selfie(backends, image)
    password_hash = await hash_password(backends, password)
    box = processed.face
    registered = await backends.events.RegisterWithInvite(
        events_pb2.RegisterWithInviteRequest(
            token=token,
            username=username,
            password_hash=password_hash,
            jpeg=processed.jpeg,
            encoding=processed.encoding,
            face=face_box(box),
        ),
        timeout=backends.deadlines.selfie,
    )
    attendee = registered.attendee
    issued = await issue_token(backends, auth_pb2.ROLE_ATTENDEE, attendee.id, attendee.event_id)
    return InvitedAttendee(
        token=issued,
        attendee_id=attendee.id,
        username=attendee.username,
        selfie=saved_selfie(box, stored_bytes=registered.stored_bytes, matches=registered.matches),
    )
