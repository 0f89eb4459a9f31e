from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.rsa import generate_private_key
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from findme_auth.config import AuthSettings
from findme_common.settings import load_settings
from pydantic import ValidationError


def test_defaults(make_settings: Callable[..., AuthSettings]) -> None:
    settings = make_settings(bcrypt_rounds=12, allow_weak_bcrypt_for_tests=False, port=50051)
    assert settings.port == 50051
    assert settings.bcrypt_rounds == 12
    assert settings.token_ttl_seconds == 12 * 3600
    assert settings.token_issuer == "findme-auth"
    assert settings.token_audience == "findme"
    assert settings.workers >= 1
    assert settings.queue_limit == 64
    assert settings.throttle_pair_free_attempts == 5
    assert settings.throttle_account_free_attempts == 10
    assert settings.throttle_address_free_attempts == 300
    assert settings.throttle_window_seconds == settings.throttle_max_lock_seconds == 900
    assert "PRIVATE KEY" not in repr(settings)


@pytest.mark.parametrize("rounds", [4, 9])
def test_refuses_weak_bcrypt_cost_outside_tests(
    make_settings: Callable[..., AuthSettings], rounds: int
) -> None:
    with pytest.raises(ValidationError, match="at least 10"):
        make_settings(bcrypt_rounds=rounds, allow_weak_bcrypt_for_tests=False)


def test_weak_cost_allowed_only_with_test_flag(make_settings: Callable[..., AuthSettings]) -> None:
    assert make_settings(bcrypt_rounds=4, allow_weak_bcrypt_for_tests=True).bcrypt_rounds == 4
    with pytest.raises(ValidationError, match="at least 4"):
        make_settings(bcrypt_rounds=3, allow_weak_bcrypt_for_tests=True)


def test_refuses_cost_above_16(make_settings: Callable[..., AuthSettings]) -> None:
    assert make_settings(bcrypt_rounds=16).bcrypt_rounds == 16
    with pytest.raises(ValidationError, match="at most 16"):
        make_settings(bcrypt_rounds=17)


def test_missing_private_key_is_a_clear_startup_error(
    make_settings: Callable[..., AuthSettings], capsys: pytest.CaptureFixture[str]
) -> None:
    # make_settings has cleared every FINDME_AUTH_ variable from the environment.
    with pytest.raises(SystemExit) as exit_info:
        load_settings(AuthSettings)
    assert exit_info.value.code == 2
    assert "FINDME_AUTH_TOKEN_PRIVATE_KEY" in capsys.readouterr().err


def test_reads_environment_with_prefix(
    make_settings: Callable[..., AuthSettings],
    key_pair: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    private_pem = key_pair.private_pem
    # One-line form, as many secret stores hold it.
    monkeypatch.setenv("FINDME_AUTH_TOKEN_PRIVATE_KEY", private_pem.replace("\n", "\\n"))
    monkeypatch.setenv("FINDME_AUTH_BCRYPT_ROUNDS", "13")
    monkeypatch.setenv("FINDME_AUTH_WORKERS", "3")
    settings = load_settings(AuthSettings)
    assert settings.bcrypt_rounds == 13
    assert settings.workers == 3
    assert settings.token_private_key.get_secret_value().strip() == private_pem.strip()


def test_refuses_non_ed25519_key(make_settings: Callable[..., AuthSettings]) -> None:
    rsa_pem = (
        generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        .decode()
    )
    with pytest.raises(ValidationError, match="Ed25519"):
        make_settings(token_private_key=rsa_pem)
    with pytest.raises(ValidationError, match="PEM"):
        make_settings(token_private_key="not a key")
