"""Attendee usernames: one canonical key per name, so "Alice", "alice" and the
its full-width form are the same account."""

from __future__ import annotations

import unicodedata

from findme_common.refusals import Reason, Refusal

MIN_LENGTH = 3
MAX_LENGTH = 32
_PUNCTUATION = frozenset("._-")


def canonical(username: str) -> str:
    """NFKC + casefold, without validation (also used for throttling keys).

    NFKC is applied again after casefolding because casefold can leave a string
    that is no longer NFKC-normalised (Unicode's NFKC_Casefold does the same).
    """
    folded = unicodedata.normalize("NFKC", username.strip()).casefold()
    return unicodedata.normalize("NFKC", folded)


def _allowed(char: str, previous: str | None) -> bool:
    if char in _PUNCTUATION:
        return True
    category = unicodedata.category(char)
    if category.startswith("L") or category == "Nd":
        return True
    # Combining marks that survive NFKC (many scripts need them) may follow a letter.
    return category in ("Mn", "Mc") and previous is not None and previous not in _PUNCTUATION


def normalize(username: str) -> str:
    """The canonical key of ``username``; raises ``invalid_username`` when unusable."""
    key = canonical(username)
    if not MIN_LENGTH <= len(key) <= MAX_LENGTH:
        raise Refusal(
            Reason.INVALID_USERNAME,
            f"username must be {MIN_LENGTH} to {MAX_LENGTH} characters long",
        )
    previous: str | None = None
    for char in key:
        if not _allowed(char, previous):
            raise Refusal(
                Reason.INVALID_USERNAME,
                "username may contain only letters, digits, '.', '_' and '-'",
            )
        previous = char
    return key


def display_name(username: str) -> str:
    """The name as the attendee typed it, minus surrounding whitespace."""
    return username.strip()
