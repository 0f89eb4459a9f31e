from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from findme_auth.tokens import TokenIssuer, verify_token
from findme_common.refusals import Refusal

TTL = 3600


@pytest.fixture
def issuer(key_pair: Any) -> TokenIssuer:
    return TokenIssuer(
        key_pair.private_pem, issuer="findme-auth", audience="findme", ttl_seconds=TTL
    )


def verify(token: str, public_pem: str, **overrides: Any) -> dict[str, Any]:
    options = {"issuer": "findme-auth", "audience": "findme", **overrides}
    return verify_token(token, public_pem, **options)


def b64(data: dict[str, Any] | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def parts(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    header, payload, signature = token.split(".")
    decode = lambda s: json.loads(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))  # noqa: E731
    return decode(header), decode(payload), signature


def test_attendee_claims(issuer: TokenIssuer, key_pair: Any) -> None:
    before = int(time.time())
    issued = issuer.issue(role="attendee", subject_id=42, event_id=7)
    assert issued.token_type == "bearer"
    assert issued.expires_in == TTL
    header, _, _ = parts(issued.access_token)
    assert header["alg"] == "EdDSA"
    claims = verify(issued.access_token, key_pair.public_pem)
    assert claims["iss"] == "findme-auth"
    assert claims["aud"] == "findme"
    assert claims["sub"] == "42"
    assert claims["role"] == "attendee"
    assert claims["event"] == 7
    assert before <= claims["iat"] <= int(time.time())
    assert claims["exp"] == claims["iat"] + TTL
    other = verify(
        issuer.issue(role="attendee", subject_id=42, event_id=7).access_token, key_pair.public_pem
    )
    assert other["jti"] != claims["jti"]


def test_organizer_claims_have_no_event(issuer: TokenIssuer) -> None:
    token = issuer.issue(role="organizer", subject_id=3).access_token
    claims = verify(token, issuer.public_key_pem)
    assert claims["role"] == "organizer"
    assert claims["sub"] == "3"
    assert "event" not in claims


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"role": "admin", "subject_id": 1, "event_id": 1}, "invalid_role"),
        ({"role": "organizer", "subject_id": 0}, "invalid_subject"),
        ({"role": "attendee", "subject_id": 1, "event_id": 0}, "invalid_event"),
    ],
)
def test_issue_refuses_bad_requests(
    issuer: TokenIssuer, kwargs: dict[str, Any], reason: str
) -> None:
    with pytest.raises(Refusal) as refused:
        issuer.issue(**kwargs)
    assert refused.value.reason == reason


def test_refuses_alg_none(issuer: TokenIssuer) -> None:
    _, payload, _ = parts(issuer.issue(role="organizer", subject_id=1).access_token)
    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(payload)}."
    with pytest.raises(jwt.InvalidTokenError):
        verify(unsigned, issuer.public_key_pem)


def test_refuses_hmac_signed_with_the_public_key(issuer: TokenIssuer) -> None:
    # The classic algorithm-confusion forgery: HS256 keyed with the public PEM.
    _, payload, _ = parts(issuer.issue(role="organizer", subject_id=1).access_token)
    signing_input = f"{b64({'alg': 'HS256', 'typ': 'JWT'})}.{b64(payload)}"
    mac = hmac.new(issuer.public_key_pem.encode(), signing_input.encode(), hashlib.sha256)
    forged = f"{signing_input}.{b64(mac.digest())}"
    with pytest.raises(jwt.InvalidTokenError):
        verify(forged, issuer.public_key_pem)


def test_refuses_expired(issuer: TokenIssuer) -> None:
    token = issuer.issue(role="organizer", subject_id=1, now=time.time() - TTL - 5).access_token
    with pytest.raises(jwt.ExpiredSignatureError):
        verify(token, issuer.public_key_pem)


def test_refuses_tampered_signature(issuer: TokenIssuer) -> None:
    token = issuer.issue(role="attendee", subject_id=1, event_id=2).access_token
    head, payload, signature = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[0] ^= 0x01
    with pytest.raises(jwt.InvalidSignatureError):
        verify(f"{head}.{payload}.{b64(bytes(raw))}", issuer.public_key_pem)


def test_refuses_tampered_claims(issuer: TokenIssuer) -> None:
    token = issuer.issue(role="attendee", subject_id=1, event_id=2).access_token
    head, _, signature = token.split(".")
    _, claims, _ = parts(token)
    claims["role"] = "organizer"
    with pytest.raises(jwt.InvalidSignatureError):
        verify(f"{head}.{b64(claims)}.{signature}", issuer.public_key_pem)


def test_refuses_wrong_audience_and_issuer(issuer: TokenIssuer) -> None:
    token = issuer.issue(role="organizer", subject_id=1).access_token
    with pytest.raises(jwt.InvalidAudienceError):
        verify(token, issuer.public_key_pem, audience="someone-else")
    with pytest.raises(jwt.InvalidIssuerError):
        verify(token, issuer.public_key_pem, issuer="not-findme-auth")


def test_refuses_token_from_another_key(issuer: TokenIssuer) -> None:
    other_pem = (
        Ed25519PrivateKey.generate()
        .private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        .decode()
    )
    other = TokenIssuer(other_pem, issuer="findme-auth", audience="findme", ttl_seconds=TTL)
    token = other.issue(role="organizer", subject_id=1).access_token
    with pytest.raises(jwt.InvalidSignatureError):
        verify(token, issuer.public_key_pem)


def test_tokens_name_their_key(issuer: TokenIssuer, key_pair: Any) -> None:
    from cryptography.hazmat.primitives.serialization import (
        Encoding as Enc,
    )
    from cryptography.hazmat.primitives.serialization import (
        PublicFormat,
        load_pem_public_key,
    )
    from findme_common.token_keys import key_id

    header, _, _ = parts(issuer.issue(role="organizer", subject_id=3).access_token)
    public = load_pem_public_key(key_pair.public_pem.encode())
    expected = key_id(public.public_bytes(Enc.DER, PublicFormat.SubjectPublicKeyInfo))

    assert header["kid"] == issuer.key_id == expected
    assert header["alg"] == "EdDSA"
