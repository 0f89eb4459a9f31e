"""Request ids (echoed, generated, forwarded to gRPC) and the body-size limit."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from findme_common.grpc_client import open_channel
from findme_common.logging import request_id_var
from findme_gateway.app import create_app
from findme_gateway.middleware import BodySizeLimitMiddleware
from starlette.types import Message


@pytest.fixture
async def http(
    make_settings, open_client, refuser, refuser_call
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(max_json_bytes=1024, max_upload_bytes=4096))
    channel = open_channel(refuser)

    async def whoami() -> dict[str, str]:
        return {"request_id": request_id_var.get()}

    async def forwarded() -> dict[str, str]:
        seen = await refuser_call(channel, code="OK")
        return {"backend_saw": seen.decode()}

    app.add_api_route("/test/whoami", whoami, methods=["GET"])
    app.add_api_route("/test/forwarded", forwarded, methods=["GET"])
    async with open_client(app) as client:
        yield client
    await channel.close()


async def test_client_request_id_is_used_and_echoed(http) -> None:
    response = await http.get("/test/whoami", headers={"x-request-id": "req-123.abc"})

    assert response.headers["x-request-id"] == "req-123.abc"
    assert response.json() == {"request_id": "req-123.abc"}


async def test_a_request_id_is_made_when_absent(http) -> None:
    first = await http.get("/test/whoami")
    second = await http.get("/test/whoami")

    assert re.fullmatch(r"[0-9a-f]{32}", first.headers["x-request-id"])
    assert first.headers["x-request-id"] == first.json()["request_id"]
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


@pytest.mark.parametrize("bad", ["x" * 129, "has space", "new\\nline", "<script>"])
async def test_unsafe_request_ids_are_replaced(http, bad) -> None:
    response = await http.get("/test/whoami", headers={"x-request-id": bad})

    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


async def test_request_id_is_forwarded_to_backends_in_grpc_metadata(http) -> None:
    response = await http.get("/test/forwarded", headers={"x-request-id": "trace-77"})

    assert response.json() == {"backend_saw": "trace-77"}


async def test_refusals_carry_the_request_id_too(http) -> None:
    response = await http.get("/api/nowhere", headers={"x-request-id": "lost-1"})

    assert response.status_code == 404
    assert response.headers["x-request-id"] == "lost-1"


async def test_json_body_over_the_limit_is_413(http) -> None:
    response = await http.post(
        "/api/check-event-code",
        content=b"{" + b" " * 2048 + b"}",
        headers={"content-type": "application/json"},
    )

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert response.headers["x-request-id"]


async def test_chunked_body_over_the_limit_is_413(http) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(8):
            yield b" " * 512

    response = await http.post(
        "/api/check-event-code", content=chunks(), headers={"content-type": "application/json"}
    )

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"


async def test_declared_length_over_the_limit_is_refused_before_reading() -> None:
    reached_app = False

    async def app(scope, receive, send) -> None:
        nonlocal reached_app
        reached_app = True

    async def receive() -> Message:
        raise AssertionError("the body must not be read")

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    guard = BodySizeLimitMiddleware(app, limit_for=lambda path: 100)
    scope = {"type": "http", "path": "/api/login", "headers": [(b"content-length", b"10000000")]}
    await guard(scope, receive, send)

    assert not reached_app
    assert sent[0]["status"] == 413


async def test_uploads_get_the_upload_limit_not_the_json_limit(http) -> None:
    response = await http.post("/api/upload-selfie", files={"file": ("me.jpg", b"x" * 3000)})

    # Past the size guard (3000 > the 1024 JSON limit): refused only for lack of a token.
    assert response.status_code == 401


async def test_upload_over_the_upload_limit_is_413(http) -> None:
    response = await http.post("/api/upload-selfie", files={"file": ("me.jpg", b"x" * 200_000)})

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
