from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from findme_gateway.tokens import InvalidToken, Role, TokenVerifier


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _forge(header: dict[str, object], payload: dict[str, object], key: bytes | None) -> str:
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    if key is None:
        return signing_input + "."
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def _claims(token: str) -> dict[str, object]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


@pytest.fixture(scope="module")
def public_key_pem(signing_key: Ed25519PrivateKey) -> str:
    from cryptography.hazmat.primitives import serialization

    return (
        signing_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.fixture(scope="module")
def verifier(public_key_pem: str) -> TokenVerifier:
    return TokenVerifier(public_key_pem, issuer="findme-auth", audience="findme")


def test_valid_attendee_token_gives_subject_and_event(verifier, make_token) -> None:
    principal = verifier.verify(make_token(subject=42, event=9), role=Role.ATTENDEE)

    assert (principal.subject_id, principal.role, principal.event_id) == (42, Role.ATTENDEE, 9)
    assert principal.token_id


def test_valid_organizer_token_has_no_event(verifier, make_token) -> None:
    principal = verifier.verify(make_token(role="organizer", subject=5), role=Role.ORGANIZER)

    assert (principal.subject_id, principal.event_id) == (5, None)


def test_alg_none_is_refused(verifier, make_token) -> None:
    forged = _forge({"alg": "none", "typ": "JWT"}, _claims(make_token()), key=None)

    with pytest.raises(InvalidToken):
        verifier.verify(forged, role=Role.ATTENDEE)


def test_hs256_signed_with_the_public_key_is_refused(verifier, make_token, public_key_pem) -> None:
    # The classic algorithm-confusion attack: the public key used as an HMAC secret.
    forged = _forge(
        {"alg": "HS256", "typ": "JWT"}, _claims(make_token()), key=public_key_pem.encode()
    )

    with pytest.raises(InvalidToken):
        verifier.verify(forged, role=Role.ATTENDEE)


def test_expired_token_is_refused(verifier, make_token) -> None:
    past = int(time.time()) - 3600
    token = make_token(iat=past - 900, exp=past)

    with pytest.raises(InvalidToken, match="expired"):
        verifier.verify(token, role=Role.ATTENDEE)


def test_leeway_tolerates_small_clock_skew(public_key_pem, make_token) -> None:
    lenient = TokenVerifier(public_key_pem, issuer="findme-auth", audience="findme", leeway=30)
    token = make_token(exp=int(time.time()) - 5)

    assert lenient.verify(token, role=Role.ATTENDEE).subject_id == 7


def test_tampered_payload_is_refused(verifier, make_token) -> None:
    header, _, signature = make_token(subject=7).split(".")
    claims = _claims(make_token(subject=7))
    claims["sub"] = "1"
    tampered = f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"

    with pytest.raises(InvalidToken):
        verifier.verify(tampered, role=Role.ATTENDEE)


def test_token_signed_by_another_key_is_refused(verifier) -> None:
    other = Ed25519PrivateKey.generate()
    now = int(time.time())
    token = jwt.encode(
        {
            "iss": "findme-auth",
            "aud": "findme",
            "sub": "7",
            "role": "attendee",
            "event": 3,
            "iat": now,
            "exp": now + 60,
        },
        other,
        algorithm="EdDSA",
    )

    with pytest.raises(InvalidToken):
        verifier.verify(token, role=Role.ATTENDEE)


@pytest.mark.parametrize(("claim", "value"), [("aud", "someone-else"), ("iss", "evil-auth")])
def test_wrong_audience_or_issuer_is_refused(verifier, make_token, claim, value) -> None:
    with pytest.raises(InvalidToken):
        verifier.verify(make_token(**{claim: value}), role=Role.ATTENDEE)


def test_wrong_role_for_the_route_is_refused(verifier, make_token) -> None:
    with pytest.raises(InvalidToken, match="role"):
        verifier.verify(make_token(role="attendee"), role=Role.ORGANIZER)
    with pytest.raises(InvalidToken, match="role"):
        verifier.verify(make_token(role="organizer"), role=Role.ATTENDEE)


@pytest.mark.parametrize("missing", ["exp", "iss", "aud", "sub", "role"])
def test_token_without_a_required_claim_is_refused(verifier, make_token, missing) -> None:
    with pytest.raises(InvalidToken):
        verifier.verify(make_token(**{missing: None}), role=Role.ATTENDEE)


def test_attendee_token_without_event_is_refused(verifier, make_token) -> None:
    with pytest.raises(InvalidToken, match="event"):
        verifier.verify(make_token(event=None), role=Role.ATTENDEE)


def test_non_numeric_subject_is_refused(verifier, make_token) -> None:
    with pytest.raises(InvalidToken, match="subject"):
        verifier.verify(make_token(sub="admin"), role=Role.ATTENDEE)


def test_garbage_is_refused(verifier) -> None:
    with pytest.raises(InvalidToken):
        verifier.verify("not-a-token", role=Role.ATTENDEE)


# --- several accepted keys, chosen by the token's key id -----------------------------


def _pem_and_kid(key: Ed25519PrivateKey) -> tuple[str, str]:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    from findme_common.token_keys import key_id

    public = key.public_key()
    return (
        public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode(),
        key_id(public.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)),
    )


def _signed(key: Ed25519PrivateKey, make_token, kid: str | None) -> str:
    claims = _claims(make_token(subject=11))
    headers = {"kid": kid} if kid is not None else None
    return jwt.encode(claims, key, algorithm="EdDSA", headers=headers)


def test_each_accepted_key_verifies_the_tokens_that_name_it(make_token) -> None:
    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    (old_pem, old_kid), (new_pem, new_kid) = _pem_and_kid(old), _pem_and_kid(new)
    both = TokenVerifier(new_pem + old_pem, issuer="findme-auth", audience="findme")

    assert both.key_ids == [new_kid, old_kid]
    for key, kid in ((old, old_kid), (new, new_kid)):
        assert both.verify(_signed(key, make_token, kid), role=Role.ATTENDEE).subject_id == 11


def test_a_retired_key_id_is_refused(make_token) -> None:
    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    (_, old_kid), (new_pem, _) = _pem_and_kid(old), _pem_and_kid(new)
    only_new = TokenVerifier(new_pem, issuer="findme-auth", audience="findme")

    with pytest.raises(InvalidToken, match="not accepted"):
        only_new.verify(_signed(old, make_token, old_kid), role=Role.ATTENDEE)


def test_a_key_id_that_names_another_key_does_not_help_a_forgery(make_token) -> None:
    # The kid only picks the key: the signature must still be that key's.
    real, forger = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    real_pem, real_kid = _pem_and_kid(real)
    verifier = TokenVerifier(real_pem, issuer="findme-auth", audience="findme")

    with pytest.raises(InvalidToken):
        verifier.verify(_signed(forger, make_token, real_kid), role=Role.ATTENDEE)


def test_tokens_without_a_key_id_are_checked_against_every_accepted_key(make_token) -> None:
    # Tokens issued before key ids existed stay valid until they expire.
    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    (old_pem, _), (new_pem, _) = _pem_and_kid(old), _pem_and_kid(new)
    both = TokenVerifier(new_pem + old_pem, issuer="findme-auth", audience="findme")

    assert both.verify(_signed(old, make_token, None), role=Role.ATTENDEE).subject_id == 11
    stranger = Ed25519PrivateKey.generate()
    with pytest.raises(InvalidToken):
        both.verify(_signed(stranger, make_token, None), role=Role.ATTENDEE)
