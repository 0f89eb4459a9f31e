"""Component health published through a real gRPC health service."""

from __future__ import annotations

import asyncio

import grpc
from findme_events.database import WORKER_APPLICATION_NAME
from findme_events.health import (
    CACHE,
    DATABASE,
    NOT_SERVING,
    PHOTO_WORKER,
    SERVING,
    HealthMonitor,
    cache_probe,
    database_probe,
    photo_worker_probe,
)
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


async def test_monitor_reports_each_component(
    engine: AsyncEngine, redis_url: str, closed_port: int
) -> None:
    servicer = health.aio.HealthServicer()
    live_redis = Redis.from_url(redis_url)
    dead_redis = Redis.from_url(f"redis://127.0.0.1:{closed_port}/0", socket_connect_timeout=0.2)
    dead_engine = create_async_engine(
        f"postgresql+asyncpg://postgres@127.0.0.1:{closed_port}/x", connect_args={"timeout": 0.5}
    )
    try:
        monitor = HealthMonitor(
            servicer,
            {
                DATABASE: database_probe(engine),
                CACHE: cache_probe(live_redis),
                "broken_cache": cache_probe(dead_redis),
                "broken_database": database_probe(dead_engine),
            },
        )
        await monitor.check_once()
        assert monitor.statuses == {
            DATABASE: SERVING,
            CACHE: SERVING,
            "broken_cache": NOT_SERVING,
            "broken_database": NOT_SERVING,
        }
    finally:
        await live_redis.aclose()
        await dead_redis.aclose()
        await dead_engine.dispose()


async def test_server_publishes_database_and_cache_health(events_server) -> None:  # type: ignore[no-untyped-def]
    stub = health_pb2_grpc.HealthStub(events_server.channel)
    statuses: dict[str, int] = {}
    for _ in range(100):
        for name in (DATABASE, CACHE):
            try:
                reply = await stub.Check(health_pb2.HealthCheckRequest(service=name))
                statuses[name] = reply.status
            except grpc.aio.AioRpcError as exc:
                assert exc.code() == grpc.StatusCode.NOT_FOUND  # not probed yet
        if statuses == {DATABASE: SERVING, CACHE: SERVING}:
            break
        await asyncio.sleep(0.05)
    assert statuses == {DATABASE: SERVING, CACHE: SERVING}


async def test_photo_worker_is_serving_while_a_worker_is_connected(engine: AsyncEngine) -> None:
    servicer = health.aio.HealthServicer()
    name = f"{WORKER_APPLICATION_NAME}-test"  # no real worker runs in these tests
    monitor = HealthMonitor(servicer, {PHOTO_WORKER: photo_worker_probe(engine, name)})
    await monitor.check_once()
    assert monitor.statuses == {PHOTO_WORKER: NOT_SERVING}

    worker = create_async_engine(
        engine.url, connect_args={"server_settings": {"application_name": name}}
    )
    try:
        async with worker.connect():
            await monitor.check_once()
            assert monitor.statuses == {PHOTO_WORKER: SERVING}
    finally:
        await worker.dispose()
    # Its connection gone (a killed worker's go with its process): not serving again,
    # once PostgreSQL has ended that backend.
    for _ in range(50):
        await monitor.check_once()
        if monitor.statuses == {PHOTO_WORKER: NOT_SERVING}:
            break
        await asyncio.sleep(0.05)
    assert monitor.statuses == {PHOTO_WORKER: NOT_SERVING}
