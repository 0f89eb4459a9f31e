"""The one Dockerfile builds each service's image from its build argument: multi-stage,
exactly that service's dependency set from uv.lock, non-root, unbuffered, started by
CMD with no ENTRYPOINT, and a health check whose probe really answers (run here
against real servers)."""

from __future__ import annotations

import asyncio
import http.server
import os
import re
import socket
import subprocess
import sys
import threading
from collections.abc import AsyncIterator

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from .deployfiles import BUILD_ARG, SERVICES, dockerfile_text, image, locked_packages, stages

GRPC_SERVICES = ("auth", "events", "selfie")


@pytest.mark.parametrize("service", SERVICES)
def test_installs_exactly_its_own_dependency_set(service: str) -> None:
    built = image(service)
    runs = " ".join(built.all("RUN"))
    syncs = re.findall(r"uv sync[^&;]*", runs)
    assert syncs, "no uv sync"
    for sync in syncs:
        assert re.search(rf"--package findme-{service}(\s|$)", sync), sync
        assert "--frozen" in sync and "--no-dev" in sync, sync
        assert "--all-packages" not in sync
    assert "pip install" not in runs
    sources = [rest.split()[-2] for rest in built.all("COPY") if not rest.startswith("--from")]
    for other in SERVICES:
        if other != service:
            # Another service's manifest only (uv reads the workspace), never its code.
            theirs = [src for src in sources if src.startswith(f"services/{other}")]
            assert theirs == [f"services/{other}/pyproject.toml"], theirs
    assert f"services/{service}" in sources and "uv.lock" in " ".join(built.all("COPY"))


def test_only_the_selfie_image_carries_dlib_and_the_face_models() -> None:
    heavy = {"dlib-bin", "face-recognition", "face-recognition-models"}
    for service in SERVICES:
        package = re.search(r"--package (findme-[a-z]+)", " ".join(image(service).all("RUN")))
        assert package and package.group(1) == f"findme-{service}"
        names = locked_packages(package.group(1))
        if service == "selfie":
            assert heavy <= names
        else:
            assert not heavy & names, (service, heavy & names)


def test_the_service_is_a_required_build_argument() -> None:
    # Declared without a default before the first FROM; the final stage is the
    # service's own, so a build without the argument finds no stage and stops.
    text = dockerfile_text()
    first_from = text.index("\nFROM ")
    assert re.search(rf"^ARG {BUILD_ARG}$", text[:first_from], flags=re.M)
    final = list(stages("").values())[-1]
    assert final.base == "runtime-" and "runtime-" not in stages("")
    for service in SERVICES:
        assert f"runtime-{service}" in stages(service)


@pytest.mark.parametrize("service", SERVICES)
def test_runtime_image(service: str) -> None:
    built = image(service)
    users = built.runtime("USER")
    assert users and users[-1] not in ("root", "0")
    assert built.env()["PYTHONUNBUFFERED"] == "1"
    # CMD, no ENTRYPOINT: a command override replaces the whole command line.
    assert built.exec_form("ENTRYPOINT") is None
    assert built.effective_command() == ["python", "-m", f"findme_{service}"]
    assert "--from=build /app/.venv /app/.venv" in built.runtime("COPY")


def run_probe(service: str, port: int) -> int:
    """The image's HEALTHCHECK command, run here with this interpreter."""
    built = image(service)
    assert " CMD [" in built.runtime("HEALTHCHECK")[-1]  # exec form: no shell needed
    command = built.exec_form("HEALTHCHECK")
    assert command and command[0] == "python"
    env = {**os.environ, f"FINDME_{service.upper()}_PORT": str(port)}
    return subprocess.run(
        [sys.executable, *command[1:]], env=env, capture_output=True, timeout=30, check=False
    ).returncode


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def health_server() -> AsyncIterator[tuple[int, health.aio.HealthServicer]]:
    server = grpc.aio.server()
    servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield port, servicer
    await server.stop(0)


@pytest.mark.parametrize("service", GRPC_SERVICES)
async def test_grpc_health_probe_answers(
    service: str, health_server: tuple[int, health.aio.HealthServicer]
) -> None:
    port, servicer = health_server
    await servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    assert await asyncio.to_thread(run_probe, service, port) == 0
    await servicer.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
    assert await asyncio.to_thread(run_probe, service, port) != 0
    assert await asyncio.to_thread(run_probe, service, free_port()) != 0


def test_gateway_probe_asks_for_liveness() -> None:
    status = {"code": 200}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status["code"] if self.path == "/livez" else 404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        assert run_probe("gateway", port) == 0
        status["code"] = 500
        assert run_probe("gateway", port) != 0
    finally:
        server.shutdown()
        server.server_close()
    assert run_probe("gateway", free_port()) != 0
