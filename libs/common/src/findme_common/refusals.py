"""Every refusal reason of findme, and the one exception services raise for them.

A reason is the machine-readable ``code`` a client sees in
``{"error": {"code": ..., "message": ...}}``. Services raise ``Refusal(reason, message)``;
the shared server interceptor (``findme_common.grpc_server``) turns it into the
reason's gRPC status with the reason (and any retry-after) in trailing metadata; the
gateway reads it back with ``reason_of`` and answers with the HTTP status its one
table gives the reason. The pages' messages are keyed by the same values, and a test
fails when the gateway's table, the pages or the README miss one.
"""

from __future__ import annotations

import enum
from typing import Final

import grpc

REASON_KEY: Final = "findme-error"
RETRY_AFTER_KEY: Final = "retry-after"


class Reason(enum.StrEnum):
    # -- input: the request itself is wrong --------------------------------------------
    INVALID_REQUEST = "invalid_request"
    INVALID_EVENT_CODE = "invalid_event_code"
    INVALID_USERNAME = "invalid_username"
    INVALID_EMAIL = "invalid_email"
    PASSWORD_TOO_SHORT = "password_too_short"
    PASSWORD_TOO_LONG = "password_too_long"
    PASSWORD_INVALID = "password_invalid"
    INVALID_PASSWORD_HASH = "invalid_password_hash"
    INVALID_ROLE = "invalid_role"
    INVALID_SUBJECT = "invalid_subject"
    INVALID_EVENT = "invalid_event"
    INVALID_EVENT_NAME = "invalid_event_name"
    INVALID_DATES = "invalid_dates"
    INVALID_MATCH_TOLERANCE = "invalid_match_tolerance"
    INVALID_RETENTION_DAYS = "invalid_retention_days"
    INVALID_VALIDITY = "invalid_validity"
    INVALID_CURSOR = "invalid_cursor"
    INVALID_LIMIT = "invalid_limit"
    INVALID_ENCODING = "invalid_encoding"
    INVALID_SELFIE = "invalid_selfie"
    INVALID_PHOTO_COUNT = "invalid_photo_count"
    INVALID_IMAGE_REQUEST = "invalid_image_request"
    EMPTY_FILE = "empty_file"
    TOO_LARGE = "too_large"
    TOO_MANY_FILES = "too_many_files"
    INVALID_ANSWER = "invalid_answer"
    # -- images: the file is not one the service will process --------------------------
    NOT_AN_IMAGE = "not_an_image"
    UNSUPPORTED_FORMAT = "unsupported_format"
    TOO_MANY_PIXELS = "too_many_pixels"
    NO_FACE = "no_face"
    MULTIPLE_FACES = "multiple_faces"
    FACE_TOO_SMALL = "face_too_small"
    FACE_CUT_OFF = "face_cut_off"
    # -- who is asking ------------------------------------------------------------------
    MISSING_TOKEN = "missing_token"
    INVALID_TOKEN = "invalid_token"
    INVALID_CREDENTIALS = "invalid_credentials"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    RATE_LIMITED = "rate_limited"
    # One account's selfies already take their share of the image workers.
    SELFIE_IN_PROGRESS = "selfie_in_progress"
    # -- what does not exist (or is not the caller's to see) ----------------------------
    NOT_FOUND = "not_found"
    EVENT_NOT_FOUND = "event_not_found"
    ATTENDEE_NOT_FOUND = "attendee_not_found"
    ORGANIZER_NOT_FOUND = "organizer_not_found"
    PHOTO_NOT_FOUND = "photo_not_found"
    INVITE_NOT_FOUND = "invite_not_found"
    SUGGESTION_NOT_FOUND = "suggestion_not_found"
    # -- conflicts ------------------------------------------------------------------------
    USERNAME_TAKEN = "username_taken"
    EMAIL_TAKEN = "email_taken"
    TOO_MANY_SELFIES = "too_many_selfies"
    TOO_MANY_MISSED_PHOTOS = "too_many_missed_photos"
    # -- HTTP framing the gateway refuses before any service sees it ----------------------
    BAD_REQUEST = "bad_request"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    REQUEST_HEADER_TOO_LARGE = "request_header_too_large"
    HTTP_ERROR = "http_error"
    # -- the system, not the caller --------------------------------------------------------
    OVERLOADED = "overloaded"
    SERVICE_UNAVAILABLE = "service_unavailable"
    DATABASE_UNAVAILABLE = "database_unavailable"
    WORKER_CRASHED = "worker_crashed"
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"
    UPSTREAM_ERROR = "upstream_error"
    INTERNAL_ERROR = "internal_error"
    # -- why an event photo failed (stored on the photo, shown to its organizer) ----------
    ORIGINAL_MISSING = "original_missing"
    PROCESSING_TIMED_OUT = "processing_timed_out"


_S = grpc.StatusCode
# The gRPC status of each reason a service raises. Reasons missing here are decided
# by the gateway itself (tokens, rate limits, HTTP framing) or stored on photos.
GRPC_STATUS: Final[dict[Reason, grpc.StatusCode]] = {
    **{
        reason: _S.INVALID_ARGUMENT
        for reason in (
            Reason.INVALID_EVENT_CODE,
            Reason.INVALID_USERNAME,
            Reason.INVALID_EMAIL,
            Reason.PASSWORD_TOO_SHORT,
            Reason.PASSWORD_TOO_LONG,
            Reason.PASSWORD_INVALID,
            Reason.INVALID_PASSWORD_HASH,
            Reason.INVALID_ROLE,
            Reason.INVALID_SUBJECT,
            Reason.INVALID_EVENT,
            Reason.INVALID_EVENT_NAME,
            Reason.INVALID_DATES,
            Reason.INVALID_MATCH_TOLERANCE,
            Reason.INVALID_RETENTION_DAYS,
            Reason.INVALID_VALIDITY,
            Reason.INVALID_CURSOR,
            Reason.INVALID_LIMIT,
            Reason.INVALID_ENCODING,
            Reason.INVALID_SELFIE,
            Reason.INVALID_PHOTO_COUNT,
            Reason.INVALID_IMAGE_REQUEST,
            Reason.EMPTY_FILE,
            Reason.TOO_LARGE,
            Reason.NOT_AN_IMAGE,
            Reason.UNSUPPORTED_FORMAT,
            Reason.TOO_MANY_PIXELS,
            Reason.NO_FACE,
            Reason.MULTIPLE_FACES,
            Reason.FACE_TOO_SMALL,
            Reason.FACE_CUT_OFF,
            Reason.INVALID_ANSWER,
        )
    },
    **{
        reason: _S.NOT_FOUND
        for reason in (
            Reason.EVENT_NOT_FOUND,
            Reason.ATTENDEE_NOT_FOUND,
            Reason.ORGANIZER_NOT_FOUND,
            Reason.PHOTO_NOT_FOUND,
            Reason.INVITE_NOT_FOUND,
            Reason.SUGGESTION_NOT_FOUND,
        )
    },
    Reason.USERNAME_TAKEN: _S.ALREADY_EXISTS,
    Reason.EMAIL_TAKEN: _S.ALREADY_EXISTS,
    Reason.TOO_MANY_SELFIES: _S.FAILED_PRECONDITION,
    Reason.TOO_MANY_MISSED_PHOTOS: _S.FAILED_PRECONDITION,
    Reason.TOO_MANY_ATTEMPTS: _S.RESOURCE_EXHAUSTED,
    Reason.OVERLOADED: _S.RESOURCE_EXHAUSTED,
    Reason.DATABASE_UNAVAILABLE: _S.UNAVAILABLE,
    # The input is not known to be at fault (the kernel may have killed the worker
    # for memory), so the caller may retry.
    Reason.WORKER_CRASHED: _S.UNAVAILABLE,
}

# What a failed call without a reason of ours means (the channel or the server's
# runtime decided, not our code).
_STATUS_REASON: Final[dict[grpc.StatusCode, Reason]] = {
    _S.INVALID_ARGUMENT: Reason.INVALID_REQUEST,
    _S.OUT_OF_RANGE: Reason.INVALID_REQUEST,
    _S.NOT_FOUND: Reason.NOT_FOUND,
    _S.UNAVAILABLE: Reason.SERVICE_UNAVAILABLE,
    _S.DEADLINE_EXCEEDED: Reason.TIMEOUT,
    _S.CANCELLED: Reason.CANCELLED,
    _S.RESOURCE_EXHAUSTED: Reason.OVERLOADED,
}


class Refusal(Exception):
    """A request the service will not carry out, for ``reason``.

    Positional arguments only, so the exception pickles back from a worker process.
    """

    def __init__(self, reason: Reason, message: str, retry_after: float | None = None) -> None:
        if reason not in GRPC_STATUS:
            raise ValueError(f"{reason!r} is not a reason a service raises")
        super().__init__(reason, message, retry_after)
        self.reason = reason
        self.message = message
        self.retry_after = retry_after

    @property
    def status(self) -> grpc.StatusCode:
        return GRPC_STATUS[self.reason]

    def trailing_metadata(self) -> tuple[tuple[str, str], ...]:
        metadata = [(REASON_KEY, self.reason.value)]
        if self.retry_after is not None:
            metadata.append((RETRY_AFTER_KEY, str(max(1, round(self.retry_after)))))
        return tuple(metadata)

    def __str__(self) -> str:
        return f"{self.reason}: {self.message}"


def _trailing(error: grpc.RpcError) -> dict[str, str]:
    trailing = getattr(error, "trailing_metadata", None)
    items = trailing() if callable(trailing) else None
    return {key: value for key, value in (items or ()) if isinstance(value, str)}


def status_of(error: grpc.RpcError) -> grpc.StatusCode:
    code = getattr(error, "code", None)
    status = code() if callable(code) else None
    return status if isinstance(status, grpc.StatusCode) else grpc.StatusCode.UNKNOWN


def reason_of(error: grpc.RpcError) -> Reason:
    """Why a call failed: the reason the service attached, else what its status means
    (an unexpected status is the backend's fault: ``upstream_error``)."""
    attached = _trailing(error).get(REASON_KEY, "")
    try:
        return Reason(attached)
    except ValueError:
        return _STATUS_REASON.get(status_of(error), Reason.UPSTREAM_ERROR)


def retry_after_of(error: grpc.RpcError) -> int | None:
    value = _trailing(error).get(RETRY_AFTER_KEY)
    return int(value) if value and value.isdigit() else None
