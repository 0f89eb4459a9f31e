"""Ports and service names agree across the Settings defaults, the Dockerfile,
docker-compose.yml, deploy/render.yaml and deploy/nginx/nginx.conf."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from .deployfiles import (
    NGINX_FILE,
    RENDER_NAME,
    RENDER_RUNS,
    SERVICES,
    SETTINGS,
    compose,
    default,
    grpc_target_hostport,
    image,
    render_env,
    render_services,
)

BACKENDS = ("auth", "events", "selfie")
# Who reaches which backend, by the prefix of its host setting.
CLIENTS = {"FINDME_GATEWAY_": BACKENDS, "FINDME_WORKER_": ("selfie",)}


def port(service: str) -> int:
    value = default(service, "port")
    assert isinstance(value, int)
    return value


def test_settings_defaults_agree_with_each_other() -> None:
    # The gateway's and the photo worker's default targets name the backends' ports.
    for backend in BACKENDS:
        assert default("gateway", f"{backend}_port") == port(backend), backend
    assert default("worker", "selfie_port") == port("selfie")
    assert len({port(service) for service in SERVICES}) == len(SERVICES)


def test_default_targets_are_built_from_the_default_ports() -> None:
    settings = SETTINGS["gateway"].model_validate({"token_public_key": _any_public_key()})
    for backend in BACKENDS:
        target = getattr(settings, f"{backend}_target")
        assert grpc_target_hostport(target) == ("127.0.0.1", port(backend)), target


def _any_public_key() -> str:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    key = Ed25519PrivateKey.generate().public_key()
    return key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


@pytest.mark.parametrize("service", SERVICES)
def test_image_port(service: str) -> None:
    built = image(service)
    assert built.env()[f"FINDME_{service.upper()}_PORT"] == str(port(service))
    assert built.runtime("EXPOSE") == [str(port(service))]
    # The health probe reads the same setting and falls back to the same port.
    probe = built.exec_form("HEALTHCHECK") or []
    assert probe[4:6] == [service, str(port(service))], probe


@pytest.mark.parametrize("service", SERVICES)
def test_compose_port(service: str) -> None:
    environment = compose()["services"][service]["environment"]
    assert environment[f"FINDME_{service.upper()}_PORT"] == str(port(service))


def client_settings(env: Mapping[str, Any]) -> Iterator[tuple[str, str, Any, Any]]:
    """(backend, setting name, host value, port value) of every backend a service's
    environment names by host; none may also set a full target."""
    for prefix, backends in CLIENTS.items():
        for backend in backends:
            name = f"{prefix}{backend.upper()}"
            if f"{name}_HOST" in env:
                assert f"{name}_TARGET" not in env, name
                yield backend, f"{name}_HOST", env[f"{name}_HOST"], env[f"{name}_PORT"]


def test_compose_clients_name_backend_services_and_ports() -> None:
    services = compose()["services"]
    seen = 0
    for name, spec in services.items():
        for backend, key, host, host_port in client_settings(spec.get("environment") or {}):
            seen += 1
            assert host == backend and host in services, f"{name}.{key}: {host}"
            assert host_port == str(port(backend)), f"{name}.{key}"
    assert seen == 4  # gateway x3, photo worker


def test_nginx_upstream_is_the_gateway() -> None:
    config = NGINX_FILE.read_text()
    upstreams = re.findall(r"^\s*set \$gateway http://([\w.-]+):(\d+);", config, flags=re.M)
    assert upstreams == [("gateway", str(port("gateway")))]
    assert "gateway" in compose()["services"]
    published = compose()["services"]["nginx"]["ports"]
    assert len(published) == 1 and str(published[0]).endswith(":80")
    assert re.search(r"^\s*listen\s+80\b", config, flags=re.M)


@pytest.mark.parametrize("name", sorted(RENDER_RUNS))
def test_render_ports(name: str) -> None:
    service = render_services()[name]
    runs = RENDER_RUNS[name]
    env = render_env(service)
    key = f"FINDME_{runs.upper()}_PORT"
    if key in env:
        assert env[key]["value"] == str(port(runs))
    if service["type"] == "web":
        # Render routes public traffic to PORT; the gateway must bind that port.
        assert env["PORT"]["value"] == env[key]["value"]


def test_render_clients_use_discovery_hostnames_of_the_right_services() -> None:
    seen = 0
    for name, service in render_services().items():
        for backend, key, host, host_port in client_settings(render_env(service)):
            seen += 1
            assert host["fromService"] == {
                "type": "pserv",
                "name": RENDER_NAME[backend],
                "envVarKey": "RENDER_DISCOVERY_SERVICE",
            }, f"{name}.{key}"
            assert host_port["value"] == str(port(backend)), f"{name}.{key}"
    assert seen == 4  # gateway x3, photo worker
