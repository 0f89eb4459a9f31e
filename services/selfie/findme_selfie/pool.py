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
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from findme_common.admission import AdmissionControl
from findme_common.refusals import Reason, Refusal

log = logging.getLogger(__name__)

T = TypeVar("T")

_PRELOAD = ["findme_selfie.pipelines", "findme_selfie.faces"]
# One worker per core already fills the machine; a native thread pool inside a worker
# (OpenBLAS under numpy, OpenMP) would only oversubscribe it. Read when those libraries
# load, i.e. in the forkserver, which inherits this process's environment.
_SINGLE_THREADED = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _init_worker() -> None:
    from findme_selfie import faces

    faces.warm_up()


def _ping() -> int:
    return os.getpid()


# A selfie job on one core, until the pool has timed its own.
_FIRST_GUESS_SECONDS = 0.15
# How the pool is named in metrics (findme_pool_*{pool="selfie"}).
POOL_NAME = "selfie"


class WorkerPool:
    """Runs jobs in ``workers`` processes with at most ``queue_limit`` waiting, behind
    the shared admission control (``overloaded`` with Retry-After when full)."""

    def __init__(self, *, workers: int, queue_limit: int) -> None:
        self.workers = workers
        self.admission = AdmissionControl(
            workers=workers,
            queue_limit=queue_limit,
            first_guess_seconds=_FIRST_GUESS_SECONDS,
            name=POOL_NAME,
        )
        self._lock = threading.Lock()
        self._context = multiprocessing.get_context("forkserver")
        # Imported once in the forkserver; forked workers inherit the loaded models.
        self._context.set_forkserver_preload(_PRELOAD)
        self._executor: ProcessPoolExecutor | None = None

    @property
    def in_flight(self) -> int:
        return self.admission.in_flight

    @property
    def capacity(self) -> int:
        return self.admission.capacity

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
        """Run ``fn(*args)`` in a worker; ``Refusal`` overloaded or worker_crashed."""
        executor = self._executor
        if executor is None:
            raise RuntimeError("the worker pool is not started")
        try:
            return await self.admission.run(executor, fn, *args)
        except BrokenProcessPool:
            self._replace(executor)
            raise Refusal(
                Reason.WORKER_CRASHED, "the image worker stopped unexpectedly; retry", 1
            ) from None

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
