"""Every refusal leaves the gateway as ``{"error": {"code", "message"}}``.

Backend refusals arrive as gRPC status codes with a snake_case reason in trailing
metadata; ``from_rpc_error`` is the single table that turns them into HTTP.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import grpc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from findme_common.grpc_errors import error_reason, retry_after
from starlette.exceptions import HTTPException

log = logging.getLogger(__name__)

# Seconds a client should wait when a backend is down or saturated and gave no hint.
DEFAULT_RETRY_AFTER = 1


class ApiError(HTTPException):
    """A refusal with a machine-readable code.

    Subclassing HTTPException lets it pass through FastAPI's body parsing untouched
    (the body-size guard raises it from inside ``receive``).
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(status_code=status, detail=message, headers=dict(headers or {}))
        self.code = code
        self.message = message
        self.extra = dict(extra or {})


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


def _retry_headers(seconds: int | None) -> dict[str, str]:
    return {"Retry-After": str(seconds or DEFAULT_RETRY_AFTER)}


# INVALID_ARGUMENT reasons that have their own HTTP status.
_INVALID_ARGUMENT_STATUS = {"unsupported_format": 415, "too_large": 413}

# status, default code, whether the backend's message may be shown to the client.
_CODE_TABLE: dict[grpc.StatusCode, tuple[int, str, bool]] = {
    grpc.StatusCode.INVALID_ARGUMENT: (422, "invalid_argument", True),
    grpc.StatusCode.OUT_OF_RANGE: (422, "out_of_range", True),
    grpc.StatusCode.ALREADY_EXISTS: (409, "already_exists", True),
    grpc.StatusCode.ABORTED: (409, "conflict", True),
    grpc.StatusCode.FAILED_PRECONDITION: (409, "failed_precondition", True),
    grpc.StatusCode.UNAUTHENTICATED: (401, "unauthenticated", True),
    grpc.StatusCode.PERMISSION_DENIED: (403, "forbidden", True),
    grpc.StatusCode.NOT_FOUND: (404, "not_found", True),
    grpc.StatusCode.UNAVAILABLE: (503, "service_unavailable", False),
    grpc.StatusCode.DEADLINE_EXCEEDED: (503, "timeout", False),
    grpc.StatusCode.CANCELLED: (503, "cancelled", False),
}

_HIDDEN_MESSAGES = {
    "service_unavailable": "A backend service is unavailable; try again shortly.",
    "timeout": "A backend service did not answer in time; try again shortly.",
    "cancelled": "The request was cancelled.",
    "overloaded": "The service is busy; try again shortly.",
    "upstream_error": "A backend service failed.",
}


def from_rpc_error(error: grpc.RpcError) -> ApiError:
    """The HTTP refusal for a failed backend call."""
    code = error.code() if callable(getattr(error, "code", None)) else grpc.StatusCode.UNKNOWN
    details = error.details() if callable(getattr(error, "details", None)) else None
    reason = error_reason(error)

    if code is grpc.StatusCode.RESOURCE_EXHAUSTED:
        headers = _retry_headers(retry_after(error))
        if reason == "too_many_attempts":
            return ApiError(429, reason, details or "Too many attempts.", headers=headers)
        reason = reason or "overloaded"
        return ApiError(503, reason, _HIDDEN_MESSAGES["overloaded"], headers=headers)

    if code not in _CODE_TABLE:
        # INTERNAL, UNKNOWN, UNIMPLEMENTED, DATA_LOSS: a backend bug, not the client's.
        return ApiError(502, "upstream_error", _HIDDEN_MESSAGES["upstream_error"])

    status, default_code, show_message = _CODE_TABLE[code]
    reason = reason or default_code
    if code is grpc.StatusCode.INVALID_ARGUMENT:
        status = _INVALID_ARGUMENT_STATUS.get(reason, status)
    if show_message:
        return ApiError(status, reason, details or reason.replace("_", " "))
    message = _HIDDEN_MESSAGES.get(default_code, "A backend service failed.")
    return ApiError(status, reason, message, headers=_retry_headers(retry_after(error)))


def _response(error: ApiError) -> JSONResponse:
    return JSONResponse(
        error_body(error.code, error.message, **error.extra),
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
        extra={"grpc_code": str(getattr(exc, "code", lambda: None)()), "reason": error.code},
    )
    return _response(error)


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = exc.errors()
    first = problems[0] if problems else {"loc": (), "msg": "invalid request"}
    field = _field_name(tuple(first.get("loc", ())))
    message = f"{field}: {first.get('msg', 'invalid')}" if field else str(first.get("msg"))
    return _response(ApiError(422, "invalid_request", message, extra={"field": field}))


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
}


async def _on_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    return _response(ApiError(exc.status_code, code, message, headers=exc.headers))


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Starlette re-raises after this response, so the server logs the traceback.
    return JSONResponse(error_body("internal_error", "Something went wrong."), status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _on_api_error)
    app.add_exception_handler(grpc.RpcError, _on_rpc_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(HTTPException, _on_http_exception)
    app.add_exception_handler(Exception, _on_unexpected)
