"""What the attendee routes decide before any backend is called."""

from __future__ import annotations


async def test_selfie_file_one_byte_over_the_limit_is_413(make_settings, open_client, make_token):
    from findme_gateway.app import create_app

    app = create_app(make_settings(max_upload_bytes=1000))
    headers = {"Authorization": f"Bearer {make_token()}"}

    async with open_client(app) as client:
        response = await client.post(
            "/api/upload-selfie", files={"file": ("me.jpg", b"x" * 1001)}, headers=headers
        )

    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "too_large"


async def test_selfie_without_a_file_is_422_naming_the_field(client, make_token) -> None:
    response = await client.post(
        "/api/upload-selfie",
        data={"other": "value"},
        headers={"Authorization": f"Bearer {make_token()}"},
    )

    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "invalid_request",
        "message": response.json()["error"]["message"],
        "field": "file",
    }


async def test_register_refuses_a_short_password(client) -> None:
    response = await client.post(
        "/api/register-with-event-code",
        json={"event_code": "ABC123", "username": "ada", "password": "short"},
    )

    assert response.status_code == 422
    assert response.json()["error"]["field"] == "password"


async def test_organizer_sign_up_refuses_a_malformed_email(client) -> None:
    response = await client.post(
        "/api/organizers", json={"email": "not-an-email", "password": "long enough"}
    )

    assert response.status_code == 422
    assert response.json()["error"]["field"] == "email"


async def test_answers_are_me_or_not_me(client, make_token) -> None:
    headers = {"Authorization": f"Bearer {make_token()}"}
    response = await client.post("/api/me/suggestions/3", json={"answer": "maybe"}, headers=headers)

    assert response.status_code == 422
    assert response.json()["error"]["field"] == "answer"


async def test_a_missed_photo_needs_a_photo_id(client, make_token) -> None:
    headers = {"Authorization": f"Bearer {make_token()}"}
    for body in ({}, {"photo_id": 0}, {"photo_id": 2**63}):
        response = await client.post("/api/me/missed", json=body, headers=headers)
        assert response.status_code == 422, body
        assert response.json()["error"]["field"] == "photo_id"


async def test_the_maybe_tier_is_for_attendees_only(client) -> None:
    for method, path in (
        ("GET", "/api/me/suggestions"),
        ("POST", "/api/me/suggestions/1"),
        ("POST", "/api/me/photos/1/not-me"),
        ("POST", "/api/me/missed"),
        ("GET", "/api/me/missed/1"),
    ):
        response = await client.request(method, path, json={})
        assert response.status_code == 401, path
        assert response.json()["error"]["code"] == "missing_token"


async def test_a_suggestions_cursor_is_bounded(client, make_token) -> None:
    response = await client.get(
        "/api/me/suggestions",
        params={"cursor": "x" * 201},
        headers={"Authorization": f"Bearer {make_token()}"},
    )

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_cursor"
