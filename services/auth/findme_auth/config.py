"""The auth service's one Settings class (env prefix FINDME_AUTH_)."""

from __future__ import annotations

from typing import Self

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from findme_common.settings import RedisServiceSettings, usable_cpus
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

# OWASP's floor for bcrypt; production runs at 12 and is never lowered to pass a load test.
MIN_PRODUCTION_ROUNDS = 10
# Cost 17 is ~27 s per hash on the reference machine: certainly a typo.
MAX_ROUNDS = 16
BCRYPT_MIN_ROUNDS = 4


class AuthSettings(RedisServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FINDME_AUTH_", extra="ignore", frozen=True)

    port: int = 50051
    # Prometheus metrics: GET /metrics on this port (internal only).
    metrics_port: int = Field(default=9101, ge=0)
    # Ed25519 private key, PEM. Escaped newlines ("\n") are accepted for one-line env vars.
    token_private_key: SecretStr
    token_ttl_seconds: int = Field(default=12 * 3600, gt=0)
    token_issuer: str = "findme-auth"
    token_audience: str = "findme"

    bcrypt_rounds: int = 12
    allow_weak_bcrypt_for_tests: bool = False

    # bcrypt threads (pyca/bcrypt releases the GIL, so one per core uses every core).
    workers: int = Field(default_factory=usable_cpus, ge=1)
    # Hashes allowed to wait for a worker; beyond that, callers get `overloaded` at once.
    queue_limit: int = Field(default=64, ge=0)

    # Login throttling (throttle.py): failures counted per (account, address), per
    # account and per address, each draining at its allowance per window.
    # Failures of one account from one address before that address is locked out of
    # it (2, 4, 8 ... s, up to max_lock_seconds).
    throttle_pair_free_attempts: int = Field(default=5, ge=1)
    # Failures of one account from every address before the addresses that have been
    # failing for it wait; an address that has not been failing may still log in.
    throttle_account_free_attempts: int = Field(default=10, ge=1)
    # Failures from one address across accounts. High on purpose: a whole venue often
    # shares one NAT address, and its typos must not shut out every attendee.
    throttle_address_free_attempts: int = Field(default=300, ge=1)
    # Every counter drains its allowance over this many seconds.
    throttle_window_seconds: int = Field(default=15 * 60, gt=0)
    throttle_max_lock_seconds: int = Field(default=15 * 60, gt=0)

    @field_validator("token_private_key")
    @classmethod
    def _ed25519_pem(cls, value: SecretStr) -> SecretStr:
        pem = value.get_secret_value().strip().replace("\\n", "\n")
        try:
            key = load_pem_private_key(pem.encode(), password=None)
        except (ValueError, TypeError) as exc:
            # The message never echoes the key itself.
            raise ValueError("not a readable unencrypted PEM private key") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("must be an Ed25519 private key (tokens are signed with EdDSA)")
        return SecretStr(pem + "\n")

    @model_validator(mode="after")
    def _bcrypt_policy(self) -> Self:
        if self.bcrypt_rounds > MAX_ROUNDS:
            raise ValueError(f"bcrypt_rounds must be at most {MAX_ROUNDS}")
        floor = BCRYPT_MIN_ROUNDS if self.allow_weak_bcrypt_for_tests else MIN_PRODUCTION_ROUNDS
        if self.bcrypt_rounds < floor:
            raise ValueError(
                f"bcrypt_rounds must be at least {floor}"
                + ("" if self.allow_weak_bcrypt_for_tests else " (weaker costs are for tests only)")
            )
        return self
