"""A bounded pool of bcrypt threads.

pyca/bcrypt releases the GIL while hashing, so ``workers`` threads keep that many
cores busy. Work beyond ``workers + queue_limit`` in flight is refused at once
(``overloaded``): a queue that grows without bound only turns a burst into
timeouts for everyone, while an early refusal lets the gateway answer 503 with
Retry-After and lets a load balancer try another instance. Retry-After is the time
the work already in flight needs, so a crowd is told when to come back instead of
all retrying every second.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from findme_auth.errors import Overloaded

T = TypeVar("T")


# A cost-12 hash on one core, until the pool has timed its own.
_FIRST_GUESS_SECONDS = 0.25
# Weight of the newest job in the running mean of job time.
_SMOOTHING = 0.1


class BcryptPool:
    def __init__(self, *, workers: int, queue_limit: int) -> None:
        self.workers = workers
        self.capacity = workers + queue_limit
        self._job_seconds = _FIRST_GUESS_SECONDS
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bcrypt")
        # Counts jobs from submission until they finish *in the executor*: a caller
        # that gave up (deadline) must not free a slot its job still occupies.
        self._in_flight = 0
        self._lock = threading.Lock()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """Run ``fn(*args)`` on a bcrypt thread; raise Overloaded when the pool is full."""
        with self._lock:
            if self._in_flight >= self.capacity:
                raise Overloaded(retry_after=self._drain_seconds())
            self._in_flight += 1
        try:
            job: Future[T] = self._executor.submit(self._timed, fn, *args)
        except BaseException:
            self._release(None)
            raise
        job.add_done_callback(self._release)
        # If the caller is cancelled, wrap_future cancels a job that has not started.
        return await asyncio.wrap_future(job)

    def _timed(self, fn: Callable[..., T], *args: object) -> T:
        started = time.perf_counter()
        try:
            return fn(*args)
        finally:
            elapsed = time.perf_counter() - started
            with self._lock:
                self._job_seconds += _SMOOTHING * (elapsed - self._job_seconds)

    def _drain_seconds(self) -> float:
        """When a slot should be free again: the work in flight over the workers,
        jittered so refused callers do not all come back in the same second."""
        drain = self._in_flight * self._job_seconds / self.workers
        return max(1.0, drain * random.uniform(0.75, 1.25))

    def _release(self, _job: object) -> None:
        with self._lock:
            self._in_flight -= 1

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
