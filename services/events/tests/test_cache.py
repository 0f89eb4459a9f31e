"""Event-code cache against real Redis and real PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest
from findme_common.redis_guard import open_redis
from findme_events.cache import KEY_PREFIX, MISS, EventCache, LocalTTLCache
from findme_events.schemas import EventRecord
from findme_events.server import event_loader
from findme_events.store import events
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine


def client(url: str) -> Redis:
    return open_redis(url, timeout=0.25, decode_responses=True)


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    redis = client(redis_url)
    yield redis
    await redis.aclose()


@pytest.fixture
async def event(engine: AsyncEngine, organizer_id: int) -> EventRecord:
    async with engine.begin() as conn:
        return await events.create_event(
            conn=conn,
            organizer_id=organizer_id,
            name="Gala",
            match_tolerance=0.6,
            retention_days=30,
        )


def make_cache(redis: Redis | None, engine: AsyncEngine, **options: float) -> EventCache:
    return EventCache(redis=redis, load=event_loader(engine), **options)  # type: ignore[arg-type]


async def test_second_lookup_is_an_in_process_hit(
    redis: Redis, engine: AsyncEngine, event: EventRecord
) -> None:
    cache = make_cache(redis, engine)
    await cache.invalidate(event.code)
    assert await cache.get(event.code) == event
    assert await cache.get(event.code) == event
    assert cache.stats["database_load"] == 1
    assert cache.stats["local_hit"] == 1
    assert cache.stats["local_miss"] == 1


async def test_redis_answers_after_the_local_layer_is_cleared(
    redis: Redis, engine: AsyncEngine, event: EventRecord
) -> None:
    cache = make_cache(redis, engine)
    await cache.invalidate(event.code)
    await cache.get(event.code)
    assert 250 <= await redis.pttl(KEY_PREFIX + event.code) <= 300_000

    cache.local.clear()
    # Another instance (a fresh cache) is served by Redis too, without Postgres.
    other = make_cache(redis, engine)
    assert await cache.get(event.code) == event
    assert await other.get(event.code) == event
    assert cache.stats["redis_hit"] == 1 and other.stats["redis_hit"] == 1
    assert cache.stats["database_load"] == 1 and other.stats["database_load"] == 0


async def test_unknown_codes_are_cached_briefly(redis: Redis, engine: AsyncEngine) -> None:
    cache = make_cache(redis, engine, negative_ttl=10.0)
    code = "ZZZZZZZZ"
    await cache.invalidate(code)
    assert await cache.get(code) is None
    assert await cache.get(code) is None
    assert cache.stats["database_load"] == 1
    assert await redis.get(KEY_PREFIX + code) == "null"
    assert 0 < await redis.pttl(KEY_PREFIX + code) <= 10_000

    cache.local.clear()
    assert await cache.get(code) is None
    assert cache.stats["redis_hit"] == 1
    assert cache.stats["database_load"] == 1


async def test_invalidation_drops_both_layers_when_an_event_changes(
    redis: Redis, engine: AsyncEngine, event: EventRecord
) -> None:
    cache = make_cache(redis, engine)
    await cache.invalidate(event.code)
    assert (await cache.get(event.code)).match_tolerance == 0.6  # type: ignore[union-attr]
    async with engine.begin() as conn:
        changed = await events.update_event(conn=conn, event_id=event.id, match_tolerance=0.5)
    await cache.invalidate(event.code)
    assert await redis.get(KEY_PREFIX + event.code) is None
    assert await cache.get(event.code) == changed
    assert changed.match_tolerance == 0.5
    assert cache.stats["database_load"] == 2


async def test_redis_down_still_answers_from_postgres(
    engine: AsyncEngine, event: EventRecord, closed_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    dead = client(f"redis://127.0.0.1:{closed_port}/0")
    try:
        cache = make_cache(dead, engine, redis_retry_after=60.0)
        with caplog.at_level(logging.WARNING, logger="findme_common.redis_guard"):
            assert await cache.get(event.code) == event
            await cache.invalidate(event.code)
            cache.local.clear()
            assert await cache.get(event.code) == event
            assert await cache.get("ZZZZZZZZ") is None
        # After one failure Redis is left alone instead of costing a timeout per call:
        # the two stores, the invalidation and the two later lookups skip it.
        assert cache.redis.stats == {"failed": 1, "skipped": 6}
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1 and "redis unavailable" in warnings[0].getMessage()
    finally:
        await dead.aclose()


async def test_concurrent_misses_share_one_load(
    redis: Redis, engine: AsyncEngine, event: EventRecord
) -> None:
    cache = make_cache(redis, engine)
    await cache.invalidate(event.code)
    results = await asyncio.gather(*(cache.get(event.code) for _ in range(50)))
    assert results == [event] * 50
    assert cache.stats["database_load"] == 1


def test_local_layer_is_bounded_and_expires() -> None:
    now = [0.0]
    local = LocalTTLCache(max_size=2, clock=lambda: now[0])
    first = EventRecord(1, "AAAAAAAA", "a", 1, 0.6, 30)
    local.put("a", first, ttl=5)
    local.put("b", None, ttl=5)
    assert local.get("a") == first  # "a" is now the most recently used
    local.put("c", None, ttl=5)
    assert len(local) == 2
    assert local.get("b") is MISS  # least recently used, evicted
    assert local.get("c") is None  # a cached absence, not a miss
    now[0] = 6.0
    assert local.get("a") is MISS
