"""Boots the real system once per test session: embedded PostgreSQL and Redis, the
migrations, auth, events, selfie and the gateway as separate processes on free ports.
Tests drive the gateway over HTTP, exactly as a browser or a load script would."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from findme_devstack import faces
from findme_devstack.stack import Stack, temporary_stack


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
def selfie_bytes(faces_dir: Path) -> bytes:
    """A real one-face photo."""
    return (faces_dir / faces.OBAMA).read_bytes()


@pytest.fixture(scope="session")
def no_face_bytes(faces_dir: Path) -> bytes:
    return (faces_dir / faces.NO_FACE).read_bytes()


@pytest.fixture(scope="session")
def two_faces_bytes(faces_dir: Path) -> bytes:
    """Two people side by side."""
    return (faces_dir / faces.TWO_PEOPLE).read_bytes()


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
