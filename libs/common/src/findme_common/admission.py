"""Bounded admission to a pool of CPU workers (threads or processes).

``workers`` jobs run, ``queue_limit`` more may wait; beyond that a job is refused at
once with ``overloaded``. A queue that grows without bound only turns a burst into
timeouts for everyone, while an early refusal lets the gateway answer 503 with
Retry-After and lets a load balancer try another instance. Retry-After is the time
the work already in flight needs to drain (from a running mean of measured job
times), jittered so a refused crowd does not come back in the same second.

A job counts from submission until it finishes *in the executor*: a caller that gave
up (deadline) must not free a slot its job still occupies.

Each pool reports under its name (``findme_pool_*`` in findme_common.metrics): size,
busy workers, queue depth, refusals and job time.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, TypeVar

from findme_common.metrics import (
    POOL_BUSY,
    POOL_JOB_SECONDS,
    POOL_QUEUE_LIMIT,
    POOL_QUEUED,
    POOL_REFUSALS,
    POOL_WORKERS,
)
from findme_common.refusals import Reason, Refusal

T = TypeVar("T")

# Weight of the newest job in the running mean of job time.
_SMOOTHING = 0.1


def timed_call(fn: Callable[..., T], *args: Any) -> tuple[T, float]:
    """Runs in the worker: the result and how long the job itself took (picklable)."""
    started = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - started


class AdmissionControl:
    def __init__(
        self, *, workers: int, queue_limit: int, first_guess_seconds: float, name: str = "pool"
    ) -> None:
        if workers < 1 or queue_limit < 0:
            raise ValueError("workers >= 1 and queue_limit >= 0")
        self.workers = workers
        self.capacity = workers + queue_limit
        self._job_seconds = first_guess_seconds
        self._in_flight = 0
        self._lock = threading.Lock()
        POOL_WORKERS.labels(name).set(workers)
        POOL_QUEUE_LIMIT.labels(name).set(queue_limit)
        # Read at scrape time: nothing to update on the hot path.
        POOL_BUSY.labels(name).set_function(lambda: min(self._in_flight, self.workers))
        POOL_QUEUED.labels(name).set_function(lambda: max(0, self._in_flight - self.workers))
        self._refusals = POOL_REFUSALS.labels(name)
        self._job_time = POOL_JOB_SECONDS.labels(name)

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def job_seconds(self) -> float:
        """Running mean of how long one job takes on one worker."""
        return self._job_seconds

    async def run(self, executor: Executor, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on ``executor``, or ``Refusal(overloaded)`` when full.

        Exceptions of the executor itself (a broken process pool) reach the caller.
        """
        with self._lock:
            if self._in_flight >= self.capacity:
                self._refusals.inc()
                raise Refusal(
                    Reason.OVERLOADED,
                    f"all {self.workers} workers are busy and {self.capacity - self.workers} "
                    "jobs wait; retry shortly",
                    self._drain_seconds(),
                )
            self._in_flight += 1
        try:
            future: Future[tuple[T, float]] = executor.submit(timed_call, fn, *args)
        except BaseException:
            self._done(None)
            raise
        future.add_done_callback(self._done)
        # If the caller is cancelled, wrap_future cancels a job that has not started.
        result, _seconds = await asyncio.wrap_future(future)
        return result

    def _done(self, future: Future[tuple[Any, float]] | None) -> None:
        ran = future is not None and not future.cancelled() and future.exception() is None
        seconds = future.result()[1] if ran and future is not None else None
        with self._lock:
            self._in_flight -= 1
            if seconds is not None:
                self._job_seconds += _SMOOTHING * (seconds - self._job_seconds)
        if seconds is not None:
            self._job_time.observe(seconds)

    def _drain_seconds(self) -> float:
        drain = self._in_flight * self._job_seconds / self.workers
        return max(1.0, drain * random.uniform(0.75, 1.25))
