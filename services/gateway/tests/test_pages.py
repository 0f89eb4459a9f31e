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


@pytest.mark.parametrize("path", ["/", "/organizer"])
async def test_asset_links_carry_the_content_fingerprint(client, path) -> None:
    import hashlib

    from findme_gateway.routes.pages import STATIC_DIR

    page = (await client.get(path)).text
    links = re.findall(r'(?:src|href)="/static/([\w.-]+)\?v=([0-9a-f]+)"', page)
    assert {name for name, _ in links} >= {"api.js", "app.css"}
    for name, version in links:
        assert hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest().startswith(version)
    assert '="/static/' not in re.sub(r'="/static/[\w.-]+\?v=[0-9a-f]+"', "", page)
