"""A bounded process pool for the dlib work.

dlib holds the GIL, so jobs run in worker processes. The pool is created before the
gRPC server exists: the forkserver is started from a process without gRPC threads,
and every later worker (including replacements after a crash) forks from it with the
models already imported.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

_PRELOAD = ["findme_selfie.pipelines", "findme_selfie.faces"]
# One worker per core already fills the machine; a native thread pool inside a worker
# (OpenBLAS under numpy, OpenMP) would only oversubscribe it. Read when those libraries
# load, i.e. in the forkserver, which inherits this process's environment.
_SINGLE_THREADED = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


class Overloaded(Exception):
    """Every worker is busy and the waiting line is full."""

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        # Seconds until the work in flight should have drained.
        self.retry_after = retry_after


class WorkerCrashed(Exception):
    """The worker running the job died (killed, out of memory, native crash)."""


def _init_worker() -> None:
    from findme_selfie import faces

    faces.warm_up()


def _ping() -> int:
    return os.getpid()


def _timed(fn: Callable[..., T], *args: Any) -> tuple[T, float]:
    """Runs in the worker: the result and how long the job itself took."""
    started = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - started


# A selfie job on one core, until the pool has timed its own; weight of the newest job.
_FIRST_GUESS_SECONDS = 0.15
_SMOOTHING = 0.1


class WorkerPool:
    """Runs jobs in ``workers`` processes with at most ``queue_limit`` waiting.

    Refusing at once when full keeps latency bounded under a flood: callers get
    ``overloaded`` with Retry-After instead of timing out in a queue.
    """

    def __init__(self, *, workers: int, queue_limit: int) -> None:
        self.workers = workers
        self.capacity = workers + queue_limit
        self._lock = threading.Lock()
        self._in_flight = 0
        self._job_seconds = _FIRST_GUESS_SECONDS
        self._context = multiprocessing.get_context("forkserver")
        # Imported once in the forkserver; forked workers inherit the loaded models.
        self._context.set_forkserver_preload(_PRELOAD)
        self._executor: ProcessPoolExecutor | None = None

    @property
    def in_flight(self) -> int:
        return self._in_flight

    async def start(self) -> None:
        """Start and warm every worker, so the first requests do not pay for it."""
        for variable in _SINGLE_THREADED:
            os.environ.setdefault(variable, "1")
        self._executor = self._new_executor()
        await self._warm(self._executor)
        log.info("worker pool ready", extra={"workers": self.workers, "capacity": self.capacity})

    def _new_executor(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.workers, mp_context=self._context, initializer=_init_worker
        )

    async def _warm(self, executor: ProcessPoolExecutor) -> None:
        # Workers spawn on demand; one job per worker while none is idle starts them all.
        pings = [asyncio.wrap_future(executor.submit(_ping)) for _ in range(self.workers)]
        await asyncio.gather(*pings)

    def worker_pids(self) -> list[int]:
        processes = getattr(self._executor, "_processes", None) or {}
        return list(processes)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` in a worker. Raises Overloaded or WorkerCrashed."""
        executor = self._executor
        if executor is None:
            raise RuntimeError("the worker pool is not started")
        with self._lock:
            if self._in_flight >= self.capacity:
                raise Overloaded(
                    f"{self._in_flight} jobs in flight", retry_after=self._drain_seconds()
                )
            self._in_flight += 1
        try:
            future: Future[tuple[T, float]] = executor.submit(_timed, fn, *args)
        except BrokenProcessPool:
            self._release(None)
            self._replace(executor)
            raise WorkerCrashed("the worker pool was broken") from None
        # Count the slot until the worker is really done, even if the caller gave up.
        future.add_done_callback(self._release)
        try:
            result, _seconds = await asyncio.wrap_future(future)
            return result
        except BrokenProcessPool:
            self._replace(executor)
            raise WorkerCrashed("a worker process died while running the job") from None

    def _release(self, future: Future[Any] | None) -> None:
        ran = future is not None and not future.cancelled() and future.exception() is None
        with self._lock:
            self._in_flight -= 1
            if ran:
                seconds = future.result()[1]  # type: ignore[union-attr]
                self._job_seconds += _SMOOTHING * (seconds - self._job_seconds)

    def _drain_seconds(self) -> float:
        """When a slot should be free again: the work in flight over the workers,
        jittered so refused callers do not all come back in the same second."""
        drain = self._in_flight * self._job_seconds / self.workers
        return max(1.0, drain * random.uniform(0.75, 1.25))

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        # Several calls fail together when a worker dies; only the first replaces.
        with self._lock:
            if self._executor is not broken:
                return
            self._executor = self._new_executor()
        log.error("worker process died; worker pool recreated")
        broken.shutdown(wait=False, cancel_futures=True)

    async def close(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)
