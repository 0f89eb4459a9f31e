"""A bounded pool of bcrypt threads.

pyca/bcrypt releases the GIL while hashing, so ``workers`` threads keep that many
cores busy. Work beyond ``workers + queue_limit`` in flight is refused at once
(``overloaded``): a queue that grows without bound only turns a burst into
timeouts for everyone, while an early refusal lets the gateway answer 503 with
Retry-After and lets a load balancer try another instance.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from findme_auth.errors import Overloaded

T = TypeVar("T")


class BcryptPool:
    def __init__(self, *, workers: int, queue_limit: int) -> None:
        self.workers = workers
        self.capacity = workers + queue_limit
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
                raise Overloaded()
            self._in_flight += 1
        try:
            job: Future[T] = self._executor.submit(fn, *args)
        except BaseException:
            self._release(None)
            raise
        job.add_done_callback(self._release)
        # If the caller is cancelled, wrap_future cancels a job that has not started.
        return await asyncio.wrap_future(job)

    def _release(self, _job: object) -> None:
        with self._lock:
            self._in_flight -= 1

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
