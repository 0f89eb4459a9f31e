"""Reasons and retry-after survive the trip from a real server to a client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from findme_common.grpc_errors import abort, error_reason, retry_after


async def refuse(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    if request == b"throttle":
        await abort(
            context,
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            "too_many_attempts",
            "slow down",
            retry_after=7.4,
        )
    await abort(context, grpc.StatusCode.ALREADY_EXISTS, "username_taken", "taken")


@pytest.fixture
async def target() -> AsyncIterator[str]:
    server = grpc.aio.server()
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


async def test_reason_and_code_reach_the_client(target: str) -> None:
    error = await call(target, b"")
    assert error.code() == grpc.StatusCode.ALREADY_EXISTS
    assert error.details() == "taken"
    assert error_reason(error) == "username_taken"
    assert retry_after(error) is None


async def test_retry_after_is_whole_seconds(target: str) -> None:
    error = await call(target, b"throttle")
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert error_reason(error) == "too_many_attempts"
    assert retry_after(error) == 7
