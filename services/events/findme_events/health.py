"""Component health: probes Postgres, Redis and the photo workers in the background
and publishes the results as gRPC health statuses "database", "cache" and
"photo_worker" (and as the metric ``findme_component_up``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from grpc_health.v1 import health, health_pb2
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from findme_events.metrics import COMPONENT_UP

log = logging.getLogger(__name__)

DATABASE = "database"
CACHE = "cache"
PHOTO_WORKER = "photo_worker"

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING

Probe = Callable[[], Awaitable[object]]


def database_probe(engine: AsyncEngine) -> Probe:
    async def probe() -> None:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    return probe


class NoPhotoWorker(Exception):
    """No photo worker holds a connection to the database."""


def photo_worker_probe(engine: AsyncEngine, application_name: str) -> Probe:
    """Serving while at least one photo worker is connected. A worker holds its pooled
    connections while it runs, and a killed one's vanish with its process, so this
    needs no heartbeat of its own."""

    async def probe() -> None:
        async with engine.connect() as connection:
            workers = await connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE application_name = :name AND datname = current_database()"
                ),
                {"name": application_name},
            )
        if not workers:
            raise NoPhotoWorker("no photo worker is connected")

    return probe


def cache_probe(redis: Redis) -> Probe:
    async def probe() -> None:
        await redis.ping()

    return probe


class HealthMonitor:
    """Runs every probe each ``interval`` seconds; a probe that raises or exceeds
    ``timeout`` marks its component NOT_SERVING."""

    def __init__(
        self,
        servicer: health.aio.HealthServicer,
        probes: dict[str, Probe],
        *,
        interval: float = 2.0,
        timeout: float = 1.5,
    ) -> None:
        self._servicer = servicer
        self._probes = probes
        self._interval = interval
        self._timeout = timeout
        self._task: asyncio.Task[None] | None = None
        self.statuses: dict[str, int] = {}

    async def check_once(self) -> None:
        results = await asyncio.gather(*(self._check(name) for name in self._probes))
        for name, (status, error) in zip(self._probes, results, strict=True):
            if self.statuses.get(name) != status:
                log.log(
                    logging.INFO if status == SERVING else logging.WARNING,
                    "component health changed",
                    extra={"component": name, "serving": status == SERVING, "error": error},
                )
            self.statuses[name] = status
            COMPONENT_UP.labels(name).set(1 if status == SERVING else 0)
            await self._servicer.set(name, status)

    async def _check(self, name: str) -> tuple[int, str | None]:
        try:
            await asyncio.wait_for(self._probes[name](), self._timeout)
        except Exception as exc:  # any failure means "not serving"; logged on change
            return NOT_SERVING, repr(exc)
        return SERVING, None

    async def _run(self) -> None:
        while True:
            try:
                await self.check_once()
            except Exception:  # a bug here must not stop health reporting for good
                log.exception("health check failed")
            await asyncio.sleep(self._interval)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="health")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
