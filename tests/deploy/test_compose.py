"""docker-compose.yml: parsed and validated by a real Compose implementation, the
values it resolves accepted by each service's Settings, and the start-up order,
health gating, volumes and scaling the deployment relies on."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from findme_devstack.unavailable import skip_or_fail

from .deployfiles import (
    BUILD_ARG,
    COMPOSE_FILE,
    COMPOSE_RUNS,
    IMAGE,
    ROOT,
    SETTINGS,
    compose,
    ensure_tool,
    image,
    module_of,
)

# Containers that `docker compose up --scale` may multiply.
SCALABLE = ("auth", "selfie", "events", "events-worker", "gateway")
# Values compose refuses to start without (no silent defaults for secrets).
REQUIRED_SECRETS = ("FINDME_TOKEN_PRIVATE_KEY", "FINDME_TOKEN_PUBLIC_KEY", "POSTGRES_PASSWORD")


def compose_config(binary: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [binary, "-f", str(COMPOSE_FILE), "--project-directory", str(ROOT), "config"],
        cwd=cwd,  # no stray .env from the developer's checkout
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", **env},
        check=False,
    )


def compose_binary() -> str:
    binary = ensure_tool("docker-compose", "docker-compose")
    if binary is None:
        skip_or_fail("docker-compose is not installed and apt-get could not install it")
    return binary


@pytest.fixture(scope="module")
def token_keys() -> tuple[str, str]:
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    public = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


@pytest.fixture(scope="module")
def secrets(token_keys: tuple[str, str]) -> dict[str, str]:
    private, public = token_keys
    return {
        "FINDME_TOKEN_PRIVATE_KEY": private,
        "FINDME_TOKEN_PUBLIC_KEY": public,
        "POSTGRES_PASSWORD": "a-test-password",
    }


@pytest.fixture(scope="module")
def resolved(
    secrets: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """`docker-compose config`: the file validated against Compose's own schema and
    interpolated, as `docker compose up` would see it (Debian's docker-compose 1.29)."""
    result = compose_config(compose_binary(), secrets, tmp_path_factory.mktemp("compose"))
    assert result.returncode == 0, result.stderr
    yield yaml.safe_load(result.stdout)


@pytest.mark.parametrize("missing", REQUIRED_SECRETS)
def test_compose_refuses_to_start_without_each_secret(
    missing: str, secrets: dict[str, str], tmp_path: Path
) -> None:
    env = {key: value for key, value in secrets.items() if key != missing}
    result = compose_config(compose_binary(), env, tmp_path)
    assert result.returncode != 0
    assert missing in result.stderr


@pytest.mark.parametrize("container", sorted(COMPOSE_RUNS))
def test_resolved_environment_is_accepted_by_the_settings(
    container: str, resolved: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    service = COMPOSE_RUNS[container]
    environment = resolved["services"][container]["environment"]
    env = dict(image(service).env())
    env.update({key: str(value) for key, value in environment.items()})
    for key in list(os.environ):
        if key.startswith("FINDME_"):
            monkeypatch.delenv(key)
    for key, value in env.items():
        if key.startswith("FINDME_"):
            monkeypatch.setenv(key, value)
    settings = SETTINGS[service]()  # raises ValidationError on any bad value
    if service != "worker":  # the photo worker listens on nothing
        assert settings.host == "0.0.0.0"
    if service == "gateway":
        assert (settings.auth_target, settings.events_target, settings.selfie_target) == (
            "dns:///auth:50051",
            "dns:///events:50052",
            "dns:///selfie:50053",
        )
    if service == "worker":
        assert settings.selfie_target == "dns:///selfie:50053"
        assert settings.heartbeat_file is not None


@pytest.mark.parametrize("container", sorted(COMPOSE_RUNS))
def test_each_container_runs_its_module_from_its_image(container: str) -> None:
    spec = compose()["services"][container]
    runs = COMPOSE_RUNS[container]
    build = spec.get("build") or next(
        s["build"]
        for s in compose()["services"].values()
        if s.get("image") == spec["image"] and s.get("build")
    )
    # The one Dockerfile at the root, its build argument naming the image.
    assert build["context"] == "." and "dockerfile" not in build
    assert build["args"] == {BUILD_ARG: IMAGE.get(runs, runs)}
    assert "entrypoint" not in spec
    module = "findme_events.migrate" if container == "migrate" else module_of(runs)
    assert image(runs).effective_command(spec.get("command")) == ["python", "-m", module]


def _healthchecked(spec: dict[str, Any]) -> bool:
    check = spec.get("healthcheck")
    if check is not None:
        return not check.get("disable", False)
    build = spec.get("build")
    if build:
        return bool(image(build["args"][BUILD_ARG]).runtime("HEALTHCHECK"))
    return False


def test_health_gated_start_up() -> None:
    services = compose()["services"]
    for name, spec in services.items():
        for dependency, condition in (spec.get("depends_on") or {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            if condition["condition"] == "service_healthy":
                assert _healthchecked(services[dependency]), (
                    f"{name} waits for {dependency} to be healthy, but it has no health check"
                )
    # Migrations run once and finish before anything uses the schema.
    for name in ("events", "events-worker"):
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
    assert services["migrate"]["restart"] == "no"
    # The photo worker listens on no port: its probe checks the claim loops' heartbeat.
    assert services["events-worker"]["healthcheck"]["test"] == [
        "CMD",
        "python",
        "-m",
        "findme_photo_worker.probe",
    ]
    for backend in ("auth", "events", "selfie"):
        assert services["gateway"]["depends_on"][backend] == {"condition": "service_healthy"}
    assert services["nginx"]["depends_on"]["gateway"] == {"condition": "service_healthy"}


def test_data_lives_in_named_volumes() -> None:
    spec = compose()
    declared = set(spec["volumes"])
    mounts = {
        name: [volume.split(":")[0] for volume in service.get("volumes", [])]
        for name, service in spec["services"].items()
    }
    assert "postgres-data" in mounts["postgres"] and "redis-data" in mounts["redis"]
    for name, sources in mounts.items():
        for source in sources:
            assert source in declared or source.startswith("./"), f"{name}: {source}"
    assert spec["services"]["postgres"]["image"].startswith("pgvector/pgvector:")


def test_events_and_workers_share_the_blob_store() -> None:
    services = compose()["services"]
    for name, prefix in (("events", "FINDME_EVENTS_"), ("events-worker", "FINDME_WORKER_")):
        blob_dir = services[name]["environment"][f"{prefix}BLOB_DIR"]
        mounted = {v.split(":")[1] for v in services[name]["volumes"] if v.startswith("photos:")}
        assert mounted == {blob_dir}, name
    # The image creates that folder for its unprivileged user (a fresh named volume
    # takes the folder's owner from the image).
    assert "/var/lib/findme/photos" in " ".join(image("events").runtime("RUN"))


def test_scalable_services_can_be_scaled() -> None:
    services = compose()["services"]
    for name in SCALABLE:
        spec = services[name]
        # A fixed name or a published port would make the second replica fail.
        assert "container_name" not in spec and "ports" not in spec, name
    published = [name for name, spec in services.items() if spec.get("ports")]
    assert published == ["nginx"]


def _seconds(value: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    total = 0.0
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", value):
        total += float(number) * units[unit]
    return total


@pytest.mark.parametrize("container", ["gateway", "auth", "events", "selfie", "events-worker"])
def test_stop_grace_outlasts_the_service_drain(
    container: str, resolved: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # compose sends SIGKILL after stop_grace_period: it must outlast the service's own
    # drain (shutdown_grace), and a worker's photo in flight (analysis + blob writes).
    runs = COMPOSE_RUNS[container]
    for key in list(os.environ):
        if key.startswith("FINDME_"):
            monkeypatch.delenv(key)
    for key, value in {
        **image(runs).env(),
        **resolved["services"][container]["environment"],
    }.items():
        if key.startswith("FINDME_"):
            monkeypatch.setenv(key, str(value))
    settings = SETTINGS[runs]()
    needed = (
        settings.analyze_deadline + 2 * settings.s3_timeout
        if runs == "worker"
        else settings.shutdown_grace
    )
    grace = _seconds(str(compose()["services"][container].get("stop_grace_period", "10s")))
    assert grace > needed, (container, grace, needed)


@pytest.mark.parametrize("module", ["findme_events.migrate", "findme_photo_worker.__main__"])
def test_entry_points_the_files_run_exist(module: str) -> None:
    assert importlib.util.find_spec(module) is not None, f"{module} does not exist"
