"""Token key PEM bundles and key ids."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from findme_common.token_keys import key_id, split_pem_bundle


def _public() -> tuple[str, bytes]:
    key = Ed25519PrivateKey.generate().public_key()
    pem = key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    return pem, key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def test_a_bundle_splits_into_its_keys_in_order() -> None:
    (first, _), (second, _) = _public(), _public()
    assert split_pem_bundle(first + second) == [first, second]
    assert split_pem_bundle(first) == [first]


def test_one_line_values_with_literal_newlines_are_read() -> None:
    (first, _), (second, _) = _public(), _public()
    one_line = (first + second).strip().replace("\n", "\\n")
    assert split_pem_bundle(one_line) == [first, second]


def test_no_pem_block_is_an_empty_bundle() -> None:
    assert split_pem_bundle("") == []
    assert split_pem_bundle("not a key") == []


def test_key_ids_are_short_stable_and_distinct() -> None:
    (_, der_a), (_, der_b) = _public(), _public()
    assert key_id(der_a) == key_id(der_a)
    assert key_id(der_a) != key_id(der_b)
    assert len(key_id(der_a)) == 16 and "=" not in key_id(der_a)
