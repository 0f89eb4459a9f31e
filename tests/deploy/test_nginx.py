"""deploy/nginx/nginx.conf: accepted by a real nginx (`nginx -t`), then run for real
in front of a real gateway process (tests/deploy/edge.py changes only what a test
machine needs: listen address, DNS server, file paths)."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from findme_devstack.unavailable import skip_or_fail

from .deployfiles import NGINX_FILE, default, ensure_tool
from .dns import DnsServer
from .edge import (
    Gateway,
    free_port,
    local_config,
    start_gateway,
    start_nginx,
    stop_nginx,
    wait_port,
)

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "permissions-policy": "camera=(self), geolocation=(), microphone=()",
}
GATEWAY_HOST = "127.0.0.2"


def assert_security_headers(response: httpx.Response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (response.status_code, name)


@pytest.fixture(scope="module")
def nginx_binary() -> str:
    binary = ensure_tool("nginx", "nginx")
    if binary is None:
        skip_or_fail("nginx is not installed and apt-get could not install it")
    return binary


def nginx_folder() -> Path:
    # nginx workers run unprivileged and write the cache here; pytest's own folders
    # are 0700, so this one lives beside them.
    directory = Path(tempfile.mkdtemp(prefix="findme-test-nginx-"))
    directory.chmod(0o755)
    return directory


def test_nginx_accepts_the_configuration(nginx_binary: str) -> None:
    directory = nginx_folder()
    try:
        config = local_config(directory, listen_port=free_port(), dns_port=53, gateway_port=8000)
        result = subprocess.run(
            [nginx_binary, "-t", "-c", str(config), "-p", str(directory)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_no_location_replaces_the_security_headers() -> None:
    # add_header in a location drops every add_header of the server level; headers
    # some answers need (Retry-After, X-Cache-Status) come from variables instead.
    config = "\n".join(line.split("#")[0] for line in NGINX_FILE.read_text().splitlines())
    server = config[config.index("    server {") :]
    blocks = re.findall(r"^\s*location [^{]+\{[^}]*\}", server, flags=re.M)
    assert len(blocks) >= 7
    for block in blocks:
        assert "add_header" not in block, block
    assert server.count("add_header") == len(SECURITY_HEADERS) + 2  # + Retry-After, cache


@pytest.fixture(scope="module")
def gateway(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """The real gateway, alone: its backends are closed ports (so /health is 503)."""
    started = start_gateway(
        GATEWAY_HOST,
        free_port(),
        tmp_path_factory.mktemp("gateway"),
        {
            "FINDME_GATEWAY_REDIS_URL": redis_url,
            "FINDME_GATEWAY_TRUSTED_PROXIES": "127.0.0.0/8",
        },
    )
    yield started
    started.stop()


@pytest.fixture(scope="module")
def edge_folder() -> Iterator[Path]:
    directory = nginx_folder()
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def edge(nginx_binary: str, gateway: Gateway, edge_folder: Path) -> Iterator[str]:
    """nginx as shipped: no load balancer listed in load-balancer.conf."""
    port = free_port()
    with DnsServer([GATEWAY_HOST]) as dns:
        config = local_config(
            edge_folder, listen_port=port, dns_port=dns.port, gateway_port=gateway.port
        )
        process = start_nginx(nginx_binary, config)
        try:
            wait_port(port, process)
            yield f"http://127.0.0.1:{port}"
        finally:
            stop_nginx(process)


def test_proxies_with_security_headers_and_keeps_gateway_answers(edge: str) -> None:
    response = httpx.get(f"{edge}/health", timeout=10)
    # The gateway's own 503 (backends down) passes through untouched, JSON and all.
    assert response.status_code == 503
    assert response.json()["components"]["gateway"]["status"] == "ok"
    assert_security_headers(response)
    assert "retry-after" not in response.headers and "x-cache-status" not in response.headers
    assert "server" not in response.headers or "nginx/" not in response.headers["server"]
    assert httpx.get(f"{edge}/nginx-health", timeout=5).text == "ok\n"


def test_compresses_and_caches_page_assets(edge: str) -> None:
    first = httpx.get(f"{edge}/static/api.js", headers={"accept-encoding": "gzip"}, timeout=10)
    second = httpx.get(f"{edge}/static/api.js", headers={"accept-encoding": "gzip"}, timeout=10)
    assert first.status_code == 200 and first.headers["content-encoding"] == "gzip"
    assert "function" in second.text or "=>" in second.text
    assert second.headers["x-cache-status"] == "HIT"
    assert_security_headers(second)


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
    assert_security_headers(response)


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
                assert response.headers["retry-after"] == "1"
                assert_security_headers(response)
                break
    # A burst of 200 passes (a venue behind one NAT), then the guard engages.
    assert codes[-1] == 429 and len(codes) > 200, codes[-5:]


def test_gateway_metrics_are_not_served_through_the_edge(edge: str) -> None:
    # nginx adds X-Forwarded-For; the gateway answers /metrics only without one.
    response = httpx.get(f"{edge}/metrics", timeout=10)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_access_log_names_the_client_and_never_an_invite_token(
    edge: str, edge_folder: Path
) -> None:
    token = "Zq8secretInviteToken123"
    httpx.post(
        f"{edge}/api/invites/{token}/register",
        files={"file": ("a.jpg", b"x")},
        headers={"x-forwarded-for": "203.0.113.50"},
        timeout=10,
    )
    httpx.get(f"{edge}/api/me/photos?cursor=abc", timeout=10)
    log = (edge_folder / "access.log").read_text()
    assert token not in log
    assert '"POST /api/invites/-/register HTTP/1.1"' in log
    assert '"GET /api/me/photos?cursor=abc HTTP/1.1"' in log
    # No load balancer is listed, so nobody's X-Forwarded-For is believed.
    invite_line = next(line for line in log.splitlines() if "/api/invites/" in line)
    assert invite_line.startswith("127.0.0.1 ")


# Stops the gateway: keep it after every test that needs one.
def test_gateway_down_is_a_json_503(edge: str, gateway: Gateway) -> None:
    gateway.stop()
    response = httpx.get(f"{edge}/", timeout=10)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    assert response.headers["retry-after"] == "5"
    assert_security_headers(response)


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
