"""deploy/render.yaml against the Blueprint rules this deployment depends on
(https://render.com/docs/blueprint-spec and /docs/private-network)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from .deployfiles import RENDER_RUNS, ROOT, render, render_env, render_services

COMPUTE = ("web", "pserv", "worker")
RESERVED_PRIVATE_PORTS = {"10000", "18012", "18013", "19099"}
SECRET_WORDS = re.compile(r"KEY|SECRET|PASSWORD|TOKEN|CREDENTIAL", re.I)


def compute_services() -> list[dict[str, Any]]:
    return [s for s in render()["services"] if s["type"] in COMPUTE]


def test_service_types() -> None:
    types = {s["name"]: s["type"] for s in render()["services"]}
    assert types == {
        "findme-cache": "keyvalue",
        "findme-gateway": "web",
        "findme-auth": "pserv",
        "findme-events": "pserv",
        "findme-selfie": "pserv",
        "findme-photo-worker": "worker",
    }
    assert set(RENDER_RUNS) == {n for n, t in types.items() if t in COMPUTE}


def test_health_check_path_only_on_the_web_service() -> None:
    for service in render()["services"]:
        if service["type"] == "web":
            assert service["healthCheckPath"] == "/livez"
        else:
            assert "healthCheckPath" not in service, service["name"]


@pytest.mark.parametrize("service", compute_services(), ids=lambda s: s["name"])
def test_each_compute_service_scales_on_its_own(service: dict[str, Any]) -> None:
    scaling = service["scaling"]
    assert set(scaling) >= {"minInstances", "maxInstances", "targetCPUPercent"}
    assert 1 <= scaling["minInstances"] <= scaling["maxInstances"] <= 100
    assert 1 <= scaling["targetCPUPercent"] <= 90
    # numInstances would fight the autoscaler.
    assert "numInstances" not in service
    assert service.get("plan"), "each service picks its own plan"


@pytest.mark.parametrize("service", compute_services(), ids=lambda s: s["name"])
def test_docker_build_points_at_the_service_image(service: dict[str, Any]) -> None:
    assert service["runtime"] == "docker"
    dockerfile = ROOT / service["dockerfilePath"]
    assert dockerfile.is_file(), service["dockerfilePath"]
    assert service["dockerContext"] == "."
    runs = RENDER_RUNS[service["name"]]
    # The photo worker ships in the events image.
    assert dockerfile.parent.name == {"worker": "events"}.get(runs, runs)
    command = service.get("dockerCommand", "")
    module = {"worker": "findme_photo_worker"}.get(runs, f"findme_{runs}")
    if command:
        assert command.endswith(f"exec python -m {module}'"), command


def test_private_services_avoid_reserved_ports() -> None:
    for service in render()["services"]:
        if service["type"] != "pserv":
            continue
        text = repr(service)
        for reserved in RESERVED_PRIVATE_PORTS:
            assert not re.search(rf"\b{reserved}\b", text), (service["name"], reserved)


def test_migrations_run_before_events_starts() -> None:
    events = render_services()["findme-events"]
    assert events["preDeployCommand"] == "python -m findme_events.migrate"


def test_no_literal_secrets() -> None:
    for service in render()["services"]:
        for entry in service.get("envVars", []):
            key = entry.get("key", "")
            sources = {"value", "generateValue", "sync", "fromService", "fromDatabase"}
            assert len(sources & set(entry)) == 1, entry
            if SECRET_WORDS.search(key) and "value" in entry:
                pytest.fail(f"{service['name']}.{key} has a literal value")
            if "sync" in entry:
                assert entry["sync"] is False
            if "generateValue" in entry:
                assert entry["generateValue"] is True
            if "value" in entry:
                assert not str(entry["value"]).startswith(("postgres", "redis", "-----BEGIN"))


def test_token_keys_are_entered_not_committed() -> None:
    services = render_services()
    assert render_env(services["findme-auth"])["FINDME_AUTH_TOKEN_PRIVATE_KEY"] == {
        "key": "FINDME_AUTH_TOKEN_PRIVATE_KEY",
        "sync": False,
    }
    assert render_env(services["findme-gateway"])["FINDME_GATEWAY_TOKEN_PUBLIC_KEY"] == {
        "key": "FINDME_GATEWAY_TOKEN_PUBLIC_KEY",
        "sync": False,
    }


def test_datastores_are_private_and_referenced_correctly() -> None:
    blueprint = render()
    databases = {db["name"]: db for db in blueprint["databases"]}
    services = render_services()
    assert services["findme-cache"]["ipAllowList"] == []
    for service in services.values():
        for entry in service.get("envVars", []):
            if "fromDatabase" in entry:
                assert entry["fromDatabase"]["name"] in databases
                assert entry["fromDatabase"]["property"] == "connectionString"
            if "fromService" in entry:
                source = entry["fromService"]
                assert source["name"] in services, source
                assert services[source["name"]]["type"] == source["type"], source
                if source["type"] == "keyvalue":
                    assert source["property"] == "connectionString"
