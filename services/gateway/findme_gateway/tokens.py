"""Local verification of the access tokens auth signs (Ed25519 JWT).

Only ``EdDSA`` with the configured public key is accepted, so ``alg: none`` and
HMAC tokens that use the public key as a shared secret are refused outright.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_public_key

ALGORITHM = "EdDSA"
_REQUIRED_CLAIMS = ["iss", "aud", "sub", "role", "iat", "exp"]


class Role(enum.StrEnum):
    ATTENDEE = "attendee"
    ORGANIZER = "organizer"
    OPERATOR = "operator"


class InvalidToken(Exception):
    """The token cannot be trusted for this route; the message says why (for logs)."""


@dataclass(frozen=True, slots=True)
class Principal:
    subject_id: int
    role: Role
    # The attendee's event; None for organizers and operators.
    event_id: int | None
    token_id: str


class TokenVerifier:
    def __init__(
        self, public_key_pem: str, *, issuer: str, audience: str, leeway: float = 0.0
    ) -> None:
        self._key = load_pem_public_key(public_key_pem.encode())
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway

    def verify(self, token: str, *, role: Role) -> Principal:
        """Claims of ``token`` when it is authentic, current and grants ``role``."""
        try:
            claims = jwt.decode(
                token,
                self._key,  # type: ignore[arg-type]
                algorithms=[ALGORITHM],
                issuer=self._issuer,
                audience=self._audience,
                leeway=self._leeway,
                options={"require": _REQUIRED_CLAIMS},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc) or type(exc).__name__) from exc

        if claims.get("role") != role.value:
            raise InvalidToken(f"token role {claims.get('role')!r} cannot use this route")
        subject = claims["sub"]
        if not isinstance(subject, str) or not subject.isdigit():
            raise InvalidToken("subject is not an id")
        event_id: int | None = None
        if role is Role.ATTENDEE:
            event = claims.get("event")
            if not isinstance(event, int) or isinstance(event, bool) or event <= 0:
                raise InvalidToken("attendee token without an event")
            event_id = event
        return Principal(
            subject_id=int(subject),
            role=role,
            event_id=event_id,
            token_id=str(claims.get("jti", "")),
        )
