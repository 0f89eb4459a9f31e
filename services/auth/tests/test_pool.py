from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator

import pytest
from findme_auth.pool import BcryptPool
from findme_common.refusals import Refusal

WAIT = 10.0  # generous bound so a broken pool fails instead of hanging


@pytest.fixture
async def pool() -> AsyncIterator[BcryptPool]:
    pool = BcryptPool(workers=1, queue_limit=1)
    yield pool
    await asyncio.to_thread(pool.shutdown)


def blocked_job(started: threading.Event, release: threading.Event, value: int) -> int:
    started.set()
    assert release.wait(WAIT)
    return value


async def test_full_pool_refuses_at_once_and_frees_slots(pool: BcryptPool) -> None:
    release = threading.Event()
    started = threading.Event()
    running = asyncio.ensure_future(pool.run(blocked_job, started, release, 1))
    queued = asyncio.ensure_future(pool.run(blocked_job, threading.Event(), release, 2))
    await asyncio.to_thread(started.wait, WAIT)
    assert pool.in_flight == 2

    with pytest.raises(Refusal, match=r"^overloaded:") as refused:
        await pool.run(blocked_job, threading.Event(), release, 3)
    assert refused.value.reason == "overloaded"
    assert refused.value.retry_after == 1
    assert not running.done() and not queued.done()

    release.set()
    assert await asyncio.gather(running, queued) == [1, 2]
    assert pool.in_flight == 0
    assert await pool.run(pow, 2, 10) == 1024


async def test_cancelled_caller_frees_its_queued_slot(pool: BcryptPool) -> None:
    release = threading.Event()
    started = threading.Event()
    ran = threading.Event()
    running = asyncio.ensure_future(pool.run(blocked_job, started, release, 1))
    queued = asyncio.ensure_future(pool.run(blocked_job, ran, release, 2))
    await asyncio.to_thread(started.wait, WAIT)

    queued.cancel()
    with pytest.raises(asyncio.CancelledError):
        await queued
    # The queued job never started, so its slot is free again.
    assert pool.in_flight == 1
    third = asyncio.ensure_future(pool.run(blocked_job, threading.Event(), release, 3))
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(running, third) == [1, 3]
    assert not ran.is_set()


async def test_running_job_keeps_its_slot_after_caller_gives_up(pool: BcryptPool) -> None:
    release = threading.Event()
    started = threading.Event()
    running = asyncio.ensure_future(pool.run(blocked_job, started, release, 1))
    await asyncio.to_thread(started.wait, WAIT)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    # The thread is still busy hashing: it must still count against the capacity.
    assert pool.in_flight == 1
    release.set()
    for _ in range(100):
        if pool.in_flight == 0:
            break
        await asyncio.sleep(0.01)
    assert pool.in_flight == 0


async def test_workers_run_in_parallel() -> None:
    pool = BcryptPool(workers=2, queue_limit=0)
    # Each job waits for the other: this only completes if both run at the same time.
    barrier = threading.Barrier(2, timeout=WAIT)
    try:
        results = await asyncio.gather(pool.run(barrier.wait), pool.run(barrier.wait))
        assert sorted(results) == [0, 1]
    finally:
        await asyncio.to_thread(pool.shutdown)


async def test_retry_after_tells_how_long_the_work_in_flight_needs() -> None:
    pool = BcryptPool(workers=1, queue_limit=7)
    try:
        for _ in range(10):  # the pool learns that a job takes ~0.3 s
            await pool.run(time.sleep, 0.3)
        release = threading.Event()
        started = threading.Event()
        jobs = [asyncio.ensure_future(pool.run(blocked_job, started, release, i)) for i in range(8)]
        await asyncio.to_thread(started.wait, WAIT)
        with pytest.raises(Refusal, match=r"^overloaded:") as refused:
            await pool.run(pow, 2, 2)
        # 8 jobs x ~0.28 s (the running mean still remembers the first guess, 0.25 s)
        # on 1 worker, +-25 % jitter.
        assert 1.6 <= refused.value.retry_after <= 2.9
        release.set()
        await asyncio.gather(*jobs)
    finally:
        await asyncio.to_thread(pool.shutdown)
