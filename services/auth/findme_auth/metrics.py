"""The auth service's own metrics (the shared ones, RPCs, the bcrypt pool and Redis,
come from findme_common). Throttle locks show as VerifyPassword refusals with
reason too_many_attempts (``findme_rpc_refusals_total``)."""

from __future__ import annotations

from typing import Final

from prometheus_client import Counter

PASSWORD_CHECKS: Final = Counter(
    "findme_auth_password_checks_total",
    "Passwords checked with bcrypt, by result (valid, invalid).",
    ["result"],
)
VALID: Final = PASSWORD_CHECKS.labels("valid")
INVALID: Final = PASSWORD_CHECKS.labels("invalid")
