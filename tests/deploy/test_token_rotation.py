"""Rotating the token key as deploy/README.md says, with auth's issuer and the gateway's
verifier: nobody is logged out at any step, and the old key stops working at the end."""

from __future__ import annotations

import pytest
from findme_auth.tokens import TokenIssuer
from findme_common.key_rotation import rotate
from findme_gateway.tokens import InvalidToken, Role, TokenVerifier


def issuer(private_pem: str) -> TokenIssuer:
    return TokenIssuer(private_pem, issuer="findme-auth", audience="findme", ttl_seconds=600)


def verifier(public_pems: str) -> TokenVerifier:
    return TokenVerifier(public_pems, issuer="findme-auth", audience="findme")


def test_a_rotation_logs_nobody_out() -> None:
    current = rotate()  # the key in use before the rotation
    old_token = issuer(current.private_key_pem).issue(role="organizer", subject_id=1).access_token

    rotation = rotate(current.public_keys_pem)
    # 1. The gateway learns the new key first: old tokens still pass.
    gateway = verifier(rotation.public_keys_pem)
    assert gateway.verify(old_token, role=Role.ORGANIZER).subject_id == 1
    # 2. auth signs with the new key: new tokens pass too.
    new_token = issuer(rotation.private_key_pem).issue(role="organizer", subject_id=2).access_token
    assert gateway.verify(new_token, role=Role.ORGANIZER).subject_id == 2
    # 3. After the longest token lifetime, only the new key is accepted.
    final = verifier(rotation.final_public_key_pem)
    assert final.verify(new_token, role=Role.ORGANIZER).subject_id == 2
    with pytest.raises(InvalidToken, match="not accepted"):
        final.verify(old_token, role=Role.ORGANIZER)


def test_the_wrong_order_is_visible_at_once() -> None:
    # auth deployed before the gateway: its new tokens name a key the gateway does not
    # know yet, and are refused (so deploy the gateway first).
    current = rotate()
    rotation = rotate(current.public_keys_pem)
    token = issuer(rotation.private_key_pem).issue(role="organizer", subject_id=3).access_token
    with pytest.raises(InvalidToken, match="not accepted"):
        verifier(current.public_keys_pem).verify(token, role=Role.ORGANIZER)
