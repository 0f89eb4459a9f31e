"""The worker pool under pressure: a full queue and a dying worker, on real processes."""

from __future__ import annotations

import asyncio
import os
import signal

import grpc
import pytest
from findme.selfie.v1 import selfie_pb2
from findme_common.refusals import reason_of as error_reason
from findme_common.refusals import retry_after_of as retry_after
from findme_devstack import faces


@pytest.fixture(scope="module")
async def single(start_selfie):
    """One worker and no waiting line: the second concurrent job is over capacity."""
    async with start_selfie(workers=1, queue_limit=0) as running:
        yield running


async def _wait_for_in_flight(pool, count: int) -> None:
    for _ in range(500):
        if pool.in_flight >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never reached {count} jobs in flight")


async def test_a_full_queue_is_refused_at_once(single, read_face) -> None:
    photo = selfie_pb2.AnalyzePhotoRequest(image=read_face(faces.CROWD))
    busy = asyncio.ensure_future(single.stub.AnalyzePhoto(photo, timeout=60))
    await _wait_for_in_flight(single.pool, 1)

    refused = await asyncio.gather(
        *(
            single.stub.ProcessSelfie(
                selfie_pb2.ProcessSelfieRequest(image=read_face("selfies/obama.jpg")), timeout=60
            )
            for _ in range(3)
        ),
        return_exceptions=True,
    )

    # Refused while the one accepted job was still running, not after waiting for it.
    assert not busy.done()
    for error in refused:
        assert isinstance(error, grpc.aio.AioRpcError)
        assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert error_reason(error) == "overloaded"
        assert retry_after(error) == 1
    assert len((await busy).faces) == 9
    assert single.pool.in_flight == 0


async def test_capacity_comes_back_after_the_burst(single, read_face) -> None:
    response = await single.stub.ProcessSelfie(
        selfie_pb2.ProcessSelfieRequest(image=read_face("selfies/obama.jpg")), timeout=60
    )

    assert len(response.encoding) == 128


async def test_a_killed_worker_fails_one_call_and_the_service_recovers(single, read_face) -> None:
    photo = selfie_pb2.AnalyzePhotoRequest(image=read_face(faces.CROWD))
    doomed = asyncio.ensure_future(single.stub.AnalyzePhoto(photo, timeout=60))
    await _wait_for_in_flight(single.pool, 1)
    (pid,) = single.pool.worker_pids()

    os.kill(pid, signal.SIGKILL)

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await doomed
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert error_reason(caught.value) == "worker_crashed"

    after = await single.stub.ProcessSelfie(
        selfie_pb2.ProcessSelfieRequest(image=read_face("selfies/obama.jpg")), timeout=60
    )
    assert len(after.encoding) == 128
    assert single.pool.worker_pids() and pid not in single.pool.worker_pids()
    assert single.pool.in_flight == 0


async def test_a_caller_giving_up_still_holds_the_slot_until_the_worker_is_done(
    single, read_face
) -> None:
    photo = selfie_pb2.AnalyzePhotoRequest(image=read_face(faces.CROWD))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await single.stub.AnalyzePhoto(photo, timeout=0.5)
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED

    # The abandoned job keeps its worker busy; the slot frees when it really ends.
    for _ in range(1000):
        if single.pool.in_flight == 0:
            break
        await asyncio.sleep(0.01)
    assert single.pool.in_flight == 0
    response = await single.stub.ProcessSelfie(
        selfie_pb2.ProcessSelfieRequest(image=read_face("selfies/obama.jpg")), timeout=60
    )
    assert len(response.encoding) == 128
