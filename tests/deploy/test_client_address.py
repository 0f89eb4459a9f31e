"""The client address on Render, with the trusted chain render.yaml gives the gateway.

A request to a Render web service travels client -> Cloudflare -> Render's proxy ->
gateway: the socket peer is Render's proxy (a private address) and X-Forwarded-For is
"<whatever the client wrote>, <client>, <Cloudflare edge>". The real gateway app is
driven here with realistic chains; its per-address rate limits (Redis) and auth's
per-address throttle key on the address it finds.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI, Request
from findme_gateway.app import create_app, lifespan
from findme_gateway.config import GatewaySettings
from findme_gateway.deps import get_client_address

from .deployfiles import entered_token_keys, render_environment, render_services, settings_from

RENDER_PROXY = "10.214.33.7"  # the socket peer: Render's proxy, private network
CLOUDFLARE_EDGE = "172.71.182.15"  # in 172.64.0.0/13, one of Cloudflare's ranges
CLOUDFLARE_EDGE_V6 = "2a06:98c1:3121::7"  # in 2a06:98c0::/29
LOGIN_LIMIT = 3


def render_gateway_settings(**overrides: object) -> GatewaySettings:
    env = render_environment(render_services()["findme-gateway"], entered_token_keys())
    settings = settings_from("gateway", env)
    assert isinstance(settings, GatewaySettings)
    return settings.model_copy(update=overrides)


def app_reporting_address(settings: GatewaySettings) -> FastAPI:
    app = create_app(settings)

    async def whereami(request: Request) -> dict[str, str]:
        return {"client": get_client_address(request)}

    app.add_api_route("/test/whereami", whereami, methods=["GET"])
    return app


@asynccontextmanager
async def from_peer(app: FastAPI, peer: str) -> AsyncIterator[httpx.AsyncClient]:
    async with lifespan(app):
        transport = httpx.ASGITransport(app=app, client=(peer, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield client


@pytest.fixture(scope="module")
def app() -> FastAPI:
    return app_reporting_address(render_gateway_settings())


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "client"),
    [
        # An ordinary request: Cloudflare appended the client, Render's proxy the edge.
        (RENDER_PROXY, f"198.51.100.23, {CLOUDFLARE_EDGE}", "198.51.100.23"),
        # A client that writes its own X-Forwarded-For: the left-most entries are its
        # own and never reached.
        (RENDER_PROXY, f"6.6.6.6, 198.51.100.23, {CLOUDFLARE_EDGE}", "198.51.100.23"),
        (RENDER_PROXY, f"10.0.0.1, 1.2.3.4, 198.51.100.23, {CLOUDFLARE_EDGE}", "198.51.100.23"),
        # IPv6 clients and edges.
        (RENDER_PROXY, f"2001:db8::42, {CLOUDFLARE_EDGE_V6}", "2001:db8::42"),
        # Several header lines are one list, in order.
        (RENDER_PROXY, ["6.6.6.6", f"198.51.100.23, {CLOUDFLARE_EDGE}"], "198.51.100.23"),
        # Not through Render's proxy (a peer outside the trusted chain): the header is
        # not believed at all, the peer is the client.
        ("203.0.113.99", f"198.51.100.23, {CLOUDFLARE_EDGE}", "203.0.113.99"),
    ],
)
async def test_the_client_is_the_right_most_untrusted_address(
    app: FastAPI, peer: str, forwarded_for: str | list[str], client: str
) -> None:
    values = [forwarded_for] if isinstance(forwarded_for, str) else forwarded_for
    headers = [("x-forwarded-for", value) for value in values]
    async with from_peer(app, peer) as http:
        response = await http.get("/test/whereami", headers=headers)
    assert response.json() == {"client": client}


async def test_limits_key_on_the_client_not_on_the_cloudflare_edge(redis_url: str) -> None:
    # The failure this prevents: everyone behind one Cloudflare edge sharing one limit,
    # so one brute-forcer locks every attendee out. Here one client spends its login
    # budget (spoofing left-most entries as it goes) and its neighbour behind the same
    # edge and the same Render proxy still gets through.
    settings = render_gateway_settings(
        redis_url=redis_url,
        login_rate_limit=LOGIN_LIMIT,
        cheap_deadline=0.5,
        rate_limit_window=60.0,
    )
    app = create_app(settings)
    attacker = f"198.51.{uuid.uuid4().int % 200}.9"
    neighbour = f"198.51.{uuid.uuid4().int % 200}.10"
    body = {"event_code": "ABCDEFGH", "username": "ann", "password": "some password"}
    async with from_peer(app, RENDER_PROXY) as http:

        async def login(forwarded_for: str) -> int:
            response = await http.post(
                "/api/login", json=body, headers={"x-forwarded-for": forwarded_for}
            )
            return response.status_code

        answers = [
            await login(f"6.6.6.{i}, {attacker}, {CLOUDFLARE_EDGE}") for i in range(LOGIN_LIMIT + 1)
        ]
        neighbour_answer = await login(f"{neighbour}, {CLOUDFLARE_EDGE}")
    # Backends are closed ports: 503 while the limit lets a request through.
    assert answers == [503] * LOGIN_LIMIT + [429], answers
    assert neighbour_answer == 503
