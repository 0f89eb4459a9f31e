"""Bounded admission on a real thread pool: work past capacity is refused at once
with a drain estimate; slots are held until the executor is really done."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from findme_common.admission import AdmissionControl, timed_call
from findme_common.refusals import Refusal
from prometheus_client import REGISTRY

WAIT = 10


def blocked(started: threading.Event, release: threading.Event, value: int) -> int:
    started.set()
    release.wait(WAIT)
    return value


@pytest.fixture
def executor() -> Iterator[ThreadPoolExecutor]:
    pool = ThreadPoolExecutor(max_workers=1)
    yield pool
    pool.shutdown(wait=True, cancel_futures=True)


async def test_past_capacity_is_refused_with_the_time_to_drain(
    executor: ThreadPoolExecutor,
) -> None:
    admission = AdmissionControl(workers=1, queue_limit=1, first_guess_seconds=2.0)
    release, started = threading.Event(), threading.Event()
    running = asyncio.ensure_future(admission.run(executor, blocked, started, release, 1))
    queued = asyncio.ensure_future(admission.run(executor, blocked, threading.Event(), release, 2))
    await asyncio.to_thread(started.wait, WAIT)
    assert admission.in_flight == 2

    with pytest.raises(Refusal, match=r"^overloaded:") as refused:
        await admission.run(executor, pow, 2, 3)
    # Two jobs of ~2 s each on one worker, jittered by up to a quarter.
    assert refused.value.retry_after is not None and 3.0 <= refused.value.retry_after <= 5.0

    release.set()
    assert await asyncio.gather(running, queued) == [1, 2]
    assert admission.in_flight == 0
    assert await admission.run(executor, pow, 2, 10) == 1024
    assert admission.job_seconds < 2.0  # the mean moved towards the measured jobs


async def test_a_caller_that_gives_up_keeps_its_running_job_counted(
    executor: ThreadPoolExecutor,
) -> None:
    admission = AdmissionControl(workers=1, queue_limit=0, first_guess_seconds=0.1)
    release, started = threading.Event(), threading.Event()
    caller = asyncio.ensure_future(admission.run(executor, blocked, started, release, 1))
    await asyncio.to_thread(started.wait, WAIT)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    # The thread still works on it: the slot is not free until it finishes.
    assert admission.in_flight == 1
    with pytest.raises(Refusal, match=r"^overloaded:"):
        await admission.run(executor, pow, 2, 2)
    release.set()
    for _ in range(100):
        if admission.in_flight == 0:
            break
        await asyncio.sleep(0.01)
    assert admission.in_flight == 0


async def test_a_failing_job_frees_its_slot_and_raises(executor: ThreadPoolExecutor) -> None:
    admission = AdmissionControl(workers=1, queue_limit=0, first_guess_seconds=0.1)
    with pytest.raises(ZeroDivisionError):
        await admission.run(executor, divmod, 1, 0)
    assert admission.in_flight == 0


def test_timed_call_measures_the_job() -> None:
    result, seconds = timed_call(sum, [1, 2, 3])
    assert result == 6 and 0 <= seconds < 1
    with pytest.raises(ValueError, match="workers"):
        AdmissionControl(workers=0, queue_limit=0, first_guess_seconds=1)


def pool_metric(name: str, pool: str) -> float | None:
    return REGISTRY.get_sample_value(name, {"pool": pool})


async def test_the_pool_reports_size_busy_workers_queue_refusals_and_job_time(
    executor: ThreadPoolExecutor,
) -> None:
    admission = AdmissionControl(
        workers=1, queue_limit=1, first_guess_seconds=0.1, name="metrics-test"
    )
    assert pool_metric("findme_pool_workers", "metrics-test") == 1
    assert pool_metric("findme_pool_queue_limit", "metrics-test") == 1
    release, started = threading.Event(), threading.Event()
    running = asyncio.ensure_future(admission.run(executor, blocked, started, release, 1))
    queued = asyncio.ensure_future(admission.run(executor, blocked, threading.Event(), release, 2))
    await asyncio.to_thread(started.wait, WAIT)
    assert pool_metric("findme_pool_busy_workers", "metrics-test") == 1
    assert pool_metric("findme_pool_queued_jobs", "metrics-test") == 1
    with pytest.raises(Refusal):
        await admission.run(executor, pow, 2, 3)
    assert pool_metric("findme_pool_refusals_total", "metrics-test") == 1

    release.set()
    await asyncio.gather(running, queued)
    assert pool_metric("findme_pool_busy_workers", "metrics-test") == 0
    assert pool_metric("findme_pool_queued_jobs", "metrics-test") == 0
    assert pool_metric("findme_pool_job_seconds_count", "metrics-test") == 2
