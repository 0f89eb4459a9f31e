"""The web pages are served self-contained: same-origin assets, no CDN."""

from __future__ import annotations

import re

import pytest


@pytest.mark.parametrize("path", ["/", "/organizer"])
async def test_pages_are_html_with_a_strict_policy(client, path) -> None:
    response = await client.get(path)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert "<label for=" in response.text


@pytest.mark.parametrize("path", ["/", "/organizer"])
async def test_pages_load_only_local_assets_that_exist(client, path) -> None:
    page = (await client.get(path)).text
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)

    local = [asset for asset in assets if asset.startswith("/static/")]
    assert local
    assert not [a for a in assets if a.startswith(("http:", "https:", "//"))]
    for asset in local:
        assert (await client.get(asset)).status_code == 200


async def test_attendee_page_uses_the_public_api(client) -> None:
    script = (await client.get("/static/attendee.js")).text

    for path in (
        "/api/check-event-code",
        "/api/check-user-availability",
        "/api/register-with-event-code",
        "/api/login",
        "/api/upload-selfie",
    ):
        assert path in script
