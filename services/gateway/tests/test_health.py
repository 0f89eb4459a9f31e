"""GET /health against closed ports and against real gRPC health servers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import grpc
import pytest
from findme_gateway.app import create_app
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
COMPONENTS = {"gateway", "auth", "events", "selfie", "database", "cache", "photo_worker"}


async def test_every_backend_down_is_503_degraded(client) -> None:
    response = await client.get("/health")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert set(body["components"]) == COMPONENTS
    assert body["components"]["gateway"] == {"status": "ok"}
    assert {name for name, c in body["components"].items() if c["status"] == "down"} == (
        COMPONENTS - {"gateway"}
    )


HealthServer = tuple[str, health.aio.HealthServicer]


@pytest.fixture
async def start_health_server() -> AsyncIterator[Callable[..., object]]:
    """Starts real gRPC servers speaking only the standard health protocol."""
    servers: list[grpc.aio.Server] = []

    async def start(statuses: dict[str, int]) -> str:
        server = grpc.aio.server()
        servicer = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        for name, status in statuses.items():
            await servicer.set(name, status)
        servers.append(server)
        return f"dns:///127.0.0.1:{port}"

    yield start
    for server in servers:
        await server.stop(None)


async def test_all_serving_is_200_ok(make_settings, open_client, start_health_server) -> None:
    settings = make_settings(
        auth_target=await start_health_server({"": SERVING}),
        events_target=await start_health_server(
            {"": SERVING, "database": SERVING, "cache": SERVING, "photo_worker": SERVING}
        ),
        selfie_target=await start_health_server({"": SERVING}),
    )

    async with open_client(create_app(settings)) as client:
        response = await client.get("/health")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "components": {name: {"status": "ok"} for name in COMPONENTS},
    }


async def test_one_component_down_is_503_naming_it(
    make_settings, open_client, start_health_server
) -> None:
    settings = make_settings(
        auth_target=await start_health_server({"": SERVING}),
        events_target=await start_health_server(
            {"": SERVING, "database": SERVING, "cache": NOT_SERVING, "photo_worker": SERVING}
        ),
        selfie_target=await start_health_server({"": SERVING}),
    )

    async with open_client(create_app(settings)) as client:
        response = await client.get("/health")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    down = {name for name, c in body["components"].items() if c["status"] == "down"}
    assert down == {"cache"}


async def test_unknown_component_counts_as_down(
    make_settings, open_client, start_health_server
) -> None:
    # An events service that does not report "database" at all (NOT_FOUND).
    settings = make_settings(
        auth_target=await start_health_server({"": SERVING}),
        events_target=await start_health_server(
            {"": SERVING, "cache": SERVING, "photo_worker": SERVING}
        ),
        selfie_target=await start_health_server({"": SERVING}),
    )

    async with open_client(create_app(settings)) as client:
        body = (await client.get("/health")).json()

    assert body["components"]["database"] == {"status": "down"}


async def test_liveness_is_200_even_when_every_backend_is_down(client) -> None:  # type: ignore[no-untyped-def]
    # `client`'s backends all point at closed ports.
    reply = await client.get("/livez")
    assert (reply.status_code, reply.json()) == (200, {"status": "ok"})
    assert (await client.get("/health")).status_code == 503
