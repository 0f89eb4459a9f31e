"""Request dependencies as ``Annotated`` aliases: backends, settings, the caller's
identity from the bearer token, the client address, rate limits, and the upload
form (read only after the checks declared before it)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from findme_common.refusals import Reason
from starlette.datastructures import FormData

from findme_gateway.backends import Backends
from findme_gateway.config import GatewaySettings
from findme_gateway.errors import ApiError
from findme_gateway.fairness import Lanes
from findme_gateway.metrics import RATE_LIMITED
from findme_gateway.name_reservations import NameReservations
from findme_gateway.ratelimit import RateLimiter
from findme_gateway.tokens import InvalidToken, Principal, Role, TokenVerifier
from findme_gateway.uploads import UploadSlots, read_form

log = logging.getLogger(__name__)

_CHALLENGE = {"WWW-Authenticate": "Bearer"}
_bearer = HTTPBearer(auto_error=False)


def get_settings(request: Request) -> GatewaySettings:
    settings: GatewaySettings = request.app.state.settings
    return settings


def get_backends(request: Request) -> Backends:
    backends: Backends = request.app.state.backends
    return backends


def get_client_address(request: Request) -> str:
    # Already the real client when the peer is a trusted proxy (ProxyHeadersMiddleware).
    return request.client.host if request.client else "unknown"


def get_name_reservations(request: Request) -> NameReservations:
    reservations: NameReservations = request.app.state.name_reservations
    return reservations


SettingsDep = Annotated[GatewaySettings, Depends(get_settings)]
NameReservationsDep = Annotated[NameReservations, Depends(get_name_reservations)]
BackendsDep = Annotated[Backends, Depends(get_backends)]
ClientAddress = Annotated[str, Depends(get_client_address)]
BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _authenticate(
    request: Request, credentials: HTTPAuthorizationCredentials | None, role: Role
) -> Principal:
    if credentials is None:
        if request.headers.get("authorization"):
            raise ApiError(
                Reason.INVALID_TOKEN,
                "Use 'Authorization: Bearer <token>'.",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        raise ApiError(Reason.MISSING_TOKEN, "Log in first.", headers=_CHALLENGE)
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        return verifier.verify(credentials.credentials, role=role)
    except InvalidToken as exc:
        log.info("token refused", extra={"reason": str(exc), "role": role.value})
        raise ApiError(
            Reason.INVALID_TOKEN,
            "The access token is invalid or expired; log in again.",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        ) from None


def current_attendee(request: Request, credentials: BearerCredentials) -> Principal:
    return _authenticate(request, credentials, Role.ATTENDEE)


def current_organizer(request: Request, credentials: BearerCredentials) -> Principal:
    return _authenticate(request, credentials, Role.ORGANIZER)


# Operators' pages carry the token in this cookie (set at operator login): a browser
# sends no Authorization header when it opens a page.
OPERATOR_COOKIE = "findme_operator"


def current_operator(request: Request, credentials: BearerCredentials) -> Principal:
    """An operator's token (header or cookie), or the 404 of a page that does not
    exist: nobody else learns that the operators' pages are there."""
    token = credentials.credentials if credentials else request.cookies.get(OPERATOR_COOKIE)
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        if not token:
            raise InvalidToken("no operator token")
        return verifier.verify(token, role=Role.OPERATOR)
    except InvalidToken:
        raise ApiError(Reason.NOT_FOUND, "Not Found") from None


CurrentAttendee = Annotated[Principal, Depends(current_attendee)]
CurrentOrganizer = Annotated[Principal, Depends(current_organizer)]
CurrentOperator = Annotated[Principal, Depends(current_operator)]


def _login_limit(settings: GatewaySettings) -> int:
    return settings.login_rate_limit


def _register_limit(settings: GatewaySettings) -> int:
    return settings.register_rate_limit


def _upload_limit(settings: GatewaySettings) -> int:
    return settings.upload_rate_limit


class RateLimit:
    """Dependency counting the request against ``bucket`` for the client address."""

    def __init__(self, bucket: str, limit: Callable[[GatewaySettings], int]) -> None:
        self.bucket = bucket
        self.limit = limit

    async def __call__(
        self, request: Request, settings: SettingsDep, client: ClientAddress
    ) -> None:
        await _count(request, settings, self.bucket, client, self.limit(settings), "address")


async def _count(
    request: Request, settings: GatewaySettings, bucket: str, key: str, limit: int, who: str
) -> None:
    if not settings.rate_limit_enabled:
        return
    limiter: RateLimiter = request.app.state.rate_limiter
    decision = await limiter.hit(bucket, key, limit=limit, window=settings.rate_limit_window)
    if not decision.allowed:
        RATE_LIMITED.labels(bucket).inc()
        raise ApiError(
            Reason.RATE_LIMITED,
            f"Too many requests from this {who}; slow down.",
            headers={"Retry-After": str(decision.retry_after)},
        )


def _lookup_limit(settings: GatewaySettings) -> int:
    return settings.lookup_rate_limit


def account_rate_limit(
    bucket: str, limit: Callable[[GatewaySettings], int], who: Callable[..., Principal]
) -> Any:
    """Counts the request against ``bucket`` for the caller's account (``who`` is the
    token dependency), so people behind one address do not share a limit."""

    # A default, not an Annotated alias: ``who`` is local, and annotations are strings.
    caller = Depends(who)

    async def limit_account(
        request: Request, settings: SettingsDep, principal: Principal = caller
    ) -> None:
        key = f"{principal.role.value}:{principal.subject_id}"
        await _count(request, settings, bucket, key, limit(settings), "account")

    return Depends(limit_account)


LoginRateLimit = Depends(RateLimit("login", _login_limit))
RegisterRateLimit = Depends(RateLimit("register", _register_limit))
LookupRateLimit = Depends(RateLimit("lookup", _lookup_limit))
AttendeeUploadRateLimit = account_rate_limit("upload", _upload_limit, current_attendee)
OrganizerUploadRateLimit = account_rate_limit("upload", _upload_limit, current_organizer)


# -- uploads -----------------------------------------------------------------------------


async def selfie_turn(request: Request, attendee: CurrentAttendee) -> AsyncIterator[None]:
    """The attendee's turn at the image workers (fairness.Lanes), or 429 at once."""
    lanes: Lanes = request.app.state.selfie_lanes
    async with lanes.enter(f"attendee:{attendee.subject_id}"):
        yield


async def invite_selfie_turn(request: Request, token: str) -> AsyncIterator[None]:
    """The same for a registration through an invite: one at a time per invite."""
    lanes: Lanes = request.app.state.selfie_lanes
    async with lanes.enter(f"invite:{hashlib.sha256(token.encode()).hexdigest()}"):
        yield


async def upload_form(request: Request, settings: SettingsDep) -> AsyncIterator[FormData]:
    """The upload's form, read within an upload slot. Declared after a route's token,
    rate-limit and fairness checks, so a refused request never has its body read."""
    slots: UploadSlots = request.app.state.upload_slots
    async with slots.hold():
        form = await read_form(request, max_files=settings.max_photos_per_request + 1)
        try:
            yield form
        finally:
            await form.close()


SelfieTurn = Depends(selfie_turn)
InviteSelfieTurn = Depends(invite_selfie_turn)
UploadForm = Annotated[FormData, Depends(upload_form)]
