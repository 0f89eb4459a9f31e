"""The seed API end to end: gateway -> gRPC -> PostgreSQL / Redis / dlib, for real."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from findme_devstack.stack import Stack


def error_code(reply: httpx.Response) -> str:
    body = reply.json()
    assert set(body) == {"error"}, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return str(body["error"]["code"])


def test_health_is_ok_with_all_seven_components(client: httpx.Client) -> None:
    reply = client.get("/health")
    assert reply.status_code == 200, reply.text
    components = reply.json()["components"]
    assert set(components) == {
        "gateway",
        "auth",
        "events",
        "selfie",
        "database",
        "cache",
        "photo_worker",
    }
    assert {c["status"] for c in components.values()} == {"ok"}


def test_the_five_seed_calls_in_order(
    client: httpx.Client, event: dict[str, Any], selfie_bytes: bytes
) -> None:
    code = event["code"]
    username = f"Ann_{uuid.uuid4().hex[:6]}"

    reply = client.post("/api/check-event-code", json={"event_code": code})
    assert reply.status_code == 200
    assert reply.json() == {"valid": True, "event": {"id": event["id"], "name": "Summer party"}}

    reply = client.post(
        "/api/check-user-availability", json={"event_code": code, "username": username}
    )
    assert (reply.status_code, reply.json()) == (200, {"username_taken": False})

    reply = client.post(
        "/api/register-with-event-code",
        json={"event_code": code, "username": username, "password": "s3cret pass"},
    )
    assert reply.status_code == 201, reply.text
    registered = reply.json()
    assert registered["token_type"] == "bearer"
    assert registered["attendee"]["username"] == username
    assert registered["access_token"]

    reply = client.post(
        "/api/check-user-availability",
        json={"event_code": code, "username": username.upper()},
    )
    assert reply.json() == {"username_taken": True}

    reply = client.post(
        "/api/login", json={"event_code": code, "username": username, "password": "s3cret pass"}
    )
    assert reply.status_code == 200, reply.text
    token = reply.json()["access_token"]
    assert reply.json()["token_type"] == "bearer"

    reply = client.post(
        "/api/upload-selfie",
        files={"file": ("me.jpg", selfie_bytes, "image/jpeg")},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    face = body["face"]
    assert face["right"] > face["left"] >= 0 and face["bottom"] > face["top"] >= 0
    assert 0 < body["stored_bytes"] <= 200_000
    assert body["matches"] == 0


def test_unknown_code_is_valid_false_and_malformed_is_422(client: httpx.Client) -> None:
    reply = client.post("/api/check-event-code", json={"event_code": "ZZZZ9999"})
    assert (reply.status_code, reply.json()) == (200, {"valid": False, "event": None})
    reply = client.post("/api/check-event-code", json={"event_code": "!!"})
    assert reply.status_code == 422
    error_code(reply)
    reply = client.post("/api/check-event-code", json={})
    assert reply.status_code == 422
    error_code(reply)


def test_register_refusals(
    client: httpx.Client, event: dict[str, Any], attendee: dict[str, Any]
) -> None:
    reply = client.post(
        "/api/register-with-event-code",
        json={"event_code": event["code"], "username": attendee["username"], "password": "x" * 10},
    )
    assert reply.status_code == 409
    assert error_code(reply) == "username_taken"

    reply = client.post(
        "/api/register-with-event-code",
        json={"event_code": "ZZZZ9999", "username": "newbie", "password": "x" * 10},
    )
    assert reply.status_code == 404
    assert error_code(reply) == "event_not_found"

    reply = client.post(
        "/api/check-user-availability", json={"event_code": "ZZZZ9999", "username": "newbie"}
    )
    assert reply.status_code == 404
    assert error_code(reply) == "event_not_found"


def test_login_refusals_look_the_same(
    client: httpx.Client, event: dict[str, Any], attendee: dict[str, Any]
) -> None:
    wrong = client.post(
        "/api/login",
        json={
            "event_code": event["code"],
            "username": attendee["username"],
            "password": "nope nope",
        },
    )
    unknown = client.post(
        "/api/login",
        json={"event_code": event["code"], "username": "nobody_here", "password": "nope nope"},
    )
    assert wrong.status_code == unknown.status_code == 401
    assert error_code(wrong) == error_code(unknown) == "invalid_credentials"


def test_selfie_refusals(
    client: httpx.Client,
    attendee: dict[str, Any],
    no_face_bytes: bytes,
    two_faces_bytes: bytes,
) -> None:
    headers = attendee["headers"]

    def upload(data: bytes, name: str = "x.jpg") -> httpx.Response:
        return client.post(
            "/api/upload-selfie", files={"file": (name, data, "image/jpeg")}, headers=headers
        )

    reply = upload(no_face_bytes)
    assert (reply.status_code, error_code(reply)) == (422, "no_face")
    reply = upload(two_faces_bytes)
    assert (reply.status_code, error_code(reply)) == (422, "multiple_faces")
    reply = upload(b"this is not an image at all", "notes.jpg")
    assert (reply.status_code, error_code(reply)) == (422, "not_an_image")

    reply = client.post(
        "/api/upload-selfie", files={"file": ("a.jpg", no_face_bytes, "image/jpeg")}
    )
    assert reply.status_code == 401
    error_code(reply)


def test_organizer_refusals(client: httpx.Client, organizer: Any) -> None:
    reply = client.post(
        "/api/organizers", json={"email": organizer.email, "password": "another pw 1"}
    )
    assert (reply.status_code, error_code(reply)) == (409, "email_taken")
    reply = client.post(
        "/api/organizers/login", json={"email": organizer.email, "password": "wrong password"}
    )
    assert reply.status_code == 401
    error_code(reply)
    reply = client.post(
        "/api/organizers/login", json={"email": organizer.email, "password": "correct horse 1"}
    )
    assert reply.status_code == 200 and reply.json()["access_token"]
    reply = client.post("/api/events", json={"name": "No token"})
    assert reply.status_code == 401
    reply = client.post("/api/events", json={"name": ""}, headers=organizer.headers)
    assert reply.status_code == 422
    error_code(reply)


def test_attendee_token_cannot_create_events(
    client: httpx.Client, attendee: dict[str, Any]
) -> None:
    reply = client.post("/api/events", json={"name": "Mine"}, headers=attendee["headers"])
    assert reply.status_code in (401, 403)
    error_code(reply)


def test_request_id_is_echoed(client: httpx.Client) -> None:
    reply = client.post(
        "/api/check-event-code",
        json={"event_code": "ZZZZ9999"},
        headers={"X-Request-ID": "trace-42"},
    )
    assert reply.headers["x-request-id"] == "trace-42"


def test_service_logs_carry_the_gateway_request_id(stack: Stack, client: httpx.Client) -> None:
    request_id = f"trace-{uuid.uuid4().hex[:8]}"
    client.post(
        "/api/check-user-availability",
        json={"event_code": "ZZZZ9999", "username": "someone"},
        headers={"X-Request-ID": request_id},
    )
    # events logs refusals (NOT_FOUND) with the caller's request id
    log_text = (stack.log_dir / "events.log").read_text()
    assert request_id in log_text


def test_event_options_at_creation(client: httpx.Client, organizer: Any) -> None:
    reply = client.post(
        "/api/events",
        json={
            "name": "Gala",
            "starts_on": "2026-12-01",
            "ends_on": "2026-12-02",
            "match_tolerance": 0.5,
            "retention_days": 7,
        },
        headers=organizer.headers,
    )
    assert reply.status_code == 201, reply.text
    body = reply.json()
    assert {k: body[k] for k in ("name", "starts_on", "ends_on", "retention_days")} == {
        "name": "Gala",
        "starts_on": "2026-12-01",
        "ends_on": "2026-12-02",
        "retention_days": 7,
    }
    assert body["match_tolerance"] == 0.5
    assert len(body["code"]) == 8

    refusals = {
        "invalid_match_tolerance": {"name": "X", "match_tolerance": 5},
        "invalid_retention_days": {"name": "X", "retention_days": 0},
        "invalid_dates": {"name": "X", "starts_on": "2026-12-02", "ends_on": "2026-12-01"},
    }
    for code, body in refusals.items():
        reply = client.post("/api/events", json=body, headers=organizer.headers)
        assert (reply.status_code, error_code(reply)) == (422, code), reply.text
    listed = client.get("/api/events", headers=organizer.headers).json()["events"]
    assert [event["name"] for event in listed] == ["Gala"]


def test_numbers_too_wide_for_the_backends_are_422_not_500(
    client: httpx.Client, organizer: Any, event: dict[str, Any]
) -> None:
    # Found by schemathesis: ids and day counts beyond int64/int32 used to overflow.
    huge = 32354553451207288644698112
    reply = client.get(f"/api/photos/{huge}/display", headers=organizer.headers)
    assert (reply.status_code, error_code(reply)) == (422, "invalid_request")
    reply = client.patch(
        f"/api/events/{event['id']}",
        json={"retention_days": -202552279272},
        headers=organizer.headers,
    )
    assert (reply.status_code, error_code(reply)) == (422, "invalid_request")
    reply = client.get(f"/api/events/{huge}/progress", headers=organizer.headers)
    assert reply.status_code == 422
