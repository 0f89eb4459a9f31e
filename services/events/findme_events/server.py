"""Builds the events GrpcService: engine and Redis at start-up, disposed at shutdown."""

from __future__ import annotations

from dataclasses import dataclass, field

import grpc
from findme.events.v1 import events_pb2, events_pb2_grpc
from findme_common.grpc_server import GrpcService
from grpc_health.v1 import health
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from findme_events.blobs import open_blob_store
from findme_events.cache import EventCache
from findme_events.config import EventsSettings, get_settings
from findme_events.health import CACHE, DATABASE, HealthMonitor, cache_probe, database_probe
from findme_events.operations import Operations, event_loader
from findme_events.servicer import EventsServicer

SERVICE_NAME = events_pb2.DESCRIPTOR.services_by_name["EventsService"].full_name


def create_engine(settings: EventsSettings) -> AsyncEngine:
    return create_async_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
        pool_recycle=settings.db_pool_recycle,
        connect_args={"server_settings": {"application_name": "findme-events"}},
    )


def create_redis(settings: EventsSettings) -> Redis:
    # No retries: a failing Redis costs one short timeout, then the cache skips it.
    return Redis.from_url(
        settings.redis_url,
        socket_timeout=settings.redis_timeout,
        socket_connect_timeout=settings.redis_timeout,
        retry=Retry(NoBackoff(), 0),
        decode_responses=True,
    )


@dataclass
class EventsApp:
    """Everything the running service holds; created in ``startup``."""

    settings: EventsSettings
    engine: AsyncEngine | None = None
    redis: Redis | None = None
    operations: Operations | None = None
    monitor: HealthMonitor | None = None
    servicers: list[object] = field(default_factory=list)

    async def startup(self) -> None:
        settings = self.settings
        self.engine = create_engine(settings)
        self.redis = create_redis(settings)
        cache = EventCache(
            redis=self.redis,
            load=event_loader(self.engine),
            ttl=settings.event_cache_ttl,
            negative_ttl=settings.event_cache_negative_ttl,
            local_ttl=settings.event_cache_local_ttl,
            local_size=settings.event_cache_local_size,
            redis_retry_after=settings.redis_retry_after,
        )
        self.operations = Operations(
            engine=self.engine,
            cache=cache,
            default_match_tolerance=settings.default_match_tolerance,
            default_retention_days=settings.default_retention_days,
            max_selfie_bytes=settings.max_selfie_bytes,
            blobs=open_blob_store(settings),
            max_photo_bytes=settings.max_photo_bytes,
            max_photos_per_call=settings.max_photos_per_call,
            invite_ttl=settings.invite_ttl,
            page_size=settings.my_photos_page_size,
        )

    def register(self, server: grpc.aio.Server, health_servicer: health.aio.HealthServicer) -> None:
        assert self.operations is not None and self.engine is not None and self.redis is not None
        events_pb2_grpc.add_EventsServiceServicer_to_server(EventsServicer(self.operations), server)
        self.monitor = HealthMonitor(
            health_servicer,
            {DATABASE: database_probe(self.engine), CACHE: cache_probe(self.redis)},
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
        extra={"app": app},
    )
