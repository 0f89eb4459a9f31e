"""The bcrypt threads, behind the shared admission control.

pyca/bcrypt releases the GIL while hashing, so ``workers`` threads keep that many
cores busy; work beyond ``workers + queue_limit`` in flight is refused at once with
``overloaded`` and the time the queue needs to drain (``findme_common.admission``).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from findme_common.admission import AdmissionControl

T = TypeVar("T")

# A cost-12 hash on one core, until the pool has timed its own.
_FIRST_GUESS_SECONDS = 0.25
# How the pool is named in metrics (findme_pool_*{pool="bcrypt"}).
POOL_NAME = "bcrypt"


class BcryptPool:
    def __init__(self, *, workers: int, queue_limit: int) -> None:
        self.admission = AdmissionControl(
            workers=workers,
            queue_limit=queue_limit,
            first_guess_seconds=_FIRST_GUESS_SECONDS,
            name=POOL_NAME,
        )
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bcrypt")

    @property
    def in_flight(self) -> int:
        return self.admission.in_flight

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on a bcrypt thread; ``Refusal(overloaded)`` when full."""
        return await self.admission.run(self._executor, fn, *args)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
