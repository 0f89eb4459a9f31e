"""gRPC methods of findme.auth.v1.AuthService: translate messages and delegate.
Refusals raised below reach the caller through the shared server interceptor."""

from __future__ import annotations

from typing import Any

import grpc
from findme.auth.v1 import auth_pb2, auth_pb2_grpc
from findme_common.refusals import Reason, Refusal

from findme_auth import metrics
from findme_auth.credentials import Credentials
from findme_auth.throttle import ThrottleKey
from findme_auth.tokens import ATTENDEE, OPERATOR, ORGANIZER, TokenIssuer

_ROLES = {
    auth_pb2.ROLE_ATTENDEE: ATTENDEE,
    auth_pb2.ROLE_ORGANIZER: ORGANIZER,
    auth_pb2.ROLE_OPERATOR: OPERATOR,
}

Context = grpc.aio.ServicerContext[Any, Any]


class AuthServicer(auth_pb2_grpc.AuthServiceServicer):
    def __init__(self, credentials: Credentials, tokens: TokenIssuer) -> None:
        self._credentials = credentials
        self._tokens = tokens

    async def HashPassword(
        self, request: auth_pb2.HashPasswordRequest, context: Context
    ) -> auth_pb2.HashPasswordResponse:
        password_hash = await self._credentials.hash_password(request.password)
        return auth_pb2.HashPasswordResponse(password_hash=password_hash)

    async def VerifyPassword(
        self, request: auth_pb2.VerifyPasswordRequest, context: Context
    ) -> auth_pb2.VerifyPasswordResponse:
        key = None
        if request.HasField("throttle"):
            t = request.throttle
            key = ThrottleKey(scope=t.scope, account=t.account, client_address=t.client_address)
        result = await self._credentials.verify_password(
            request.password, request.password_hash, key
        )
        (metrics.VALID if result.valid else metrics.INVALID).inc()
        return auth_pb2.VerifyPasswordResponse(
            valid=result.valid,
            needs_rehash=result.new_hash is not None,
            new_hash=result.new_hash or "",
        )

    async def IssueToken(
        self, request: auth_pb2.IssueTokenRequest, context: Context
    ) -> auth_pb2.IssueTokenResponse:
        role = _ROLES.get(request.role)
        if role is None:
            raise Refusal(Reason.INVALID_ROLE, "role must be attendee, organizer or operator")
        token = self._tokens.issue(
            role=role, subject_id=request.subject_id, event_id=request.event_id
        )
        return auth_pb2.IssueTokenResponse(
            access_token=token.access_token,
            token_type=token.token_type,
            expires_in=token.expires_in,
        )
