"""Short-lived reservations of a username being registered, held in Redis.

Fifty people racing for one username at one event would otherwise all pass the
availability check and each pay ~213 ms of bcrypt before the unique index turns 49
of them away. A reservation lets the first one through and answers the rest at once.
The unique index in events stays the arbiter; the reservation only saves work, so
when Redis is unreachable every request goes ahead as before.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as redis
from findme_common.redis_guard import RedisGuard

# Deletes the reservation only if it is still ours (it may have expired and been re-taken).
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class NameReservations:
    def __init__(
        self,
        client: redis.Redis,
        *,
        ttl_seconds: int,
        retry_after: float,
        prefix: str = "findme:gateway:claim",
    ) -> None:
        self._redis = client
        self._ttl = ttl_seconds
        self._prefix = prefix
        self.guard = RedisGuard("username reservations", retry_after=retry_after)

    def _key(self, scope: str, name: str) -> str:
        # Hashed: Redis holds no usernames.
        digest = hashlib.sha256(f"{scope}\0{name}".encode()).hexdigest()[:32]
        return f"{self._prefix}:{digest}"

    @asynccontextmanager
    async def reserve(self, scope: str, name: str) -> AsyncIterator[bool]:
        """Yields True when this caller may go ahead, False when another holds the name.
        Without Redis, everyone goes ahead."""
        key = self._key(scope, name)
        token = secrets.token_hex(16)

        async def take() -> bool:
            return bool(await self._redis.set(key, token, nx=True, ex=self._ttl))

        taken = await self.guard.run(take, None)
        if taken is None:  # Redis unavailable: the unique index alone decides
            yield True
            return
        if not taken:
            yield False
            return
        try:
            yield True
        finally:
            # Left to expire by itself after ttl_seconds if Redis fails now.
            await self.guard.run(lambda: self._redis.eval(_RELEASE, 1, key, token), None)
