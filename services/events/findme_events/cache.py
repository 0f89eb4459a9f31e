"""Event-code lookups: a small in-process TTL cache in front of Redis in front of
Postgres.

Everyone joining an event types the same code, so lookups are very hot and almost
never change. Unknown codes are cached briefly too (typos, guessing). Redis is an
accelerator only (``findme_common.redis_guard``): when it fails, lookups go to
Postgres, a warning is logged, and Redis is left alone for a moment instead of
costing a timeout on every call.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable
from typing import Final

from findme_common.redis_guard import RedisGuard
from redis.asyncio import Redis

from findme_events.metrics import CACHE_LOOKUPS
from findme_events.schemas import EventRecord

log = logging.getLogger(__name__)

KEY_PREFIX: Final = "findme:events:code:"
_ABSENT: Final = "null"

Loader = Callable[[str], Awaitable[EventRecord | None]]


class Miss:
    pass


MISS: Final = Miss()


class LocalTTLCache:
    """Bounded LRU whose entries expire; values may be None (cached absence)."""

    def __init__(self, max_size: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_size = max_size
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, EventRecord | None]] = OrderedDict()

    def get(self, key: str) -> EventRecord | Miss | None:
        entry = self._entries.get(key)
        if entry is None:
            return MISS
        expires_at, value = entry
        if expires_at <= self._clock():
            del self._entries[key]
            return MISS
        self._entries.move_to_end(key)
        return value

    def put(self, key: str, value: EventRecord | None, ttl: float) -> None:
        self._entries[key] = (self._clock() + ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_size:
            self._entries.popitem(last=False)

    def pop(self, key: str) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


class EventCache:
    """``get(code)`` -> the event or None; ``invalidate(code)`` after an event changes.

    ``stats`` counts hits and misses by layer (also exported as
    ``findme_event_cache_lookups_total``); ``redis.stats`` counts Redis calls skipped
    or failed.
    """

    def __init__(
        self,
        *,
        redis: Redis | None,
        load: Loader,
        ttl: float = 300.0,
        negative_ttl: float = 10.0,
        local_ttl: float = 30.0,
        local_size: int = 4096,
        redis_retry_after: float = 2.0,
    ) -> None:
        self._redis = redis
        self._load = load
        self.ttl = ttl
        self.negative_ttl = negative_ttl
        self.local_ttl = local_ttl
        self.local = LocalTTLCache(local_size)
        self.redis = RedisGuard("event-code cache", retry_after=redis_retry_after)
        # One fetch per code at a time: a crowd arriving together hits the cache
        # on the same code in the same millisecond.
        self._inflight: dict[str, asyncio.Future[EventRecord | None]] = {}
        # Bumped on invalidation so a fetch that started before it is not stored.
        self._generation = 0
        self.stats: Counter[str] = Counter()
        self._lookups = {
            key: CACHE_LOOKUPS.labels(*key.split("_"))
            for key in ("local_hit", "local_miss", "redis_hit", "redis_miss", "database_load")
        }

    def _count(self, key: str) -> None:
        self.stats[key] += 1
        self._lookups[key].inc()

    async def get(self, code: str) -> EventRecord | None:
        cached = self.local.get(code)
        if not isinstance(cached, Miss):
            self._count("local_hit")
            return cached
        self._count("local_miss")
        future = self._inflight.get(code)
        if future is None:
            future = asyncio.ensure_future(self._fetch(code))
            self._inflight[code] = future
            future.add_done_callback(lambda done: self._forget(code, done))
        # Shielded: one caller's cancellation must not cancel everyone's fetch.
        return await asyncio.shield(future)

    def _forget(self, code: str, done: asyncio.Future[EventRecord | None]) -> None:
        if self._inflight.get(code) is done:
            del self._inflight[code]

    async def _fetch(self, code: str) -> EventRecord | None:
        generation = self._generation
        found, event = await self._redis_get(code)
        if found:
            self._count("redis_hit")
        else:
            self._count("redis_miss")
            self._count("database_load")
            event = await self._load(code)
            if generation == self._generation:
                await self._redis_set(code, event)
        if generation == self._generation:
            ttl = self.local_ttl if event is not None else min(self.local_ttl, self.negative_ttl)
            self.local.put(code, event, ttl)
        return event

    async def invalidate(self, code: str) -> None:
        """Drop ``code`` from both layers (call after the change is committed)."""
        self._generation += 1
        self.local.pop(code)
        self._inflight.pop(code, None)
        if self._redis is not None:
            redis = self._redis
            await self.redis.run(lambda: redis.delete(KEY_PREFIX + code), None)

    # -- Redis, never fatal ----------------------------------------------------------

    async def _redis_get(self, code: str) -> tuple[bool, EventRecord | None]:
        if self._redis is None:
            return False, None
        redis = self._redis
        raw = await self.redis.run(lambda: redis.get(KEY_PREFIX + code), None)
        if raw is None:
            return False, None
        try:
            data = json.loads(raw)
            return True, None if data is None else EventRecord.from_json(data)
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring malformed cache entry", extra={"code": code})
            return False, None

    async def _redis_set(self, code: str, event: EventRecord | None) -> None:
        if self._redis is None:
            return
        redis = self._redis
        value = _ABSENT if event is None else json.dumps(event.to_json())
        ttl = self.ttl if event is not None else self.negative_ttl
        await self.redis.run(
            lambda: redis.set(KEY_PREFIX + code, value, px=max(1, int(ttl * 1000))), None
        )
