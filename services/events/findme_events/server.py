"""Builds the events GrpcService: engine, Redis and cache at start-up, disposed at
shutdown."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import grpc
from findme.events.v1 import events_pb2, events_pb2_grpc
from findme_common.grpc_server import GrpcService
from findme_common.redis_guard import open_redis
from grpc_health.v1 import health
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from findme_events.blobs import open_blob_store
from findme_events.cache import EventCache
from findme_events.config import EventsSettings, get_settings
from findme_events.database import WORKER_APPLICATION_NAME, create_engine, refusal_for
from findme_events.health import (
    CACHE,
    DATABASE,
    PHOTO_WORKER,
    HealthMonitor,
    cache_probe,
    database_probe,
    photo_worker_probe,
)
from findme_events.schemas import EventRecord
from findme_events.servicer import EventsServicer
from findme_events.store import events
from findme_events.usecases.resources import Resources

SERVICE_NAME = events_pb2.DESCRIPTOR.services_by_name["EventsService"].full_name


def event_loader(engine: AsyncEngine) -> Callable[[str], Awaitable[EventRecord | None]]:
    """The cache's source of truth: the event with a (normalised) code, from Postgres."""

    async def load(code: str) -> EventRecord | None:
        async with engine.connect() as conn:
            return await events.event_by_code(conn=conn, code=code)

    return load


@dataclass
class EventsApp:
    """Everything the running service holds; created in ``startup``."""

    settings: EventsSettings
    engine: AsyncEngine | None = None
    redis: Redis | None = None
    resources: Resources | None = None
    monitor: HealthMonitor | None = None

    async def startup(self) -> None:
        settings = self.settings
        self.engine = create_engine(settings, application_name="findme-events")
        self.redis = open_redis(
            settings.redis_url, timeout=settings.redis_timeout, decode_responses=True
        )
        cache = EventCache(
            redis=self.redis,
            load=event_loader(self.engine),
            ttl=settings.event_cache_ttl,
            negative_ttl=settings.event_cache_negative_ttl,
            local_ttl=settings.event_cache_local_ttl,
            local_size=settings.event_cache_local_size,
            redis_retry_after=settings.redis_retry_after,
        )
        self.resources = Resources(
            engine=self.engine, cache=cache, blobs=open_blob_store(settings), settings=settings
        )

    def register(self, server: grpc.aio.Server, health_servicer: health.aio.HealthServicer) -> None:
        assert self.resources is not None and self.engine is not None and self.redis is not None
        events_pb2_grpc.add_EventsServiceServicer_to_server(EventsServicer(self.resources), server)
        self.monitor = HealthMonitor(
            health_servicer,
            {
                DATABASE: database_probe(self.engine),
                CACHE: cache_probe(self.redis),
                PHOTO_WORKER: photo_worker_probe(self.engine, WORKER_APPLICATION_NAME),
            },
            interval=self.settings.health_interval,
        )
        self.monitor.start()

    async def shutdown(self) -> None:
        if self.monitor is not None:
            await self.monitor.stop()
        if self.redis is not None:
            await self.redis.aclose()
        if self.engine is not None:
            await self.engine.dispose()


def build(settings: EventsSettings | None = None) -> GrpcService:
    app = EventsApp(settings or get_settings())
    return GrpcService(
        name="events",
        settings=app.settings,
        service_names=[SERVICE_NAME],
        register=app.register,
        startup=app.startup,
        shutdown=app.shutdown,
        translate=refusal_for,
        metrics_port=app.settings.metrics_port,
        extra={"app": app},
    )
