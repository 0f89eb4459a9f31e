"""Per-client-address request limits in Redis (sliding-window counter).

Each window has one counter; the previous window's count is weighted by how much
of it still overlaps the sliding window. One pipelined round trip, no per-request
sorted sets. If Redis is unreachable the request is allowed
(``findme_common.redis_guard``): losing the limiter must not take the API down.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import redis.asyncio as redis
from findme_common.redis_guard import RedisGuard


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    # Seconds until a retry can succeed (0 when allowed).
    retry_after: int = 0


class RateLimiter:
    def __init__(
        self, client: redis.Redis, *, retry_after: float, prefix: str = "findme:gateway:rl"
    ) -> None:
        self._redis = client
        self._prefix = prefix
        self.guard = RedisGuard("rate limits", retry_after=retry_after)

    async def hit(self, bucket: str, client: str, *, limit: int, window: float) -> Decision:
        """Count one request of ``client`` against ``bucket``; refuse past ``limit``."""
        now = time.time()
        index = int(now // window)
        elapsed = (now % window) / window
        current_key = f"{self._prefix}:{bucket}:{client}:{index}"
        previous_key = f"{self._prefix}:{bucket}:{client}:{index - 1}"

        async def count() -> tuple[int, int]:
            async with self._redis.pipeline(transaction=False) as pipe:
                # SET NX EX then INCR keeps the first TTL (EXPIRE NX needs Redis 7).
                pipe.set(current_key, 0, ex=math.ceil(window * 2), nx=True)
                pipe.incr(current_key)
                pipe.get(previous_key)
                _, current, previous = await pipe.execute()
            return int(previous or 0), int(current)

        counts = await self.guard.run(count, None)
        if counts is None:
            return Decision(True)
        previous, current = counts
        estimated = previous * (1.0 - elapsed) + current
        if estimated <= limit:
            return Decision(True)
        return Decision(False, retry_after=_retry_after(previous, current, limit, window, elapsed))


def _retry_after(previous: int, current: int, limit: int, window: float, elapsed: float) -> int:
    """Seconds until the weighted count drops back under the limit (at least 1)."""
    if previous and current <= limit:
        # Wait for enough of the previous window to slide out.
        needed = 1.0 - (limit - current) / previous
        return max(1, math.ceil((needed - elapsed) * window))
    # This window is already over: wait for it to end and then partly slide out.
    rest = (1.0 - elapsed) + max(0.0, 1.0 - limit / current)
    return max(1, math.ceil(rest * window))
