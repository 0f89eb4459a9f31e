"""The shared bootstrap, exercised on a real server process."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import httpx
import pytest
from findme_common import grpc_server
from findme_common.grpc_client import open_channel
from findme_common.logging import request_id_var
from findme_common.refusals import Reason, reason_of
from findme_common.settings import ServiceSettings
from findme_devstack.embedded import free_port
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from prometheus_client.parser import text_string_to_metric_families

ECHO = Path(__file__).with_name("echo_service.py")


class EchoServer:
    def __init__(self, port: int, process: subprocess.Popen[bytes], metrics_port: int) -> None:
        self.port = port
        self.process = process
        self.metrics_port = metrics_port

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"


async def wait_serving(target: str) -> None:
    async with grpc.aio.insecure_channel(target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        for _ in range(100):
            try:
                reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.aio.AioRpcError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("echo service never became healthy")


@pytest.fixture
async def echo_server() -> AsyncIterator[EchoServer]:
    port, metrics_port = free_port(), free_port()
    # Popen returns at once; the server's start is awaited below.
    process = subprocess.Popen(  # noqa: ASYNC220
        [sys.executable, str(ECHO), str(port), str(metrics_port)],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
    )
    server = EchoServer(port, process, metrics_port)
    try:
        await wait_serving(server.target)
        yield server
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        assert process.stderr is not None
        process.stderr.close()


def unary(channel: grpc.aio.Channel, method: str) -> grpc.aio.UnaryUnaryMultiCallable:
    return channel.unary_unary(f"/test.Echo/{method}")


async def test_health_reports_each_service_serving(echo_server: EchoServer) -> None:
    async with grpc.aio.insecure_channel(echo_server.target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        for name in ("", "test.Echo"):
            reply = await stub.Check(health_pb2.HealthCheckRequest(service=name), timeout=2)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
        with pytest.raises(grpc.aio.AioRpcError) as unknown:
            await stub.Check(health_pb2.HealthCheckRequest(service="nope"), timeout=2)
        assert unknown.value.code() == grpc.StatusCode.NOT_FOUND


async def test_reflection_lists_services(echo_server: EchoServer) -> None:
    async with grpc.aio.insecure_channel(echo_server.target) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        names: set[str] = set()
        async for reply in stub.ServerReflectionInfo(iter([request]), timeout=2):
            names |= {s.name for s in reply.list_services_response.service}
    assert {"test.Echo", "grpc.health.v1.Health"} <= names


async def test_request_id_travels_from_client_context_to_server(echo_server: EchoServer) -> None:
    channel = open_channel(f"dns:///{echo_server.target}")
    try:
        token = request_id_var.set("req-1234")
        try:
            seen = await unary(channel, "RequestId")(b"", timeout=2)
        finally:
            request_id_var.reset(token)
        assert seen == b"req-1234"
        assert await unary(channel, "RequestId")(b"", timeout=2) == b""
    finally:
        await channel.close()


async def test_sigterm_drains_in_flight_calls_and_reports_not_serving(
    echo_server: EchoServer,
) -> None:
    async with grpc.aio.insecure_channel(echo_server.target) as channel:
        watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest())
        assert (await watch.read()).status == health_pb2.HealthCheckResponse.SERVING
        in_flight = asyncio.ensure_future(unary(channel, "Slow")(b"1.5", timeout=10))
        await asyncio.sleep(0.3)
        echo_server.process.send_signal(signal.SIGTERM)
        assert (await watch.read()).status == health_pb2.HealthCheckResponse.NOT_SERVING
        assert await in_flight == b"done"
    assert await asyncio.to_thread(echo_server.process.wait, 10) == 0
    assert echo_server.process.stderr is not None
    logs = [json.loads(line) for line in echo_server.process.stderr.read().splitlines()]
    messages = [entry["message"] for entry in logs]
    assert messages[-1] == "stopped"
    assert messages.index("shutting down") < messages.index("stopped")
    assert all(entry["service"] == "echo" for entry in logs)


async def test_port_zero_binds_a_free_port_and_writes_it_to_the_port_file(
    tmp_path: Path,
) -> None:
    port_file = tmp_path / "echo.port"
    process = subprocess.Popen(  # noqa: ASYNC220
        [sys.executable, str(ECHO), "0", "-", str(port_file)],
        stderr=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            if port_file.exists() or process.poll() is not None:
                break
            await asyncio.sleep(0.1)
        port = int(port_file.read_text())
        assert port > 0
        await wait_serving(f"127.0.0.1:{port}")
    finally:
        process.kill()
        process.wait()


def _idle_service(port: int) -> grpc_server.GrpcService:
    return grpc_server.GrpcService(
        name="idle",
        settings=ServiceSettings(port=port),
        service_names=[],
        register=lambda server, health_servicer: None,
    )


async def test_a_second_server_cannot_share_a_bound_port() -> None:
    # With gRPC's default SO_REUSEPORT both would bind and split the calls between them.
    first = await grpc_server.start(_idle_service(0))
    try:
        with pytest.raises(SystemExit, match="cannot bind"):
            await grpc_server.start(_idle_service(first.port))
    finally:
        await first.server.stop(None)


def scrape(port: int) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_every_call_is_counted_by_method_and_code_on_the_metrics_port(
    echo_server: EchoServer,
) -> None:
    async with grpc.aio.insecure_channel(echo_server.target) as channel:
        for _ in range(3):
            await unary(channel, "RequestId")(b"", timeout=2)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await unary(channel, "Refuse")(b"", timeout=2)
        assert reason_of(refused.value) is Reason.OVERLOADED

    samples = await asyncio.to_thread(scrape, echo_server.metrics_port)

    def value(name: str, **labels: str) -> float | None:
        return samples.get((name, frozenset(labels.items())))

    echo = {"grpc_service": "test.Echo"}
    assert value("grpc_server_handled_total", **echo, grpc_method="RequestId", grpc_code="OK") == 3
    assert (
        value(
            "grpc_server_handled_total",
            **echo,
            grpc_method="Refuse",
            grpc_code="RESOURCE_EXHAUSTED",
        )
        == 1
    )
    assert (
        value("findme_rpc_refusals_total", **echo, grpc_method="Refuse", reason="overloaded") == 1
    )
    assert value("grpc_server_handling_seconds_count", **echo, grpc_method="RequestId") == 3
    # Every call lands in a bucket: the +Inf bucket holds all of them.
    assert (
        value("grpc_server_handling_seconds_bucket", **echo, grpc_method="RequestId", le="+Inf")
        == 3
    )
