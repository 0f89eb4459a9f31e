"""Ports and service names agree across the Settings defaults, the Dockerfiles,
docker-compose.yml, deploy/render.yaml and deploy/nginx/nginx.conf."""

from __future__ import annotations

import re

import pytest

from .deployfiles import (
    NGINX_FILE,
    RENDER_NAME,
    RENDER_RUNS,
    SERVICES,
    compose,
    default,
    dockerfile,
    grpc_target_hostport,
    render_env,
    render_exported,
    render_services,
)

BACKENDS = ("auth", "events", "selfie")


def port(service: str) -> int:
    value = default(service, "port")
    assert isinstance(value, int)
    return value


def test_settings_defaults_agree_with_each_other() -> None:
    # The gateway's and the photo worker's default targets name the backends' ports.
    for backend in BACKENDS:
        _, target_port = grpc_target_hostport(default("gateway", f"{backend}_target"))
        assert target_port == port(backend), backend
    _, selfie_port = grpc_target_hostport(default("worker", "selfie_target"))
    assert selfie_port == port("selfie")
    assert len({port(service) for service in SERVICES}) == len(SERVICES)


@pytest.mark.parametrize("service", SERVICES)
def test_dockerfile_port(service: str) -> None:
    image = dockerfile(service)
    assert image.env()[f"FINDME_{service.upper()}_PORT"] == str(port(service))
    assert image.all("EXPOSE") == [str(port(service))]
    # The health probe falls back to the same port.
    assert f"'{port(service)}'" in " ".join(image.exec_form("HEALTHCHECK"))


@pytest.mark.parametrize("service", SERVICES)
def test_compose_port(service: str) -> None:
    environment = compose()["services"][service]["environment"]
    assert environment[f"FINDME_{service.upper()}_PORT"] == str(port(service))


def test_compose_targets_name_services_and_ports() -> None:
    services = compose()["services"]
    for name, spec in services.items():
        for key, value in (spec.get("environment") or {}).items():
            if key.endswith("_TARGET"):
                host, target_port = grpc_target_hostport(value)
                assert host in BACKENDS, f"{name}.{key}"
                assert target_port == port(host), f"{name}.{key}"
                expected = key.removeprefix("FINDME_GATEWAY_").removeprefix("FINDME_WORKER_")
                assert expected == f"{host.upper()}_TARGET", f"{name}.{key} -> {host}"


def test_nginx_upstream_is_the_gateway() -> None:
    config = NGINX_FILE.read_text()
    upstreams = re.findall(r"^\s*server\s+([\w.-]+):(\d+)\s*;", config, flags=re.M)
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


def test_render_targets_use_discovery_hostnames_of_the_right_services() -> None:
    services = render_services()
    seen = 0
    for name, service in services.items():
        env = render_env(service)
        for key, target in render_exported(service).items():
            if not key.endswith("_TARGET"):
                continue
            seen += 1
            backend = key.split("_")[-2].lower()  # FINDME_GATEWAY_AUTH_TARGET -> auth
            match = re.fullmatch(r"dns:///\$([A-Z_]+):(\d+)", target)
            assert match, f"{name}.{key}={target!r}"
            variable, target_port = match.group(1), int(match.group(2))
            assert target_port == port(backend), f"{name}.{key}"
            source = env[variable]["fromService"]
            assert source == {
                "type": "pserv",
                "name": RENDER_NAME[backend],
                "envVarKey": "RENDER_DISCOVERY_SERVICE",
            }, f"{name}.{variable}"
    assert seen == 4  # gateway x3, photo worker
