"""deploy/render.yaml against the Blueprint rules this deployment depends on
(https://render.com/docs/blueprint-spec and /docs/private-network)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from .deployfiles import (
    BUILD_ARG,
    DOCKERFILE,
    IMAGE,
    RENDER_RUNS,
    ROOT,
    entered_token_keys,
    image,
    render,
    render_env,
    render_services,
    render_settings,
)

COMPUTE = ("web", "pserv", "worker")
# What an operator enters in the Dashboard (sync: false) for the settings to load.
ENTERED = entered_token_keys()
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


# Render autoscales on CPU and memory only. The photo worker mostly waits on selfie,
# storage and the database, so CPU autoscaling would never fire: a fixed count.
FIXED_COUNT = {"findme-photo-worker"}


@pytest.mark.parametrize("service", compute_services(), ids=lambda s: s["name"])
def test_each_compute_service_scales_on_its_own(service: dict[str, Any]) -> None:
    assert service.get("plan"), "each service picks its own plan"
    if service["name"] in FIXED_COUNT:
        assert "scaling" not in service
        assert service["numInstances"] >= 1
        return
    scaling = service["scaling"]
    assert set(scaling) >= {"minInstances", "maxInstances", "targetCPUPercent"}
    assert 1 <= scaling["minInstances"] <= scaling["maxInstances"] <= 100
    assert 1 <= scaling["targetCPUPercent"] <= 90
    # numInstances would fight the autoscaler.
    assert "numInstances" not in service


@pytest.mark.parametrize("service", compute_services(), ids=lambda s: s["name"])
def test_docker_build_uses_the_one_dockerfile_with_its_service(service: dict[str, Any]) -> None:
    assert service["runtime"] == "docker"
    assert (ROOT / service["dockerfilePath"]).resolve() == DOCKERFILE
    assert service["dockerContext"] == "."
    runs = RENDER_RUNS[service["name"]]
    # Render passes env vars to the build as build arguments: this picks the image.
    assert render_env(service)[BUILD_ARG] == {"key": BUILD_ARG, "value": IMAGE.get(runs, runs)}


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """A Render buildFilter glob: ``**`` spans folders, ``*`` stays within one."""
    parts = re.split(r"(\*\*/?|\*)", pattern)
    regex = "".join(
        ".*" if part.startswith("**") else "[^/]*" if part == "*" else re.escape(part)
        for part in parts
    )
    return re.compile(regex + "$")


def _sources(runs: str) -> set[str]:
    """Repository paths the service's image is built from (COPY sources), and the
    Dockerfile itself."""
    built = image(runs)
    copied = {
        src
        for rest in built.all("COPY")
        if not rest.startswith("--from")
        for src in rest.split()[:-1]
    }
    return copied | {DOCKERFILE.name, ".dockerignore"}


@pytest.mark.parametrize("service", compute_services(), ids=lambda s: s["name"])
def test_build_filter_covers_exactly_what_the_image_is_built_from(service: dict[str, Any]) -> None:
    # A push that touches none of these paths does not rebuild this service (dlib's
    # image is not rebuilt for a gateway change); one that touches any of them does.
    patterns = [_glob_regex(p) for p in service["buildFilter"]["paths"]]
    runs = RENDER_RUNS[service["name"]]
    own = IMAGE.get(runs, runs)
    for source in _sources(runs):
        probe = source if (ROOT / source).is_file() else f"{source}/any_file.py"
        assert any(p.match(probe) for p in patterns), (service["name"], source)
    assert any(p.match("proto/findme/selfie/v1/selfie.proto") for p in patterns)
    for other in ("gateway", "auth", "events", "selfie"):
        if other != own:
            code = f"services/{other}/findme_{other}/server.py"
            assert not any(p.match(code) for p in patterns), (service["name"], other)
    for unrelated in ("README.md", "docs/architecture.md", "bench/crowd.py", "tests/x.py"):
        assert not any(p.match(unrelated) for p in patterns), (service["name"], unrelated)


def test_private_services_avoid_reserved_ports() -> None:
    for service in render()["services"]:
        if service["type"] != "pserv":
            continue
        text = repr(service)
        for reserved in RESERVED_PRIVATE_PORTS:
            assert not re.search(rf"\b{reserved}\b", text), (service["name"], reserved)


def test_migrations_run_before_events_starts() -> None:
    events = render_services()["findme-events"]
    assert image("events").effective_command(events["preDeployCommand"]) == [
        "python",
        "-m",
        "findme_events.migrate",
    ]


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


# --- shutdown: nothing in flight is cut off by a deploy or a scale-down ----------------

# The longest deadline a client gives each service's calls (the settings that set it).
LONGEST_CALL = {
    "findme-gateway": ("gateway", "photos_deadline"),  # a photo batch upload
    "findme-events": ("gateway", "photos_deadline"),  # AddPhotos writes every original
    "findme-selfie": ("worker", "analyze_deadline"),  # AnalyzePhoto
    "findme-auth": ("gateway", "password_deadline"),  # bcrypt, queued
}


def _default(runs: str, field: str) -> float:
    from .deployfiles import default

    return float(default(runs, field))


@pytest.mark.parametrize("name", sorted(LONGEST_CALL))
def test_shutdown_outlasts_the_longest_call(name: str) -> None:
    # SIGTERM -> the service drains for shutdown_grace -> Render's SIGKILL after
    # maxShutdownDelaySeconds (default 30 s). Each step must cover the one before.
    service = render_services()[name]
    runs, deadline_field = LONGEST_CALL[name]
    settings = render_settings(name, ENTERED)
    grace = float(settings.shutdown_grace)
    assert grace >= _default(runs, deadline_field), (name, grace)
    assert service["maxShutdownDelaySeconds"] > grace
    assert service["maxShutdownDelaySeconds"] <= 300  # Render's maximum


def test_the_photo_worker_finishes_its_photo_before_it_is_killed() -> None:
    settings = render_settings("findme-photo-worker")
    in_flight = settings.analyze_deadline + 2 * settings.s3_timeout  # analysis, two writes
    assert render_services()["findme-photo-worker"]["maxShutdownDelaySeconds"] > in_flight


# --- the photo worker's concurrency, from the selfie capacity it feeds ----------------

# CPUs of Render's instance types (render.com/pricing); selfie runs one dlib process
# per CPU by default (its cgroup CPU quota).
PLAN_CPUS = {"starter": 0.5, "standard": 1, "pro": 2, "pro_plus": 4, "pro_max": 4, "pro_ultra": 8}


def _selfie_capacity() -> tuple[int, int, int]:
    """(processes per selfie instance, queue per instance, minimum instances)."""
    service = render_services()["findme-selfie"]
    settings = render_settings("findme-selfie")
    workers = int(render_env(service).get("FINDME_SELFIE_WORKERS", {}).get("value", 0)) or max(
        1, int(PLAN_CPUS[service["plan"]])
    )
    queue = settings.queue_limit if settings.queue_limit is not None else 2 * workers
    return workers, queue, service["scaling"]["minInstances"]


def test_photo_worker_concurrency_fits_the_selfie_service_at_its_minimum() -> None:
    # Every photo in flight is an AnalyzePhoto call. With selfie at its fewest
    # instances they must (a) keep every dlib process busy, and (b) fit in the
    # admission queue with room left for attendee selfies (one queue place per
    # process): a photo refused as `overloaded` costs one of its attempts.
    workers, queue, minimum = _selfie_capacity()
    worker = render_services()["findme-photo-worker"]
    in_flight = worker["numInstances"] * render_settings("findme-photo-worker").concurrency
    assert in_flight >= minimum * workers, "selfie processes would idle while photos wait"
    assert in_flight + minimum * workers <= minimum * (workers + queue), "photos would be refused"
