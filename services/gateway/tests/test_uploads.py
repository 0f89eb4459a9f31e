"""Upload bodies: read only after the token and rate-limit checks, a bounded number
at once, every file within its limit."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from findme_gateway.app import create_app, lifespan
from starlette.types import Message, Receive, Scope, Send

BIG = 5 * 1024 * 1024


class BodyCounter:
    """The app behind a wrapper counting the body bytes it read."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.read = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def counted() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                self.read += len(message.get("body", b""))
            return message

        await self.app(scope, counted, send)


def multipart(field: str, size: int) -> tuple[bytes, str]:
    request = httpx.Request(
        "POST", "http://x", files={field: ("big.jpg", b"\xff\xd8\xff" + bytes(size - 3))}
    )
    return request.read(), request.headers["content-type"]


@pytest.fixture
async def counted(
    make_settings, redis_url, client_address
) -> AsyncIterator[tuple[BodyCounter, httpx.AsyncClient]]:
    app = create_app(make_settings(redis_url=redis_url, upload_rate_limit=1))
    counter = BodyCounter(app)
    async with lifespan(app):
        transport = httpx.ASGITransport(app=counter, client=(client_address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            yield counter, http


@pytest.mark.parametrize(
    ("path", "field"), [("/api/upload-selfie", "file"), ("/api/events/1/photos", "files")]
)
async def test_no_token_is_refused_without_reading_the_body(counted, path, field) -> None:
    counter, http = counted
    body, content_type = multipart(field, BIG)

    response = await http.post(path, content=body, headers={"content-type": content_type})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "missing_token"
    assert counter.read == 0


async def test_an_account_over_its_upload_rate_is_refused_without_reading_the_body(
    counted, make_token
) -> None:
    counter, http = counted
    body, content_type = multipart("file", BIG)
    headers = {
        "content-type": content_type,
        "Authorization": f"Bearer {make_token(subject=uuid.uuid4().int % 10**9)}",
    }
    first = await http.post("/api/upload-selfie", content=body, headers=headers)
    # Read in full, then sent to the selfie service (a closed port here).
    assert first.status_code == 503
    read_by_first = counter.read
    assert read_by_first == len(body)

    second = await http.post("/api/upload-selfie", content=body, headers=headers)

    assert second.status_code == 429
    assert second.json()["error"]["code"] == "rate_limited"
    assert "account" in second.json()["error"]["message"]
    assert counter.read == read_by_first


async def test_people_behind_one_address_have_their_own_upload_limits(counted, make_token) -> None:
    _, http = counted
    body, content_type = multipart("file", 1000)
    for _ in range(2):
        headers = {
            "content-type": content_type,
            "Authorization": f"Bearer {make_token(subject=uuid.uuid4().int % 10**9)}",
        }
        # Each attendee's first upload passes the limit (the backend is down here).
        response = await http.post("/api/upload-selfie", content=body, headers=headers)
        assert response.status_code == 503, response.text


async def test_upload_bodies_beyond_the_cap_are_refused_at_once(
    make_settings, open_client, make_token
) -> None:
    app = create_app(make_settings(max_concurrent_uploads=1))
    reading, release = asyncio.Event(), asyncio.Event()
    body, content_type = multipart("files", 1000)

    async def slow_body() -> AsyncIterator[bytes]:
        yield body[:100]
        reading.set()  # the first body is being read: it holds the one slot
        await release.wait()
        yield body[100:]

    organizer = {"Authorization": f"Bearer {make_token('organizer')}"}
    async with open_client(app) as http:
        first = asyncio.ensure_future(
            http.post(
                "/api/events/1/photos",
                content=slow_body(),
                headers={**organizer, "content-type": content_type},
            )
        )
        await reading.wait()
        assert app.state.upload_slots.in_use == 1
        second = await http.post(
            "/api/events/1/photos",
            content=body,
            headers={**organizer, "content-type": content_type},
        )
        release.set()
        finished = await first

    assert second.status_code == 503
    assert second.json()["error"]["code"] == "overloaded"
    assert second.headers["retry-after"] == "2"
    # The first one was read in full and went on to the (absent) events service.
    assert finished.status_code == 503
    assert finished.json()["error"]["code"] == "service_unavailable"
    assert app.state.upload_slots.in_use == 0


async def test_more_photos_than_allowed_is_413_too_many_files(
    make_settings, open_client, make_token
) -> None:
    app = create_app(make_settings(max_photos_per_request=2))
    files = [("files", (f"{n}.jpg", b"\xff\xd8\xff" + bytes(10))) for n in range(4)]
    async with open_client(app) as http:
        response = await http.post(
            "/api/events/1/photos",
            files=files,
            headers={"Authorization": f"Bearer {make_token('organizer')}"},
        )

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_many_files"


async def test_invite_registration_names_a_missing_field(client) -> None:
    response = await client.post(
        "/api/invites/some-token/register",
        data={"username": "ada"},
        files={"file": ("me.jpg", b"\xff\xd8\xff")},
    )

    assert response.status_code == 422
    assert response.json()["error"]["field"] == "password"


async def test_the_schema_documents_the_upload_forms(client) -> None:
    schema = (await client.get("/openapi.json")).json()

    def form(path: str) -> dict[str, object]:
        body = schema["paths"][path]["post"]["requestBody"]
        return body["content"]["multipart/form-data"]["schema"]["properties"]

    assert form("/api/upload-selfie")["file"] == {"type": "string", "format": "binary"}
    assert form("/api/events/{event_id}/photos")["files"]["type"] == "array"
    assert set(form("/api/invites/{token}/register")) == {"username", "password", "file"}
