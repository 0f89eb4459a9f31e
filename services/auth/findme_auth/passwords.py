"""bcrypt hashing through passlib's API (the maintained `libpass` fork).

Every function here is blocking CPU work; callers run it on the bcrypt pool.

Length policy: bcrypt only reads the first 72 bytes of a password. Silently
truncating would make two different long passwords equal, and pre-hashing (e.g.
SHA-256 then bcrypt) would make our hashes incompatible with every standard bcrypt
verifier. So new passwords longer than 72 bytes of UTF-8 are refused with
``password_too_long``; 72 bytes is still at least 18 characters of any script.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from findme_common.refusals import Reason, Refusal
from passlib.context import CryptContext
from passlib.exc import PasswordValueError, UnknownHashError

MAX_PASSWORD_BYTES = 72
MIN_PASSWORD_CHARS = 8


@dataclass(frozen=True)
class Verification:
    valid: bool
    # A fresh hash at the current cost when the stored one is below policy (valid only).
    new_hash: str | None = None


def check_new_password(password: str) -> None:
    """Refuse passwords the policy does not accept (cheap; runs before any bcrypt work)."""
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise Refusal(
            Reason.PASSWORD_TOO_LONG,
            f"password must be at most {MAX_PASSWORD_BYTES} bytes of UTF-8",
        )
    if len(password) < MIN_PASSWORD_CHARS:
        raise Refusal(
            Reason.PASSWORD_TOO_SHORT, f"password must be at least {MIN_PASSWORD_CHARS} characters"
        )
    if "\x00" in password:
        raise Refusal(Reason.PASSWORD_INVALID, "password must not contain NUL characters")


class PasswordHasher:
    """Hashes at ``rounds`` and flags stored hashes below it for rehashing."""

    def __init__(self, rounds: int) -> None:
        self.rounds = rounds
        # min_rounds makes needs_update() true only for hashes *below* policy.
        self._context = CryptContext(
            schemes=["bcrypt"], bcrypt__default_rounds=rounds, bcrypt__min_rounds=rounds
        )
        # Verified instead of a real hash when the account does not exist, so that
        # "no such user" costs the same bcrypt time as "wrong password".
        self._dummy_hash = self._context.hash(secrets.token_urlsafe(24))

    def hash(self, password: str) -> str:
        check_new_password(password)
        return str(self._context.hash(password))

    def verify(self, password: str, stored_hash: str) -> Verification:
        if not stored_hash:
            self._spend_dummy_time(password)
            return Verification(valid=False)
        try:
            valid, new_hash = self._context.verify_and_update(password, stored_hash)
        except UnknownHashError as exc:
            raise Refusal(
                Reason.INVALID_PASSWORD_HASH, "stored password hash is not a bcrypt hash"
            ) from exc
        except (PasswordValueError, ValueError):
            # NUL bytes or > 72 bytes: no stored hash can match such a password, but
            # the answer must not come back faster than a real check.
            self._spend_dummy_time(password)
            return Verification(valid=False)
        return Verification(valid=bool(valid), new_hash=new_hash if valid else None)

    def _spend_dummy_time(self, password: str) -> None:
        usable = password.encode("utf-8")[:MAX_PASSWORD_BYTES].replace(b"\x00", b"")
        self._context.verify(usable, self._dummy_hash)
