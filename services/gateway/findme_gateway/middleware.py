"""ASGI middleware: request ids, access log, body-size limit.

Written as plain ASGI (not BaseHTTPMiddleware) so uploads stream through without
an extra task per request.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from findme_common import tracing
from findme_common.logging import REQUEST_ID_HEADER, request_id_var
from findme_common.refusals import Reason
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from findme_gateway.errors import ApiError, error_body
from findme_gateway.metrics import HTTP_REFUSALS
from findme_gateway.redaction import loggable_path

log = logging.getLogger("findme_gateway.access")

_HEADER = REQUEST_ID_HEADER.encode()
# Ids from clients end up in logs and metadata: accept only short, plain tokens.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def _json_response(
    status: int, body: dict[str, Any], headers: list[tuple[bytes, bytes]]
) -> tuple[Message, Message]:
    payload = json.dumps(body).encode()
    start: Message = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
            *headers,
        ],
    }
    return start, {"type": "http.response.body", "body": payload}


class RequestIdMiddleware:
    """Takes X-Request-ID from the client or makes one, exposes it to logs and gRPC
    metadata through ``request_id_var``, and echoes it on the response.

    Also the last line of defence: an exception escaping the app becomes a JSON
    500 carrying the request id, logged once with its traceback.
    """

    def __init__(self, app: ASGIApp, *, access_log: bool = True) -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        incoming = next((v for k, v in scope["headers"] if k == _HEADER), b"").decode("latin-1")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        tracing.annotate_request(request_id)
        started = time.perf_counter()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != _HEADER]
                headers.append((_HEADER, request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error", extra={"path": loggable_path(scope.get("path"))})
            if status:
                raise  # the response has begun; the server can only drop the connection
            start, body = _json_response(
                500, error_body(Reason.INTERNAL_ERROR, "Something went wrong."), []
            )
            await send_with_id(start)
            await send(body)
        finally:
            if self.access_log:
                log.info(
                    "request",
                    extra={
                        "method": scope.get("method"),
                        "path": loggable_path(scope.get("path")),
                        "status": status,
                        "ms": round((time.perf_counter() - started) * 1000, 1),
                    },
                )
            request_id_var.reset(token)


class BodySizeLimitMiddleware:
    """Refuses bodies above a per-path limit with 413 ``too_large``.

    A declared Content-Length over the limit is refused before any byte is read;
    a chunked body is counted as it streams and cut off at the limit.
    """

    def __init__(self, app: ASGIApp, *, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None:
            try:
                too_large = int(declared) > limit
            except ValueError:
                too_large = False  # the server rejects a malformed length itself
            if too_large:
                await self._refuse(send, limit)
                return

        received = 0
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _too_large(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except ApiError as exc:
            # Raised from receive outside a route (e.g. while parsing a form).
            if exc.reason is not Reason.TOO_LARGE or response_started:
                raise
            await self._refuse(send, limit)

    @staticmethod
    async def _refuse(send: Send, limit: int) -> None:
        error = _too_large(limit)
        HTTP_REFUSALS.labels("413", error.code).inc()
        start, body = _json_response(
            413, error_body(error.reason, error.message), [(b"connection", b"close")]
        )
        await send(start)
        await send(body)


def _too_large(limit: int) -> ApiError:
    return ApiError(Reason.TOO_LARGE, f"The request body is larger than {limit} bytes.")
