"""Limits on a request's head (request line and headers) at the HTTP server itself.

uvicorn's httptools parser takes headers of any size: an 8 MiB header was answered
200, and a few 24 MiB ones grew the process by 200 MB for good. The ASGI app sees a
request only once its head is complete, so the limit must live in the protocol:
bytes of a head still arriving are counted as they come, and the request line plus
headers once parsed. Past ``max_bytes`` or ``max_count`` the client gets 431
``request_header_too_large`` and the connection closes; at most ``max_bytes`` plus
one read of the head is ever held.
"""

from __future__ import annotations

import json
from typing import Any

import uvicorn
from findme_common.refusals import Reason
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from findme_gateway.errors import error_body

# A request line's method and version, around the URL.
_REQUEST_LINE_BYTES = 64
DEFAULT_MAX_BYTES = 32 * 1024
DEFAULT_MAX_COUNT = 100


class _HeadRefused(Exception):
    """Stops the parser once the refusal is sent."""


def head_too_large_response(max_bytes: int, max_count: int) -> bytes:
    payload = json.dumps(
        error_body(
            Reason.REQUEST_HEADER_TOO_LARGE,
            f"Request headers are limited to {max_bytes} bytes and {max_count} fields.",
        )
    ).encode()
    return b"".join(
        [
            STATUS_LINE[431],
            b"content-type: application/json\r\n",
            b"content-length: " + str(len(payload)).encode() + b"\r\n",
            b"connection: close\r\n\r\n",
            payload,
        ]
    )


class HeadLimitedConfig(uvicorn.Config):
    """uvicorn's config plus the head limits; module-level, so uvicorn can hand it to
    worker processes (they are spawned, and receive the config pickled)."""

    def __init__(self, app: Any, *, max_header_bytes: int, max_header_count: int, **kwargs: Any):
        super().__init__(app, http=HeadLimitedProtocol, **kwargs)
        self.max_header_bytes = max_header_bytes
        self.max_header_count = max_header_count


class HeadLimitedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the limits of its ``HeadLimitedConfig``."""

    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self._max_bytes = int(getattr(config, "max_header_bytes", DEFAULT_MAX_BYTES))
        self._max_count = int(getattr(config, "max_header_count", DEFAULT_MAX_COUNT))
        self._refusal = head_too_large_response(self._max_bytes, self._max_count)
        self._in_head = True
        self._head_received = 0
        self._head_bytes = 0
        self._head_count = 0
        self._refused = False

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._in_head:
            self._head_received += len(data)
        super().data_received(data)
        # Still no end of head: what arrived so far is all head.
        if self._in_head and self._head_received > self._max_bytes + _REQUEST_LINE_BYTES:
            self._refuse()

    def send_400_response(self, msg: str) -> None:
        if not self._refused:  # our refusal stops the parser, which reports an error
            super().send_400_response(msg)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = 0
        self._head_count = 0

    def on_url(self, url: bytes) -> None:
        self._head_bytes += len(url)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_bytes += len(name) + len(value) + 4
        self._head_count += 1
        # Past a limit nothing more is kept: the request is refused at the end of its head.
        if self._head_bytes <= self._max_bytes and self._head_count <= self._max_count:
            super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        if self._head_bytes > self._max_bytes or self._head_count > self._max_count:
            self._refuse()
            raise _HeadRefused
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head = True
        self._head_received = 0

    def _refuse(self) -> None:
        if self._refused:
            return
        self._refused = True
        self.logger.info(
            "request head refused: over %s bytes or %s fields", self._max_bytes, self._max_count
        )
        self.transport.write(self._refusal)
        self.transport.close()
