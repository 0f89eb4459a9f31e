"""Fair shares of the image workers: per-key lanes.

Each key (an account) gets ``in_flight`` requests processed at once and ``queue``
more waiting behind them, in this process; past that, 429 ``selfie_in_progress``.
One account sending expensive selfies as fast as it can thus holds at most one
image worker, and everyone else's selfies run on the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from findme_common.refusals import Reason

from findme_gateway.errors import ApiError

# A selfie takes about a second of worker time; the client tries again after this.
LANE_RETRY_AFTER = 2


@dataclass
class _Lane:
    running: asyncio.Semaphore
    holders: int = 0


@dataclass
class Lanes:
    in_flight: int = 1
    queue: int = 2
    _lanes: dict[str, _Lane] = field(default_factory=dict)

    def holders(self, key: str) -> int:
        lane = self._lanes.get(key)
        return lane.holders if lane else 0

    @asynccontextmanager
    async def enter(self, key: str) -> AsyncIterator[None]:
        """Wait for ``key``'s turn, or refuse at once when its lane is full."""
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = _Lane(asyncio.Semaphore(self.in_flight))
        if lane.holders >= self.in_flight + self.queue:
            raise ApiError(
                Reason.SELFIE_IN_PROGRESS,
                "Your previous selfies are still being checked; wait for them.",
                headers={"Retry-After": str(LANE_RETRY_AFTER)},
            )
        lane.holders += 1
        try:
            async with lane.running:
                yield
        finally:
            lane.holders -= 1
            if lane.holders == 0:
                del self._lanes[key]
