"""Refusals cross a real gRPC server: the shared interceptor turns a raised
``Refusal`` (or a service's own exception, translated) into the reason's status,
with the reason and retry-after in trailing metadata, and ``reason_of`` reads them
back; a failure without a reason of ours is read from its status."""

from __future__ import annotations

import pickle
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from findme_common.grpc_server import ServiceInterceptor
from findme_common.refusals import (
    GRPC_STATUS,
    Reason,
    Refusal,
    reason_of,
    retry_after_of,
    status_of,
)


class DatabaseDown(Exception):
    pass


def translate(exc: Exception) -> Refusal | None:
    if isinstance(exc, DatabaseDown):
        return Refusal(Reason.DATABASE_UNAVAILABLE, "database unavailable")
    return None


async def refuse(request: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
    if request == b"throttle":
        raise Refusal(Reason.TOO_MANY_ATTEMPTS, "slow down", 7.4)
    if request == b"database":
        raise DatabaseDown()
    if request == b"bug":
        raise RuntimeError("a bug")
    if request == b"plain":
        await context.abort(grpc.StatusCode.UNAVAILABLE, "going away")
    raise Refusal(Reason.USERNAME_TAKEN, "taken")


@pytest.fixture
async def target() -> AsyncIterator[str]:
    server = grpc.aio.server(interceptors=[ServiceInterceptor(translate)])
    handler = grpc.method_handlers_generic_handler(
        "test.Refuse", {"Call": grpc.unary_unary_rpc_method_handler(refuse)}
    )
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield f"127.0.0.1:{port}"
    await server.stop(None)


async def call(target: str, payload: bytes) -> grpc.aio.AioRpcError:
    async with grpc.aio.insecure_channel(target) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await channel.unary_unary("/test.Refuse/Call")(payload, timeout=2)
    return error.value


async def test_reason_and_status_reach_the_client(target: str) -> None:
    error = await call(target, b"")
    assert status_of(error) == grpc.StatusCode.ALREADY_EXISTS
    assert error.details() == "taken"
    assert reason_of(error) is Reason.USERNAME_TAKEN
    assert retry_after_of(error) is None


async def test_retry_after_is_whole_seconds(target: str) -> None:
    error = await call(target, b"throttle")
    assert status_of(error) == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert reason_of(error) is Reason.TOO_MANY_ATTEMPTS
    assert retry_after_of(error) == 7


async def test_a_services_own_exception_is_translated(target: str) -> None:
    error = await call(target, b"database")
    assert status_of(error) == grpc.StatusCode.UNAVAILABLE
    assert reason_of(error) is Reason.DATABASE_UNAVAILABLE


async def test_without_a_reason_the_status_decides(target: str) -> None:
    assert reason_of(await call(target, b"plain")) is Reason.SERVICE_UNAVAILABLE
    bug = await call(target, b"bug")
    assert status_of(bug) == grpc.StatusCode.UNKNOWN
    assert reason_of(bug) is Reason.UPSTREAM_ERROR


def test_every_reason_a_service_raises_has_a_status_and_pickles() -> None:
    for reason in GRPC_STATUS:
        refusal = Refusal(reason, "why", 3)
        back = pickle.loads(pickle.dumps(refusal))  # from a worker process
        assert (back.reason, back.message, back.retry_after, back.status) == (
            reason,
            "why",
            3,
            GRPC_STATUS[reason],
        )
    with pytest.raises(ValueError, match="rate_limited"):
        Refusal(Reason.RATE_LIMITED, "the gateway decides this one")
