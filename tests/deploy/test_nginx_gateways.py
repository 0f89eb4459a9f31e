"""Two gateways behind one nginx on loopback, as `docker compose up --scale gateway=2`
runs them behind a load balancer: nginx finds every gateway replica by DNS (and finds
them again when one is recreated elsewhere), takes the client from the load
balancer's X-Forwarded-For, and the gateways see that client: their per-address
limits, kept in the one Redis, count it whichever gateway a request reaches and
whatever a client writes into the header itself."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from findme_devstack.unavailable import skip_or_fail

from .deployfiles import ensure_tool
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
from .instances import shared_free_port

HOSTS = ("127.0.0.2", "127.0.0.3", "127.0.0.4")
LOGIN_LIMIT = 4
# The test client plays the load balancer in front: it connects from 127.0.0.1.
LOAD_BALANCER = "127.0.0.1"


@dataclass
class Stack:
    url: str
    dns: DnsServer
    gateways: dict[str, Gateway]
    folder: Path
    start: Callable[[str], Gateway]


@pytest.fixture(scope="module")
def stack(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    binary = ensure_tool("nginx", "nginx")
    if binary is None:
        skip_or_fail("nginx is not installed and apt-get could not install it")
    logs = tmp_path_factory.mktemp("gateways")
    port = shared_free_port(HOSTS)
    env = {
        "FINDME_GATEWAY_REDIS_URL": redis_url,
        # nginx reaches the gateways from loopback addresses.
        "FINDME_GATEWAY_TRUSTED_PROXIES": "127.0.0.0/8",
        "FINDME_GATEWAY_LOGIN_RATE_LIMIT": str(LOGIN_LIMIT),
    }

    def start(host: str) -> Gateway:
        return start_gateway(host, port, logs, env)

    gateways = {host: start(host) for host in HOSTS[:2]}
    folder = Path(tempfile.mkdtemp(prefix="findme-test-nginx-"))
    folder.chmod(0o755)
    listen = free_port()
    try:
        with DnsServer(list(HOSTS[:2])) as dns:
            config = local_config(
                folder,
                listen_port=listen,
                dns_port=dns.port,
                gateway_port=port,
                load_balancers=(LOAD_BALANCER,),
            )
            process = start_nginx(binary, config)
            try:
                wait_port(listen, process)
                yield Stack(f"http://127.0.0.1:{listen}", dns, gateways, folder, start)
            finally:
                stop_nginx(process)
    finally:
        for gateway in gateways.values():
            gateway.stop()
        shutil.rmtree(folder, ignore_errors=True)


def login(stack: Stack, forwarded_for: str) -> httpx.Response:
    return httpx.post(
        f"{stack.url}/api/login",
        json={"event_code": "ABCDEFGH", "username": "ann", "password": "some password"},
        headers={"x-forwarded-for": forwarded_for},
        timeout=10,
    )


def test_requests_reach_both_gateways(stack: Stack) -> None:
    for _ in range(12):
        assert httpx.get(f"{stack.url}/livez", timeout=10).status_code == 200
    served = {host: gw.requests_logged("/livez") for host, gw in stack.gateways.items()}
    assert all(count > 0 for count in served.values()), served


def test_the_gateways_see_the_client_behind_the_load_balancer(stack: Stack) -> None:
    client, neighbour = "198.51.100.7", "198.51.100.8"
    # The load balancer appends the address it saw; entries further left are the
    # client's own writing and change on every request here.
    answers = [login(stack, f"6.6.6.{i}, {client}").status_code for i in range(LOGIN_LIMIT + 2)]
    # Backends are closed ports: 503 while the limit lets requests through, then the
    # gateways' own 429. The count spans both gateways (one Redis, one client key).
    assert answers[:LOGIN_LIMIT] == [503] * LOGIN_LIMIT, answers
    assert answers[LOGIN_LIMIT:] == [429, 429], answers
    limited = login(stack, client)
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limited"
    # Another client behind the same load balancer is not affected.
    assert login(stack, neighbour).status_code == 503
    # A chain with another proxy of the same load balancer in it: still the client.
    assert login(stack, f"{client}, {LOAD_BALANCER}").status_code == 429
    served = {host: gw.requests_logged("/api/login") for host, gw in stack.gateways.items()}
    assert all(count > 0 for count in served.values()), served
    log = (stack.folder / "access.log").read_text()
    assert f'{client} "POST /api/login' in log and "6.6.6." not in log


def test_a_recreated_gateway_is_found_again(stack: Stack) -> None:
    # The gateway at .3 goes away and comes back at .4 (a recreated container gets a
    # new address); DNS now answers .2 and .4.
    old = stack.gateways.pop(HOSTS[1])
    old.stop()
    new = stack.start(HOSTS[2])
    stack.gateways[HOSTS[2]] = new
    stack.dns.addresses = [HOSTS[0], HOSTS[2]]
    time.sleep(2.5)  # past the answer's TTL (nginx: valid=1s in this copy)
    answers = [httpx.get(f"{stack.url}/livez", timeout=10).status_code for _ in range(12)]
    assert answers == [200] * 12, answers
    assert new.requests_logged("/livez") > 0
