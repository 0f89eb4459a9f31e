"""Local verification of the access tokens auth signs (Ed25519 JWT).

Only ``EdDSA`` with one of the configured public keys is accepted, so ``alg: none``
and HMAC tokens that use a public key as a shared secret are refused outright. A
token names its key in the ``kid`` header (``findme_common.token_keys.key_id``);
several keys are configured only while a new signing key is rolled out.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_public_key,
)
from findme_common.token_keys import key_id, split_pem_bundle

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


def load_public_keys(public_keys_pem: str) -> dict[str, Ed25519PublicKey]:
    """The Ed25519 keys of a PEM bundle by key id, in the bundle's order."""
    keys: dict[str, Ed25519PublicKey] = {}
    for pem in split_pem_bundle(public_keys_pem):
        key = load_pem_public_key(pem.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("token keys must be Ed25519 public keys")
        keys[key_id(key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo))] = key
    if not keys:
        raise ValueError("no public key in the token key setting")
    return keys


class TokenVerifier:
    def __init__(
        self, public_keys_pem: str, *, issuer: str, audience: str, leeway: float = 0.0
    ) -> None:
        self._keys = load_public_keys(public_keys_pem)
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway

    @property
    def key_ids(self) -> list[str]:
        return list(self._keys)

    def _candidates(self, token: str) -> list[Ed25519PublicKey]:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc) or type(exc).__name__) from exc
        if kid is None:
            # Tokens signed before key ids: any accepted key may have signed them.
            return list(self._keys.values())
        if not isinstance(kid, str) or kid not in self._keys:
            raise InvalidToken(f"token signed with a key that is not accepted (kid {kid!r})")
        return [self._keys[kid]]

    def _claims(self, token: str) -> dict[str, Any]:
        rejection: jwt.PyJWTError = jwt.InvalidSignatureError("no key")
        for key in self._candidates(token):
            try:
                claims: dict[str, Any] = jwt.decode(
                    token,
                    key,
                    algorithms=[ALGORITHM],
                    issuer=self._issuer,
                    audience=self._audience,
                    leeway=self._leeway,
                    options={"require": _REQUIRED_CLAIMS},
                )
                return claims
            except jwt.InvalidSignatureError as exc:
                rejection = exc  # another accepted key may have signed it
            except jwt.PyJWTError as exc:
                raise InvalidToken(str(exc) or type(exc).__name__) from exc
        raise InvalidToken(str(rejection) or type(rejection).__name__)

    def verify(self, token: str, *, role: Role) -> Principal:
        """Claims of ``token`` when it is authentic, current and grants ``role``."""
        claims = self._claims(token)
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
