from __future__ import annotations

import pytest
from findme_auth.passwords import PasswordHasher, check_new_password
from findme_common.refusals import Refusal


@pytest.fixture(scope="module")
def hasher() -> PasswordHasher:
    return PasswordHasher(rounds=4)


def test_hash_and_verify(hasher: PasswordHasher) -> None:
    stored = hasher.hash("correct horse")
    assert stored.startswith("$2b$04$")
    assert hasher.verify("correct horse", stored).valid
    assert not hasher.verify("correct horsE", stored).valid
    # Salted: the same password never hashes the same twice.
    assert hasher.hash("correct horse") != stored


def test_72_byte_rule_counts_utf8_bytes() -> None:
    check_new_password("é" * 36)  # 72 bytes, 36 characters
    with pytest.raises(Refusal) as refused:
        check_new_password("é" * 36 + "a")  # 73 bytes
    assert refused.value.reason == "password_too_long"
    with pytest.raises(Refusal) as refused:
        check_new_password("a" * 73)
    assert refused.value.reason == "password_too_long"


def test_short_and_nul_passwords_refused(hasher: PasswordHasher) -> None:
    check_new_password("8 chars!")
    with pytest.raises(Refusal) as refused:
        hasher.hash("7 chars")
    assert refused.value.reason == "password_too_short"
    with pytest.raises(Refusal) as refused:
        hasher.hash("nul\x00inside")
    assert refused.value.reason == "password_invalid"


def test_long_password_never_matches_its_72_byte_prefix(hasher: PasswordHasher) -> None:
    stored = hasher.hash("p" * 72)
    assert hasher.verify("p" * 72, stored).valid
    # bcrypt would only read 72 bytes; the longer password must still be refused.
    assert not hasher.verify("p" * 73, stored).valid


def test_unknown_user_checks_a_dummy_hash_at_the_same_cost(hasher: PasswordHasher) -> None:
    assert hasher._dummy_hash.startswith("$2b$04$")
    assert PasswordHasher(rounds=5)._dummy_hash.startswith("$2b$05$")
    for password in ("", "anything at all", "x" * 100, "nul\x00"):
        assert not hasher.verify(password, "").valid


def test_malformed_stored_hash_is_refused(hasher: PasswordHasher) -> None:
    with pytest.raises(Refusal) as refused:
        hasher.verify("correct horse", "not-a-bcrypt-hash")
    assert refused.value.reason == "invalid_password_hash"


def test_hash_below_policy_is_rehashed_at_cost_12() -> None:
    old = PasswordHasher(rounds=10).hash("correct horse")
    current = PasswordHasher(rounds=12)
    result = current.verify("correct horse", old)
    assert result.valid
    assert result.new_hash is not None
    assert result.new_hash.startswith("$2b$12$")
    assert current.verify("correct horse", result.new_hash) == (
        type(result)(valid=True, new_hash=None)
    )
    # A wrong password never yields a new hash.
    assert current.verify("wrong horse", old).new_hash is None


def test_hash_above_policy_is_kept() -> None:
    stronger = PasswordHasher(rounds=6).hash("correct horse")
    result = PasswordHasher(rounds=5).verify("correct horse", stronger)
    assert result.valid
    assert result.new_hash is None
