"""Bearer tokens on the protected routes, and the client address behind proxies."""

from __future__ import annotations

import time

import pytest
from fastapi import Request
from findme_gateway.app import create_app
from findme_gateway.deps import get_client_address


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_missing_token_is_401_with_a_bearer_challenge(client) -> None:
    response = await client.post("/api/events", json={"name": "Gala"})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "missing_token"
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_non_bearer_scheme_is_invalid_token(client) -> None:
    response = await client.post(
        "/api/events", json={"name": "Gala"}, headers={"Authorization": "Basic YWRhOnB3"}
    )

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"


@pytest.mark.parametrize(
    ("path", "role"),
    [("/api/events", "attendee"), ("/api/upload-selfie", "organizer")],
)
async def test_token_of_the_wrong_role_is_401_invalid_token(client, make_token, path, role):
    response = await client.post(path, json={"name": "Gala"}, headers=_bearer(make_token(role)))

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


async def test_expired_token_is_401_invalid_token(client, make_token) -> None:
    past = int(time.time()) - 3600
    token = make_token("organizer", iat=past - 60, exp=past)

    response = await client.post("/api/events", json={"name": "Gala"}, headers=_bearer(token))

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"


async def test_valid_organizer_token_passes_to_the_backend(client, make_token) -> None:
    response = await client.post(
        "/api/events", json={"name": "Gala"}, headers=_bearer(make_token("organizer"))
    )

    # Accepted by the gateway; the events service is a closed port here.
    assert response.status_code == 503


def _app_reporting_address(settings):
    app = create_app(settings)

    async def whereami(request: Request) -> dict[str, str]:
        return {"client": get_client_address(request)}

    app.add_api_route("/test/whereami", whereami, methods=["GET"])
    return app


async def test_forwarded_for_is_ignored_without_trusted_proxies(make_settings, open_client):
    app = _app_reporting_address(make_settings())

    async with open_client(app, "10.1.1.1") as client:
        response = await client.get("/test/whereami", headers={"x-forwarded-for": "203.0.113.9"})

    assert response.json() == {"client": "10.1.1.1"}


async def test_forwarded_for_is_believed_from_a_trusted_proxy(make_settings, open_client):
    app = _app_reporting_address(make_settings(trusted_proxies=["10.1.0.0/16"]))

    async with open_client(app, "10.1.1.1") as proxied, open_client(app, "10.2.2.2") as direct:
        via_proxy = await proxied.get(
            "/test/whereami", headers={"x-forwarded-for": "198.51.100.4, 203.0.113.9"}
        )
        spoofed = await direct.get("/test/whereami", headers={"x-forwarded-for": "203.0.113.9"})

    assert via_proxy.json() == {"client": "203.0.113.9"}
    assert spoofed.json() == {"client": "10.2.2.2"}
