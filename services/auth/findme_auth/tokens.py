"""Access tokens: JWTs signed with Ed25519 (EdDSA).

Auth holds the private key; the gateway verifies with the public key locally, so
no RPC is spent per request and a leaked gateway cannot mint tokens. Every token
names its key in the ``kid`` header, so the gateway can accept the old and the new
key while a new one is rolled out (``findme_common.key_rotation``).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_private_key,
)
from findme_common.refusals import Reason, Refusal
from findme_common.token_keys import key_id

ALGORITHM = "EdDSA"
ATTENDEE = "attendee"
ORGANIZER = "organizer"
OPERATOR = "operator"
ROLES = (ATTENDEE, ORGANIZER, OPERATOR)
REQUIRED_CLAIMS = ["iss", "aud", "sub", "role", "iat", "exp", "jti"]


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    token_type: str = "bearer"


class TokenIssuer:
    def __init__(self, private_key_pem: str, *, issuer: str, audience: str, ttl_seconds: int):
        key = load_pem_private_key(private_key_pem.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("token signing key must be Ed25519")
        self._key = key
        self.key_id = key_id(
            key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        )
        self.issuer = issuer
        self.audience = audience
        self.ttl_seconds = ttl_seconds

    @property
    def public_key_pem(self) -> str:
        return (
            self._key.public_key()
            .public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )

    def issue(
        self, *, role: str, subject_id: int, event_id: int = 0, now: float | None = None
    ) -> IssuedToken:
        if role not in ROLES:
            raise Refusal(Reason.INVALID_ROLE, "role must be attendee, organizer or operator")
        if subject_id <= 0:
            raise Refusal(Reason.INVALID_SUBJECT, "subject_id must be positive")
        if role == ATTENDEE and event_id <= 0:
            raise Refusal(Reason.INVALID_EVENT, "an attendee token needs its event_id")
        issued_at = int(time.time() if now is None else now)
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": str(subject_id),
            "role": role,
            "iat": issued_at,
            "exp": issued_at + self.ttl_seconds,
            "jti": uuid.uuid4().hex,
        }
        if role == ATTENDEE:
            claims["event"] = event_id
        token = jwt.encode(claims, self._key, algorithm=ALGORITHM, headers={"kid": self.key_id})
        return IssuedToken(access_token=token, expires_in=self.ttl_seconds)


def verify_token(
    token: str, public_key_pem: str, *, issuer: str, audience: str, leeway: float = 0
) -> dict[str, Any]:
    """Decode and check ``token``; raises ``jwt.InvalidTokenError`` on any defect.

    Only EdDSA is accepted, so ``alg: none`` and HMAC-with-the-public-key tokens fail.
    """
    claims: dict[str, Any] = jwt.decode(
        token,
        public_key_pem,
        algorithms=[ALGORITHM],
        issuer=issuer,
        audience=audience,
        leeway=leeway,
        options={"require": REQUIRED_CLAIMS},
    )
    if claims["role"] not in ROLES:
        raise jwt.InvalidTokenError("unknown role")
    if claims["role"] == ATTENDEE and not isinstance(claims.get("event"), int):
        raise jwt.InvalidTokenError("attendee token without event")
    return claims
