"""Per-account lanes: one selfie checked at a time, two waiting, the rest refused."""

from __future__ import annotations

import asyncio

import pytest
from findme_gateway.errors import ApiError
from findme_gateway.fairness import Lanes


async def test_one_runs_two_wait_the_fourth_is_refused_and_others_are_not_held_up() -> None:
    lanes = Lanes(in_flight=1, queue=2)
    release = asyncio.Event()
    running: list[int] = []
    finished: list[int] = []

    async def selfie(number: int, key: str = "attendee:1") -> None:
        async with lanes.enter(key):
            running.append(number)
            await release.wait()
            finished.append(number)

    tasks = [asyncio.ensure_future(selfie(n)) for n in range(3)]
    await asyncio.sleep(0.05)
    assert running == [0]  # one in flight, two queued
    assert lanes.holders("attendee:1") == 3

    with pytest.raises(ApiError) as refused:
        async with lanes.enter("attendee:1"):
            pass
    assert refused.value.reason == "selfie_in_progress"
    assert refused.value.status_code == 429
    assert refused.value.headers["Retry-After"] == "2"

    # Another account is not behind the first one's queue.
    other = asyncio.ensure_future(selfie(99, "attendee:2"))
    await asyncio.sleep(0.05)
    assert running == [0, 99]

    release.set()
    await asyncio.gather(*tasks, other)
    assert sorted(finished) == [0, 1, 2, 99]
    assert lanes.holders("attendee:1") == 0
    assert not lanes._lanes  # nothing kept for accounts with nothing in flight


async def test_a_failed_selfie_frees_its_place() -> None:
    lanes = Lanes(in_flight=1, queue=0)
    with pytest.raises(RuntimeError):
        async with lanes.enter("k"):
            raise RuntimeError("selfie service down")
    async with lanes.enter("k"):
        assert lanes.holders("k") == 1
