"""Redis as an accelerator that must never take a service down with it.

``open_redis`` makes a client without retries and with short timeouts, so a slow or
absent Redis costs one short wait. ``RedisGuard.run`` then answers a fallback when a
call fails and leaves Redis alone for ``retry_after`` seconds instead of paying a
timeout on every request, logging once per outage and once on recovery.

Each guard reports under its purpose: ``findme_redis_up``, and the calls that failed
or were skipped (findme_common.metrics).

Needs the ``redis`` extra of findme-common.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Final, TypeVar

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from findme_common.metrics import REDIS_FAILED_CALLS, REDIS_SKIPPED, REDIS_UP

log = logging.getLogger(__name__)

T = TypeVar("T")

REDIS_FAILURES: Final = (RedisError, OSError, asyncio.TimeoutError)


def open_redis(url: str, *, timeout: float, decode_responses: bool = False) -> Redis:
    """A client that gives up after ``timeout`` seconds and never retries by itself."""
    return Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
        decode_responses=decode_responses,
    )


class RedisGuard:
    """Runs Redis calls for one purpose (``"event-code cache"``, ``"login throttling"``).

    ``stats`` counts ``skipped`` calls (Redis left alone after a failure) and ``failed``
    ones.
    """

    def __init__(
        self, purpose: str, *, retry_after: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.purpose = purpose
        self.retry_after = retry_after
        self._clock = clock
        self._skip_until = 0.0
        self._failing = False
        self.stats: Counter[str] = Counter()
        self._up = REDIS_UP.labels(purpose)
        self._up.set(1)
        self._failures = REDIS_FAILED_CALLS.labels(purpose)
        self._skipped = REDIS_SKIPPED.labels(purpose)

    @property
    def failing(self) -> bool:
        """True from a failure until the next call that succeeds."""
        return self._failing

    def available(self) -> bool:
        return self._clock() >= self._skip_until

    async def run(self, call: Callable[[], Awaitable[T]], fallback: T) -> T:
        """``await call()``, or ``fallback`` when Redis fails or is being left alone."""
        if not self.available():
            self.stats["skipped"] += 1
            self._skipped.inc()
            return fallback
        try:
            result = await call()
        except REDIS_FAILURES as exc:
            self._failed(exc)
            return fallback
        self._recovered()
        return result

    async def probe(self, call: Callable[[], Awaitable[object]]) -> bool:
        """Try Redis even while it is being left alone (start-up and health checks);
        True when it answered, and then regular calls use it again at once."""
        try:
            await call()
        except REDIS_FAILURES as exc:
            self._failed(exc)
            return False
        self._skip_until = 0.0
        self._recovered()
        return True

    def _failed(self, exc: BaseException) -> None:
        self.stats["failed"] += 1
        self._failures.inc()
        self._skip_until = self._clock() + self.retry_after
        if not self._failing:
            self._failing = True
            self._up.set(0)
            log.warning(
                "redis unavailable, going on without it",
                extra={"purpose": self.purpose, "error": f"{type(exc).__name__}: {exc}"},
            )

    def _recovered(self) -> None:
        if self._failing:
            self._failing = False
            self._up.set(1)
            log.info("redis reachable again", extra={"purpose": self.purpose})
