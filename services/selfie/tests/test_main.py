"""``python -m findme_selfie`` as an operator runs it: env config, health, SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys

import grpc
from findme.selfie.v1 import selfie_pb2, selfie_pb2_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _wait_serving(channel: grpc.aio.Channel, process: asyncio.subprocess.Process) -> None:
    stub = health_pb2_grpc.HealthStub(channel)
    for _ in range(600):
        assert process.returncode is None, "the service exited during start-up"
        try:
            reply = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=1)
            if reply.status == health_pb2.HealthCheckResponse.SERVING:
                return
        except grpc.aio.AioRpcError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError("the service never became healthy")


async def test_the_entry_point_serves_and_stops_cleanly(read_face) -> None:
    port = _free_port()
    env = {**os.environ, "FINDME_SELFIE_PORT": str(port), "FINDME_SELFIE_WORKERS": "1"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "findme_selfie", env=env, stderr=asyncio.subprocess.PIPE
    )
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        await _wait_serving(channel, process)
        reply = await selfie_pb2_grpc.SelfieServiceStub(channel).ProcessSelfie(
            selfie_pb2.ProcessSelfieRequest(image=read_face("selfies/obama.jpg")), timeout=60
        )
        assert len(reply.encoding) == 128

        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), timeout=30) == 0
    finally:
        await channel.close()
        if process.returncode is None:
            process.kill()
            await process.wait()
    logs = (await process.stderr.read()).decode()  # type: ignore[union-attr]
    assert '"message": "serving"' in logs
    assert '"message": "stopped"' in logs
