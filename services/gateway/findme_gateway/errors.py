"""Every refusal leaves the gateway as ``{"error": {"code", "message"}}``.

``code`` is always a ``Reason`` (findme_common.refusals), and ``HTTP_STATUS`` is the
one table that gives each reason its HTTP status: for the gateway's own refusals
(tokens, rate limits, uploads) and for backend refusals alike, which arrive as gRPC
errors carrying their reason (``from_rpc_error``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Final

import grpc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from findme_common.refusals import Reason, reason_of, retry_after_of, status_of
from starlette.exceptions import HTTPException

from findme_gateway.metrics import HTTP_REFUSALS

log = logging.getLogger(__name__)

# Seconds a client should wait when a backend is down or saturated and gave no hint.
DEFAULT_RETRY_AFTER = 1

_R = Reason
HTTP_STATUS: Final[dict[Reason, int]] = {
    **dict.fromkeys(
        (
            _R.INVALID_REQUEST,
            _R.INVALID_EVENT_CODE,
            _R.INVALID_USERNAME,
            _R.INVALID_EMAIL,
            _R.PASSWORD_TOO_SHORT,
            _R.PASSWORD_TOO_LONG,
            _R.PASSWORD_INVALID,
            _R.INVALID_PASSWORD_HASH,
            _R.INVALID_ROLE,
            _R.INVALID_SUBJECT,
            _R.INVALID_EVENT,
            _R.INVALID_EVENT_NAME,
            _R.INVALID_DATES,
            _R.INVALID_MATCH_TOLERANCE,
            _R.INVALID_RETENTION_DAYS,
            _R.INVALID_VALIDITY,
            _R.INVALID_CURSOR,
            _R.INVALID_LIMIT,
            _R.INVALID_ENCODING,
            _R.INVALID_SELFIE,
            _R.INVALID_PHOTO_COUNT,
            _R.INVALID_IMAGE_REQUEST,
            _R.EMPTY_FILE,
            _R.NOT_AN_IMAGE,
            _R.TOO_MANY_PIXELS,
            _R.NO_FACE,
            _R.MULTIPLE_FACES,
            _R.FACE_TOO_SMALL,
            _R.FACE_CUT_OFF,
            _R.INVALID_ANSWER,
        ),
        422,
    ),
    _R.TOO_LARGE: 413,
    _R.TOO_MANY_FILES: 413,
    _R.UNSUPPORTED_FORMAT: 415,
    _R.MISSING_TOKEN: 401,
    _R.INVALID_TOKEN: 401,
    _R.INVALID_CREDENTIALS: 401,
    _R.TOO_MANY_ATTEMPTS: 429,
    _R.RATE_LIMITED: 429,
    _R.SELFIE_IN_PROGRESS: 429,
    **dict.fromkeys(
        (
            _R.NOT_FOUND,
            _R.EVENT_NOT_FOUND,
            _R.ATTENDEE_NOT_FOUND,
            _R.ORGANIZER_NOT_FOUND,
            _R.PHOTO_NOT_FOUND,
            _R.INVITE_NOT_FOUND,
            _R.SUGGESTION_NOT_FOUND,
        ),
        404,
    ),
    _R.USERNAME_TAKEN: 409,
    _R.EMAIL_TAKEN: 409,
    _R.TOO_MANY_SELFIES: 409,
    _R.TOO_MANY_MISSED_PHOTOS: 409,
    _R.BAD_REQUEST: 400,
    _R.METHOD_NOT_ALLOWED: 405,
    _R.REQUEST_HEADER_TOO_LARGE: 431,
    # Starlette's other HTTP refusals keep their own status; 400 names the family.
    _R.HTTP_ERROR: 400,
    **dict.fromkeys(
        (
            _R.OVERLOADED,
            _R.SERVICE_UNAVAILABLE,
            _R.DATABASE_UNAVAILABLE,
            _R.WORKER_CRASHED,
            _R.TIMEOUT,
            _R.CANCELLED,
        ),
        503,
    ),
    _R.UPSTREAM_ERROR: 502,
    _R.INTERNAL_ERROR: 500,
}
# Why an event photo failed: stored on the photo and shown to its organizer, never
# the answer to a request.
NOT_HTTP: Final = frozenset({_R.ORIGINAL_MISSING, _R.PROCESSING_TIMED_OUT})

# What a client is told when the system, not the request, failed (the backend's own
# words stay in the logs).
_SYSTEM_MESSAGES: Final[dict[Reason, str]] = {
    _R.OVERLOADED: "The service is busy; try again shortly.",
    _R.TIMEOUT: "A backend service did not answer in time; try again shortly.",
    _R.CANCELLED: "The request was cancelled.",
    _R.UPSTREAM_ERROR: "A backend service failed.",
    _R.INTERNAL_ERROR: "Something went wrong.",
}
_UNAVAILABLE_MESSAGE = "A backend service is unavailable; try again shortly."


class ApiError(HTTPException):
    """A refusal with a machine-readable reason; its status comes from ``HTTP_STATUS``.

    Subclassing HTTPException lets it pass through FastAPI's body parsing untouched
    (the body-size guard raises it from inside ``receive``).
    """

    def __init__(
        self,
        reason: Reason,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(
            status_code=status or HTTP_STATUS[reason], detail=message, headers=dict(headers or {})
        )
        self.reason = reason
        self.message = message
        self.extra = dict(extra or {})

    @property
    def code(self) -> str:
        return self.reason.value


def error_body(reason: Reason, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": reason.value, "message": message, **extra}}


def from_rpc_error(error: grpc.RpcError) -> ApiError:
    """The HTTP refusal for a failed backend call."""
    reason = reason_of(error)
    status = HTTP_STATUS.get(reason, 502)
    if status not in (429, 503):
        if status >= 500:
            return ApiError(_R.UPSTREAM_ERROR, _SYSTEM_MESSAGES[_R.UPSTREAM_ERROR])
        details = error.details() if callable(getattr(error, "details", None)) else None
        return ApiError(reason, details or reason.value.replace("_", " "))
    headers = {"Retry-After": str(retry_after_of(error) or DEFAULT_RETRY_AFTER)}
    if status == 429:
        details = error.details() if callable(getattr(error, "details", None)) else None
        return ApiError(reason, details or "Too many attempts.", headers=headers)
    return ApiError(reason, _SYSTEM_MESSAGES.get(reason, _UNAVAILABLE_MESSAGE), headers=headers)


def _response(error: ApiError) -> JSONResponse:
    HTTP_REFUSALS.labels(str(error.status_code), error.code).inc()
    return JSONResponse(
        error_body(error.reason, error.message, **error.extra),
        status_code=error.status_code,
        headers=error.headers,
    )


def _field_name(location: tuple[Any, ...]) -> str:
    # ("body", "username") -> "username"; ("query", "cursor") -> "cursor".
    parts = [str(part) for part in location[1:]] or [str(part) for part in location]
    return ".".join(parts)


async def _on_api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return _response(exc)


async def _on_rpc_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, grpc.RpcError)
    error = from_rpc_error(exc)
    level = logging.WARNING if error.status_code >= 500 else logging.DEBUG
    log.log(
        level,
        "backend refused",
        extra={"grpc_code": status_of(exc).name, "reason": error.code},
    )
    return _response(error)


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = exc.errors()
    first = problems[0] if problems else {"loc": (), "msg": "invalid request"}
    field = _field_name(tuple(first.get("loc", ())))
    message = f"{field}: {first.get('msg', 'invalid')}" if field else str(first.get("msg"))
    return _response(ApiError(_R.INVALID_REQUEST, message, extra={"field": field}))


_HTTP_REASONS = {
    400: _R.BAD_REQUEST,
    404: _R.NOT_FOUND,
    405: _R.METHOD_NOT_ALLOWED,
    413: _R.TOO_LARGE,
}


async def _on_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    reason = _HTTP_REASONS.get(exc.status_code, _R.HTTP_ERROR)
    message = exc.detail if isinstance(exc.detail, str) else reason.value.replace("_", " ")
    return _response(ApiError(reason, message, headers=exc.headers, status=exc.status_code))


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Starlette re-raises after this response, so the server logs the traceback.
    return JSONResponse(
        error_body(_R.INTERNAL_ERROR, _SYSTEM_MESSAGES[_R.INTERNAL_ERROR]), status_code=500
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _on_api_error)
    app.add_exception_handler(grpc.RpcError, _on_rpc_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(HTTPException, _on_http_exception)
    app.add_exception_handler(Exception, _on_unexpected)
