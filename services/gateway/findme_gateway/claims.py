"""Short-lived claims on a name being registered, held in Redis.

Fifty people racing for one username at one event would otherwise all pass the
availability check and each pay ~213 ms of bcrypt before the unique index turns 49
of them away. A claim lets the first one through and answers the rest at once.
The unique index in events stays the arbiter; the claim only saves work, so when
Redis is unreachable every request goes ahead as before.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# Deletes the claim only if it is still ours (it may have expired and been re-taken).
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class NameClaims:
    def __init__(
        self, client: redis.Redis, *, ttl_seconds: int = 30, prefix: str = "findme:gateway:claim"
    ) -> None:
        self._redis = client
        self._ttl = ttl_seconds
        self._prefix = prefix

    def _key(self, scope: str, name: str) -> str:
        # Hashed: Redis holds no usernames.
        digest = hashlib.sha256(f"{scope}\0{name}".encode()).hexdigest()[:32]
        return f"{self._prefix}:{digest}"

    @asynccontextmanager
    async def claim(self, scope: str, name: str) -> AsyncIterator[bool]:
        """Yields True when this caller may go ahead, False when another holds the name."""
        key = self._key(scope, name)
        token = secrets.token_hex(16)
        try:
            taken = await self._redis.set(key, token, nx=True, ex=self._ttl)
        except (RedisError, OSError) as exc:
            log.warning("name claims unavailable, going ahead", extra={"error": str(exc)})
            yield True
            return
        if not taken:
            yield False
            return
        try:
            yield True
        finally:
            try:
                await self._redis.eval(_RELEASE, 1, key, token)
            except (RedisError, OSError) as exc:
                # It expires by itself after ttl_seconds.
                log.warning("name claim not released", extra={"error": str(exc)})
