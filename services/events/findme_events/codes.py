"""Event codes: 8 characters people can read aloud and type without confusing
0/O or 1/I/L. 31 symbols ** 8 is about 8.5e11 codes, so collisions are rare and a
retry on the unique index settles them."""

from __future__ import annotations

import re
import secrets

from findme_common.refusals import Reason, Refusal

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 8
_SEPARATORS = re.compile(r"[\s\-]+")
_ALLOWED = frozenset(ALPHABET)


def generate() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalize(code: str) -> str:
    """Canonical form of a code as typed ("abcd-efgh " -> "ABCDEFGH")."""
    compact = _SEPARATORS.sub("", code).upper()
    if len(compact) != LENGTH or not _ALLOWED.issuperset(compact):
        raise Refusal(
            Reason.INVALID_EVENT_CODE,
            f"an event code is {LENGTH} characters from {ALPHABET}",
        )
    return compact


def try_normalize(code: str) -> str | None:
    """``normalize`` that answers None instead of raising (login must not reveal why)."""
    try:
        return normalize(code)
    except Refusal:
        return None
