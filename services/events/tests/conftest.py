"""Events fixtures: a migrated fresh database, an engine on it, the use cases'
resources over it, and a real events gRPC server on a free loopback port."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from findme.events.v1 import events_pb2_grpc
from findme_common.grpc_server import start, stop
from findme_events import migrate
from findme_events.blobs import LocalBlobStore
from findme_events.cache import EventCache
from findme_events.config import EventsSettings, async_database_url
from findme_events.server import EventsApp, build, event_loader
from findme_events.usecases.resources import Resources
from grpc_health.v1 import health
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def database_url(fresh_database_url: str) -> str:
    await migrate.upgrade(fresh_database_url)
    return fresh_database_url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(async_database_url(database_url))
    yield engine
    await engine.dispose()


@pytest.fixture
async def organizer_id(engine: AsyncEngine) -> int:
    async with engine.begin() as conn:
        result = await conn.execute(
            text(
                "INSERT INTO organizers (email, password_hash) VALUES ('o@example.com', 'h') "
                "RETURNING id"
            )
        )
        return int(result.scalar_one())


@dataclass
class RunningServer:
    app: EventsApp
    stub: events_pb2_grpc.EventsServiceStub
    health: health.aio.HealthServicer
    channel: grpc.aio.Channel


@pytest.fixture
def settings(database_url: str, redis_url: str) -> EventsSettings:
    return EventsSettings(database_url=database_url, redis_url=redis_url, health_interval=0.2)


@pytest.fixture
async def events_server(settings: EventsSettings) -> AsyncIterator[RunningServer]:
    service = build(settings.model_copy(update={"port": 0, "metrics_port": 0}))
    started = await start(service)
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{started.port}")
    yield RunningServer(
        app=service.extra["app"],
        stub=events_pb2_grpc.EventsServiceStub(channel),
        health=started.health,
        channel=channel,
    )
    await channel.close()
    await stop(service, started, None)


@pytest.fixture
def resources(engine: AsyncEngine, database_url: str, tmp_path: Path) -> Resources:
    """What the use cases run against: this database, a cache without Redis, blobs in
    a temporary folder, and pages of two "my photos" items."""
    settings = EventsSettings(
        database_url=database_url,
        blob_dir=tmp_path / "blobs",
        default_match_tolerance=0.55,
        my_photos_page_size=2,
    )
    return Resources(
        engine=engine,
        cache=EventCache(redis=None, load=event_loader(engine)),
        blobs=LocalBlobStore(settings.blob_dir),
        settings=settings,
    )
