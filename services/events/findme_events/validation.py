"""Every check on input the events service is given, in one place: each returns the
value as it is stored or raises ``Refusal`` with the field's reason. Event codes and
usernames have modules of their own (``codes``, ``usernames``): their rules are
normalisations as much as checks."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

from findme_common.refusals import Reason, Refusal

from findme_events.models import ANSWERS, ENCODING_DIMENSIONS

MAX_EMAIL_LENGTH = 254
MAX_EVENT_NAME_LENGTH = 200
# bcrypt/argon2 strings are < 128 characters; anything far longer is a caller bug.
MAX_PASSWORD_HASH_LENGTH = 512
# Distances between face_recognition encodings of one person are ~0-0.6; a
# tolerance outside this range matches nobody or everybody.
MIN_MATCH_TOLERANCE = 0.2
MAX_MATCH_TOLERANCE = 1.0
MAX_RETENTION_DAYS = 3650


def tolerance(value: float | None) -> float | None:
    if value is None:
        return None
    if not (math.isfinite(value) and MIN_MATCH_TOLERANCE <= value <= MAX_MATCH_TOLERANCE):
        raise Refusal(
            Reason.INVALID_MATCH_TOLERANCE,
            f"match_tolerance is between {MIN_MATCH_TOLERANCE} and {MAX_MATCH_TOLERANCE}",
        )
    return value


def retention_days(value: int | None) -> int | None:
    if value is None:
        return None
    if not 1 <= value <= MAX_RETENTION_DAYS:
        raise Refusal(Reason.INVALID_RETENTION_DAYS, f"retention_days is 1 to {MAX_RETENTION_DAYS}")
    return value


def day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Refusal(Reason.INVALID_DATES, "dates are YYYY-MM-DD") from None


def dates_out_of_order() -> Refusal:
    return Refusal(Reason.INVALID_DATES, "ends_on must not be before starts_on")


def date_range(starts_on: str | None, ends_on: str | None) -> tuple[date | None, date | None]:
    start, end = day(starts_on), day(ends_on)
    if start and end and end < start:
        raise dates_out_of_order()
    return start, end


def event_name(name: str) -> str:
    name = name.strip()
    # Control characters (NUL above all: PostgreSQL text cannot hold it) are refused.
    if not name or len(name) > MAX_EVENT_NAME_LENGTH or not name.isprintable():
        raise Refusal(
            Reason.INVALID_EVENT_NAME, f"an event name is 1 to {MAX_EVENT_NAME_LENGTH} characters"
        )
    return name


def normalize_email(email: str) -> str:
    return email.strip().lower()


def email(value: str) -> str:
    normalized = normalize_email(value)
    local, at, domain = normalized.rpartition("@")
    if (
        not at
        or not local
        or "." not in domain.strip(".")
        or len(normalized) > MAX_EMAIL_LENGTH
        or any(char.isspace() for char in normalized)
        or not normalized.isprintable()
    ):
        raise Refusal(Reason.INVALID_EMAIL, "a valid email address is required")
    return normalized


def password_hash(value: str) -> str:
    if not value or len(value) > MAX_PASSWORD_HASH_LENGTH:
        raise Refusal(Reason.INVALID_PASSWORD_HASH, "a password hash is required")
    return value


def encoding(values: Sequence[float]) -> list[float]:
    vector = [float(value) for value in values]
    if len(vector) != ENCODING_DIMENSIONS or not all(math.isfinite(v) for v in vector):
        raise Refusal(
            Reason.INVALID_ENCODING, f"a face encoding is {ENCODING_DIMENSIONS} finite numbers"
        )
    return vector


def selfie_jpeg(jpeg: bytes, *, max_bytes: int) -> bytes:
    if not jpeg:
        raise Refusal(Reason.INVALID_SELFIE, "the selfie JPEG is empty")
    if len(jpeg) > max_bytes:
        raise Refusal(Reason.TOO_LARGE, f"a stored selfie is at most {max_bytes} bytes")
    return jpeg


def photo_files(contents: Sequence[bytes], *, max_files: int, max_bytes: int) -> None:
    if not contents or len(contents) > max_files:
        raise Refusal(Reason.INVALID_PHOTO_COUNT, f"send 1 to {max_files} photos per call")
    for content in contents:
        if not content:
            raise Refusal(Reason.EMPTY_FILE, "a photo file is empty")
        if len(content) > max_bytes:
            raise Refusal(Reason.TOO_LARGE, f"a photo is at most {max_bytes} bytes")


def invite_validity(seconds: float, *, default: float) -> float:
    """Seconds an invite stays usable (0: the default); at most ten times the default."""
    if seconds < 0 or seconds > default * 10:
        raise Refusal(Reason.INVALID_VALIDITY, "an invite is valid for a positive time")
    return seconds or default


def answer(value: str) -> str:
    """An answer about a face: "me" or "not_me"."""
    if value not in ANSWERS:
        raise Refusal(Reason.INVALID_ANSWER, "the answer is 'me' or 'not_me'")
    return value


def page_size(limit: int, *, largest: int) -> int:
    """Items per page: ``limit`` (0: the largest) capped at ``largest``."""
    if limit < 0:
        raise Refusal(Reason.INVALID_LIMIT, "limit must be positive")
    return min(limit or largest, largest)
