"""Sign-up and login for attendees and organizers, and login for operators
(docs/architecture.md, flows).

Only the answers that must not reveal whether an account exists are decided here.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Awaitable
from dataclasses import dataclass

import grpc
from findme.auth.v1 import auth_pb2
from findme.events.v1 import events_pb2
from findme_common.refusals import Reason

from findme_gateway.backends import Backends
from findme_gateway.errors import ApiError
from findme_gateway.name_reservations import NameReservations

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_in: int


@dataclass(frozen=True, slots=True)
class RegisteredAttendee:
    token: IssuedToken
    attendee_id: int
    username: str


def _invalid_credentials() -> ApiError:
    return ApiError(Reason.INVALID_CREDENTIALS, "Wrong username or password.")


def username_taken() -> ApiError:
    return ApiError(Reason.USERNAME_TAKEN, "That username is already taken at this event.")


def _canonical_code(code: str) -> str:
    # Event codes are typed with spaces, dashes or lower case; one code, one claim.
    return "".join(ch for ch in code if ch.isalnum()).upper()


def _normalised(name: str) -> str:
    # Fallback throttling key when events gives none; the same rule as events'
    # usernames.canonical (NFKC again after casefold), so one name has one counter.
    folded = unicodedata.normalize("NFKC", name.strip()).casefold()
    return unicodedata.normalize("NFKC", folded)


async def issue_token(
    backends: Backends, role: auth_pb2.Role, subject_id: int, event_id: int
) -> IssuedToken:
    reply = await backends.auth.IssueToken(
        auth_pb2.IssueTokenRequest(role=role, subject_id=subject_id, event_id=event_id),
        timeout=backends.deadlines.cheap,
    )
    return IssuedToken(access_token=reply.access_token, expires_in=reply.expires_in)


async def hash_password(backends: Backends, password: str) -> str:
    reply = await backends.auth.HashPassword(
        auth_pb2.HashPasswordRequest(password=password), timeout=backends.deadlines.password
    )
    return str(reply.password_hash)


async def _verify(
    backends: Backends, password: str, stored_hash: str, throttle: auth_pb2.ThrottleKey
) -> auth_pb2.VerifyPasswordResponse:
    reply: auth_pb2.VerifyPasswordResponse = await backends.auth.VerifyPassword(
        auth_pb2.VerifyPasswordRequest(
            password=password, password_hash=stored_hash, throttle=throttle
        ),
        timeout=backends.deadlines.password,
    )
    return reply


async def register_attendee(
    *,
    backends: Backends,
    reservations: NameReservations,
    event_code: str,
    username: str,
    password: str,
) -> RegisteredAttendee:
    cheap = backends.deadlines.cheap
    # Cheap check first so a taken name does not cost a bcrypt hash.
    availability = await backends.events.CheckAvailability(
        events_pb2.CheckAvailabilityRequest(event_code=event_code, username=username),
        timeout=cheap,
    )
    if availability.username_taken:
        raise username_taken()
    async with reservations.reserve(_canonical_code(event_code), _normalised(username)) as ours:
        if not ours:
            # Someone is registering this very name right now.
            raise username_taken()
        password_hash = await hash_password(backends, password)
        # The unique index decides a race between two registrations: the loser gets
        # ALREADY_EXISTS username_taken -> 409.
        attendee = await backends.events.CreateAttendee(
            events_pb2.CreateAttendeeRequest(
                event_code=event_code, username=username, password_hash=password_hash
            ),
            timeout=cheap,
        )
    token = await issue_token(backends, auth_pb2.ROLE_ATTENDEE, attendee.id, attendee.event_id)
    return RegisteredAttendee(token=token, attendee_id=attendee.id, username=attendee.username)


async def login_attendee(
    *, backends: Backends, event_code: str, username: str, password: str, client_address: str
) -> IssuedToken:
    try:
        credentials = await backends.events.GetAttendeeCredentials(
            events_pb2.GetAttendeeCredentialsRequest(event_code=event_code, username=username),
            timeout=backends.deadlines.cheap,
        )
    except grpc.RpcError as exc:
        # An unknown event must look exactly like a wrong password.
        if exc.code() is not grpc.StatusCode.NOT_FOUND:
            raise
        credentials = events_pb2.Credentials(found=False)
    scope = f"event:{credentials.event_id}" if credentials.event_id else f"event:{event_code}"
    throttle = auth_pb2.ThrottleKey(
        scope=scope,
        account=credentials.account or _normalised(username),
        client_address=client_address,
    )
    return await _complete_login(
        backends, credentials, password, throttle, role=auth_pb2.ROLE_ATTENDEE
    )


async def sign_up_organizer(*, backends: Backends, email: str, password: str) -> IssuedToken:
    password_hash = await hash_password(backends, password)
    created = await backends.events.CreateOrganizer(
        events_pb2.CreateOrganizerRequest(email=email, password_hash=password_hash),
        timeout=backends.deadlines.cheap,
    )
    return await issue_token(backends, auth_pb2.ROLE_ORGANIZER, created.organizer_id, 0)


async def login_organizer(
    *, backends: Backends, email: str, password: str, client_address: str
) -> IssuedToken:
    credentials = backends.events.GetOrganizerCredentials(
        events_pb2.GetOrganizerCredentialsRequest(email=email), timeout=backends.deadlines.cheap
    )
    return await _email_login(
        backends, credentials, email, password, client_address, role=auth_pb2.ROLE_ORGANIZER
    )


async def login_operator(
    *, backends: Backends, email: str, password: str, client_address: str
) -> IssuedToken:
    credentials = backends.events.GetOperatorCredentials(
        events_pb2.GetOperatorCredentialsRequest(email=email), timeout=backends.deadlines.cheap
    )
    return await _email_login(
        backends, credentials, email, password, client_address, role=auth_pb2.ROLE_OPERATOR
    )


# Each kind of email account is throttled apart from the other.
_THROTTLE_SCOPES = {auth_pb2.ROLE_ORGANIZER: "organizers", auth_pb2.ROLE_OPERATOR: "operators"}


async def _email_login(
    backends: Backends,
    credentials_call: Awaitable[events_pb2.Credentials],
    email: str,
    password: str,
    client_address: str,
    *,
    role: auth_pb2.Role,
) -> IssuedToken:
    credentials = await credentials_call
    throttle = auth_pb2.ThrottleKey(
        scope=_THROTTLE_SCOPES[role],
        account=credentials.account or _normalised(email),
        client_address=client_address,
    )
    return await _complete_login(backends, credentials, password, throttle, role=role)


async def _complete_login(
    backends: Backends,
    credentials: events_pb2.Credentials,
    password: str,
    throttle: auth_pb2.ThrottleKey,
    *,
    role: auth_pb2.Role,
) -> IssuedToken:
    # An empty hash makes auth verify a dummy, so unknown accounts take as long.
    stored_hash = credentials.password_hash if credentials.found else ""
    verdict = await _verify(backends, password, stored_hash, throttle)
    if not (verdict.valid and credentials.found):
        raise _invalid_credentials()
    if verdict.needs_rehash and verdict.new_hash:
        await _save_rehash(backends, credentials.subject_id, verdict.new_hash, role=role)
    event_id = credentials.event_id if role == auth_pb2.ROLE_ATTENDEE else 0
    return await issue_token(backends, role, credentials.subject_id, event_id)


async def _save_rehash(
    backends: Backends, subject_id: int, new_hash: str, *, role: auth_pb2.Role
) -> None:
    if role == auth_pb2.ROLE_OPERATOR:
        # The admin CLI writes operators' hashes, at the current cost.
        return
    request = events_pb2.UpdatePasswordHashRequest(subject_id=subject_id, password_hash=new_hash)
    update = (
        backends.events.UpdateAttendeePasswordHash
        if role == auth_pb2.ROLE_ATTENDEE
        else backends.events.UpdateOrganizerPasswordHash
    )
    try:
        await update(request, timeout=backends.deadlines.cheap)
    except grpc.RpcError as exc:
        # The old hash still works; the upgrade is retried at the next login.
        log.warning("password rehash not saved", extra={"error": str(exc.code())})
