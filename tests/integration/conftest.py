"""Boots the real system once per test session: embedded PostgreSQL and Redis, the
migrations, auth, events, selfie and the gateway as separate processes on free ports.
Tests drive the gateway over HTTP, exactly as a browser or a load script would."""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from findme_devstack.stack import Stack, temporary_stack

SHARED_FACES = Path(__file__).resolve().parents[3] / "shared" / "faces"


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    with temporary_stack(
        {"FINDME_SELFIE_WORKERS": "2", "FINDME_AUTH_WORKERS": "2"},
        database_url=os.environ.get("TEST_DATABASE_URL") or None,
        redis_url=os.environ.get("TEST_REDIS_URL") or None,
    ) as running:
        yield running


@pytest.fixture
def client(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.url, timeout=60) as http:
        yield http


def _face_photo(name: str) -> bytes:
    """A real photo: ../shared/faces when present, else scikit-image's astronaut (one face)."""
    path = SHARED_FACES / name
    if path.is_file():
        return path.read_bytes()
    from PIL import Image
    from skimage import data

    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def _no_face_photo() -> bytes:
    path = SHARED_FACES / "negatives" / "dogs.jpg"
    if path.is_file():
        return path.read_bytes()
    from PIL import Image
    from skimage import data

    buffer = io.BytesIO()
    Image.fromarray(data.coffee()).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


@dataclass
class Organizer:
    token: str
    email: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def organizer(client: httpx.Client) -> Organizer:
    email = f"org-{uuid.uuid4().hex[:8]}@example.com"
    reply = client.post("/api/organizers", json={"email": email, "password": "correct horse 1"})
    assert reply.status_code == 201, reply.text
    return Organizer(token=reply.json()["access_token"], email=email)


@pytest.fixture
def event(client: httpx.Client, organizer: Organizer) -> dict[str, object]:
    reply = client.post("/api/events", json={"name": "Summer party"}, headers=organizer.headers)
    assert reply.status_code == 201, reply.text
    return reply.json()


@pytest.fixture(scope="session")
def selfie_bytes() -> bytes:
    """A real one-face photo."""
    return _face_photo("selfies/obama.jpg")


@pytest.fixture(scope="session")
def no_face_bytes() -> bytes:
    return _no_face_photo()


@pytest.fixture(scope="session")
def two_faces_bytes(selfie_bytes: bytes) -> bytes:
    """Two people: the shared group photo, else the one-face photo twice side by side."""
    path = SHARED_FACES / "photos" / "biden_and_obama.jpg"
    if path.is_file():
        return path.read_bytes()
    from PIL import Image

    one = Image.open(io.BytesIO(selfie_bytes)).convert("RGB")
    both = Image.new("RGB", (one.width * 2, one.height))
    both.paste(one, (0, 0))
    both.paste(one, (one.width, 0))
    buffer = io.BytesIO()
    both.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


@pytest.fixture
def attendee(client: httpx.Client, event: dict[str, object]) -> dict[str, object]:
    """A registered attendee of ``event``: its username, password and token."""
    username = f"guest_{uuid.uuid4().hex[:6]}"
    password = "attendee pass 1"
    reply = client.post(
        "/api/register-with-event-code",
        json={"event_code": event["code"], "username": username, "password": password},
    )
    assert reply.status_code == 201, reply.text
    body = reply.json()
    return {
        "username": username,
        "password": password,
        "token": body["access_token"],
        "id": body["attendee"]["id"],
        "headers": {"Authorization": f"Bearer {body['access_token']}"},
    }
