"""Per-client-address request limits in Redis (sliding-window counter).

Each window has one counter; the previous window's count is weighted by how much
of it still overlaps the sliding window. Two Redis round trips' worth of work in
one pipeline, no per-request sorted sets. If Redis is unreachable the request is
allowed: losing the limiter must not take the API down with it.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import redis.asyncio as redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# After a Redis failure, skip it for this long instead of paying a timeout per request.
_BACKOFF_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    # Seconds until a retry can succeed (0 when allowed).
    retry_after: int = 0


class RateLimiter:
    def __init__(self, client: redis.Redis, *, prefix: str = "findme:gateway:rl") -> None:
        self._redis = client
        self._prefix = prefix
        self._skip_until = 0.0

    async def hit(self, bucket: str, client: str, *, limit: int, window: float) -> Decision:
        """Count one request of ``client`` against ``bucket``; refuse past ``limit``."""
        now = time.time()
        if now < self._skip_until:
            return Decision(True)
        index = int(now // window)
        elapsed = (now % window) / window
        current_key = f"{self._prefix}:{bucket}:{client}:{index}"
        previous_key = f"{self._prefix}:{bucket}:{client}:{index - 1}"
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                # SET NX EX then INCR keeps the first TTL (EXPIRE NX needs Redis 7).
                pipe.set(current_key, 0, ex=math.ceil(window * 2), nx=True)
                pipe.incr(current_key)
                pipe.get(previous_key)
                _, current, previous = await pipe.execute()
        except (RedisError, OSError) as exc:
            self._skip_until = now + _BACKOFF_SECONDS
            log.warning("rate limiter unavailable, allowing", extra={"error": str(exc)})
            return Decision(True)

        estimated = int(previous or 0) * (1.0 - elapsed) + int(current)
        if estimated <= limit:
            return Decision(True)
        wait = _retry_after(int(previous or 0), int(current), limit, window, elapsed)
        return Decision(False, retry_after=wait)


def _retry_after(previous: int, current: int, limit: int, window: float, elapsed: float) -> int:
    """Seconds until the weighted count drops back under the limit (at least 1)."""
    if previous and current <= limit:
        # Wait for enough of the previous window to slide out.
        needed = 1.0 - (limit - current) / previous
        return max(1, math.ceil((needed - elapsed) * window))
    # This window is already over: wait for it to end and then partly slide out.
    rest = (1.0 - elapsed) + max(0.0, 1.0 - limit / current)
    return max(1, math.ceil(rest * window))
