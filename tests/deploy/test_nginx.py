"""deploy/nginx/nginx.conf: accepted by a real nginx (`nginx -t`), then run for real
in front of a real gateway process, with only the upstream host and the listen
address changed (Docker's `gateway` name does not resolve here)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from findme_devstack.unavailable import skip_or_fail

from .deployfiles import NGINX_FILE, default, ensure_tool


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"exited with {process.returncode}"
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {port}")


@pytest.fixture(scope="module")
def nginx_binary() -> str:
    binary = ensure_tool("nginx", "nginx")
    if binary is None:
        skip_or_fail("nginx is not installed and apt-get could not install it")
    return binary


def local_copy(directory: Path, gateway_port: int, listen_port: int) -> Path:
    config = NGINX_FILE.read_text()
    config, upstreams = re.subn(
        r"server gateway:(\d+);", f"server 127.0.0.1:{gateway_port};", config
    )
    assert upstreams == 1
    config, listens = re.subn(
        r"listen 80 default_server;", f"listen 127.0.0.1:{listen_port} default_server;", config
    )
    assert listens == 1
    # Runtime paths into the test's folder (the image's /tmp is the container's own).
    config = config.replace("/tmp/", f"{directory}/")
    path = directory / "nginx.conf"
    path.write_text(config)
    return path


def test_nginx_accepts_the_configuration(nginx_binary: str, tmp_path: Path) -> None:
    config = local_copy(tmp_path, 8000, free_port())
    result = subprocess.run(
        [nginx_binary, "-t", "-c", str(config), "-p", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


@pytest.fixture(scope="module")
def gateway(
    redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """The real gateway, alone: its backends point at closed ports (so /health is 503)."""
    public_pem = (
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FINDME_")}
    env.update(
        {
            "FINDME_GATEWAY_HOST": "127.0.0.1",
            "FINDME_GATEWAY_PORT": str(port),
            "FINDME_GATEWAY_TOKEN_PUBLIC_KEY": public_pem,
            "FINDME_GATEWAY_REDIS_URL": redis_url,
            "FINDME_GATEWAY_TRUSTED_PROXIES": "127.0.0.1",
            "FINDME_GATEWAY_AUTH_TARGET": f"dns:///127.0.0.1:{free_port()}",
            "FINDME_GATEWAY_EVENTS_TARGET": f"dns:///127.0.0.1:{free_port()}",
            "FINDME_GATEWAY_SELFIE_TARGET": f"dns:///127.0.0.1:{free_port()}",
        }
    )
    log = tmp_path_factory.mktemp("gateway") / "gateway.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "findme_gateway"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_port(port, process)
        yield port, process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


@pytest.fixture(scope="module")
def edge(
    nginx_binary: str,
    gateway: tuple[int, subprocess.Popen[bytes]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    # nginx workers run unprivileged and write the cache here; pytest's own folders
    # are 0700, so this one lives beside them.
    directory = Path(tempfile.mkdtemp(prefix="findme-test-nginx-"))
    directory.chmod(0o755)
    port = free_port()
    config = local_copy(directory, gateway[0], port)
    with (directory / "error.log").open("wb") as errors:
        process = subprocess.Popen(
            [nginx_binary, "-c", str(config), "-p", str(directory), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
    try:
        wait_port(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGQUIT)
        process.wait(timeout=20)
        shutil.rmtree(directory, ignore_errors=True)


def test_proxies_with_security_headers_and_keeps_gateway_answers(edge: str) -> None:
    response = httpx.get(f"{edge}/health", timeout=10)
    # The gateway's own 503 (backends down) passes through untouched, JSON and all.
    assert response.status_code == 503
    assert response.json()["components"]["gateway"]["status"] == "ok"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "server" not in response.headers or "nginx/" not in response.headers["server"]
    assert httpx.get(f"{edge}/nginx-health", timeout=5).text == "ok\n"


def test_compresses_and_caches_page_assets(edge: str) -> None:
    first = httpx.get(f"{edge}/static/api.js", headers={"accept-encoding": "gzip"}, timeout=10)
    second = httpx.get(f"{edge}/static/api.js", headers={"accept-encoding": "gzip"}, timeout=10)
    assert first.status_code == 200 and first.headers["content-encoding"] == "gzip"
    assert "function" in second.text or "=>" in second.text
    assert second.headers["x-cache-status"] == "HIT"


def test_refuses_oversized_bodies_with_a_json_error(edge: str) -> None:
    limit = int(default("gateway", "max_upload_bytes"))
    response = httpx.post(
        f"{edge}/api/upload-selfie",
        content=b"\0" * (limit + 2 * 1024 * 1024),
        headers={"content-type": "application/octet-stream"},
        timeout=30,
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"


def test_login_flood_is_refused_with_a_json_error(edge: str) -> None:
    codes: list[int] = []
    with httpx.Client(base_url=edge, timeout=10) as client:
        for _ in range(260):
            response = client.post(
                "/api/login", content=b"{}", headers={"content-type": "application/json"}
            )
            codes.append(response.status_code)
            if response.status_code == 429:
                assert response.json()["error"]["code"] == "rate_limited"
                assert response.headers["retry-after"]
                break
    # A burst of 200 passes (a venue behind one NAT), then the guard engages.
    assert codes[-1] == 429 and len(codes) > 200, codes[-5:]


def test_gateway_metrics_are_not_served_through_the_edge(edge: str) -> None:
    # nginx adds X-Forwarded-For; the gateway answers /metrics only without one.
    response = httpx.get(f"{edge}/metrics", timeout=10)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


# Stops the gateway: keep it after every test that needs one.
def test_gateway_down_is_a_json_503(
    edge: str, gateway: tuple[int, subprocess.Popen[bytes]]
) -> None:
    _, process = gateway
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=20)
    response = httpx.get(f"{edge}/", timeout=10)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    assert response.headers["retry-after"]


def _size(value: str) -> int:
    units = {"k": 1024, "m": 1024**2, "g": 1024**3}
    return int(value[:-1]) * units[value[-1].lower()] if value[-1].isalpha() else int(value)


def test_body_limits_match_the_gateway() -> None:
    from findme_gateway.app import MULTIPART_OVERHEAD
    from findme_gateway.routes.photos import UPLOAD_PATH

    config = NGINX_FILE.read_text()
    general = _size(re.search(r"^    client_max_body_size (\w+);", config, re.M).group(1))
    photo_block = re.search(r"location ~ (\S+) \{[^}]*?client_max_body_size (\w+);", config)
    assert photo_block, "no photo upload location"
    # nginx must not refuse what the gateway accepts (its own 413 is the precise one).
    assert general >= int(default("gateway", "max_upload_bytes")) + MULTIPART_OVERHEAD
    batch_limit = int(default("gateway", "max_photo_request_bytes"))
    assert _size(photo_block.group(2)) >= batch_limit + MULTIPART_OVERHEAD
    assert photo_block.group(1).replace("[0-9]", r"\d") == UPLOAD_PATH
