"""Strict-Transport-Security only on answers to requests that came over HTTPS."""

from __future__ import annotations

import httpx
from findme_gateway.app import create_app, lifespan


async def _get(app, base_url: str, path: str = "/livez", headers=None) -> httpx.Response:
    async with lifespan(app):
        transport = httpx.ASGITransport(app=app, client=("10.9.9.9", 40000))
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as http:
            return await http.get(path, headers=headers)


async def test_https_answers_carry_hsts_plain_http_ones_do_not(make_settings) -> None:
    app = create_app(make_settings())

    secure = await _get(app, "https://findme.example")
    plain = await _get(app, "http://findme.example")

    assert secure.headers["strict-transport-security"] == "max-age=31536000"
    assert "strict-transport-security" not in plain.headers


async def test_the_scheme_a_trusted_proxy_forwards_counts(make_settings) -> None:
    app = create_app(make_settings(trusted_proxies=["10.9.9.9"]))

    forwarded = await _get(
        app, "http://findme.example", "/", headers={"x-forwarded-proto": "https"}
    )

    assert forwarded.headers["strict-transport-security"] == "max-age=31536000"


async def test_hsts_can_be_turned_off(make_settings) -> None:
    app = create_app(make_settings(hsts_max_age=0))

    assert "strict-transport-security" not in (await _get(app, "https://x")).headers
