"""Request-head limits in a real uvicorn server on a loopback socket: 431 past the
size or field count, before the app runs and without holding the whole head."""

from __future__ import annotations

import asyncio
import contextlib
import json
import select
import socket
import threading
from collections.abc import Iterator

import pytest
import uvicorn
from findme_gateway.http_limits import HeadLimitedConfig
from starlette.types import Receive, Scope, Send

MAX_BYTES = 8 * 1024
MAX_COUNT = 20


class Recorder:
    """A tiny ASGI app answering 200 and remembering how many requests reached it."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        self.calls += 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[int, Recorder]]:
    app = Recorder()
    config = HeadLimitedConfig(
        app,
        max_header_bytes=MAX_BYTES,
        max_header_count=MAX_COUNT,
        host="127.0.0.1",
        port=0,
        log_config=None,
        lifespan="off",
    )
    sock = config.bind_socket()
    port = int(sock.getsockname()[1])
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])))
    thread.start()
    try:
        while not server.started:
            threading.Event().wait(0.02)
        yield port, app
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def exchange(port: int, head: bytes, *, chunk: int = 16 * 1024) -> tuple[bytes, int]:
    """Send ``head`` in chunks, stopping as soon as the server answers; returns the
    answer and how many bytes were sent before it came."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        sent = 0
        conn.setblocking(False)
        answer = b""
        while sent < len(head):
            with contextlib.suppress(BlockingIOError, BrokenPipeError, ConnectionResetError):
                sent += conn.send(head[sent : sent + chunk])
            # Give the server a moment to answer before sending more.
            if select.select([conn], [], [], 0.02)[0]:
                answer = conn.recv(65536)
                break
        conn.setblocking(True)
        try:
            while True:
                more = conn.recv(65536)
                if not more:
                    break
                answer += more
        except (ConnectionResetError, TimeoutError):
            pass
        return answer, sent


def request(*headers: bytes) -> bytes:
    return b"GET /x HTTP/1.1\r\nHost: t\r\n" + b"".join(h + b"\r\n" for h in headers) + b"\r\n"


def refused(answer: bytes) -> dict[str, object]:
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 431 Request Header Fields Too Large", answer[:200]
    head, _, body = rest.partition(b"\r\n\r\n")
    assert b"connection: close" in head
    return dict(json.loads(body)["error"])


def test_a_request_within_the_limits_is_served(server) -> None:
    port, _ = server
    answer, _ = exchange(port, request(b"X-Pad: " + b"a" * (MAX_BYTES - 200), b"Connection: close"))
    assert answer.startswith(b"HTTP/1.1 200")


def test_a_header_over_the_size_limit_is_431_before_the_app(server) -> None:
    port, app = server
    before = app.calls
    answer, _ = exchange(port, request(b"Cookie: " + b"c" * (MAX_BYTES + 1)))
    error = refused(answer)
    assert error["code"] == "request_header_too_large"
    assert app.calls == before


def test_too_many_header_fields_is_431(server) -> None:
    port, app = server
    before = app.calls
    answer, _ = exchange(port, request(*(b"X-%d: 1" % n for n in range(MAX_COUNT + 1))))
    assert refused(answer)["code"] == "request_header_too_large"
    assert app.calls == before


def test_an_endless_header_is_cut_off_without_being_held(server) -> None:
    # 8 MiB of one header value: the server answers once it has the limit's worth,
    # long before the client is done sending (an unlimited server reads all 8 MiB).
    port, _ = server
    answer, sent = exchange(port, b"GET / HTTP/1.1\r\nX-Big: " + b"b" * (8 * 1024 * 1024))
    assert refused(answer)["code"] == "request_header_too_large"
    assert sent < 4 * MAX_BYTES + 16 * 1024
