"""docker-compose.yml: parsed and validated by a real Compose implementation, the
values it resolves accepted by each service's Settings, and the start-up order,
health gating, volumes and scaling the deployment relies on."""

from __future__ import annotations

import importlib.util
import os
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
    COMPOSE_FILE,
    COMPOSE_RUNS,
    ROOT,
    SETTINGS,
    compose,
    dockerfile,
    ensure_tool,
    grpc_target_hostport,
)

# Containers that `docker compose up --scale` may multiply.
SCALABLE = ("auth", "selfie", "events", "events-worker", "gateway")


@pytest.fixture(scope="module")
def token_keys() -> tuple[str, str]:
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    public = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


@pytest.fixture(scope="module")
def resolved(
    token_keys: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """`docker-compose config`: the file validated against Compose's own schema and
    interpolated, as `docker compose up` would see it (Debian's docker-compose 1.29)."""
    binary = ensure_tool("docker-compose", "docker-compose")
    if binary is None:
        skip_or_fail("docker-compose is not installed and apt-get could not install it")
    private, public = token_keys
    workdir: Path = tmp_path_factory.mktemp("compose")
    result = subprocess.run(
        [binary, "-f", str(COMPOSE_FILE), "--project-directory", str(ROOT), "config"],
        cwd=workdir,  # no stray .env from the developer's checkout
        capture_output=True,
        text=True,
        timeout=60,
        env={
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "FINDME_TOKEN_PRIVATE_KEY": private,
            "FINDME_TOKEN_PUBLIC_KEY": public,
        },
        check=False,
    )
    assert result.returncode == 0, result.stderr
    yield yaml.safe_load(result.stdout)


def test_compose_refuses_to_start_without_the_token_keys(tmp_path: Path) -> None:
    binary = ensure_tool("docker-compose", "docker-compose")
    if binary is None:
        skip_or_fail("docker-compose is not installed and apt-get could not install it")
    result = subprocess.run(
        [binary, "-f", str(COMPOSE_FILE), "--project-directory", str(ROOT), "config", "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/local/bin:/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode != 0
    assert "FINDME_TOKEN_" in result.stderr


@pytest.mark.parametrize("container", sorted(COMPOSE_RUNS))
def test_resolved_environment_is_accepted_by_the_settings(
    container: str, resolved: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    service = COMPOSE_RUNS[container]
    environment = resolved["services"][container]["environment"]
    env = dict(dockerfile(service).env())
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


def _healthchecked(spec: dict[str, Any]) -> bool:
    check = spec.get("healthcheck")
    if check is not None:
        return not check.get("disable", False)
    build = spec.get("build")
    if build:
        service = Path(build["dockerfile"]).parent.name
        return bool(dockerfile(service).all("HEALTHCHECK"))
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
    assert services["migrate"]["entrypoint"] == ["python", "-m", "findme_events.migrate"]
    assert services["migrate"]["restart"] == "no"
    assert services["events-worker"]["entrypoint"] == ["python", "-m", "findme_photo_worker"]
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
    assert "/var/lib/findme/photos" in " ".join(dockerfile("events").all("RUN"))


def test_scalable_services_can_be_scaled() -> None:
    services = compose()["services"]
    for name in SCALABLE:
        spec = services[name]
        # A fixed name or a published port would make the second replica fail.
        assert "container_name" not in spec and "ports" not in spec, name
    published = [name for name, spec in services.items() if spec.get("ports")]
    assert published == ["nginx"]


def test_grpc_clients_reach_every_replica() -> None:
    services = compose()["services"]
    targets = {
        key: value
        for spec in services.values()
        for key, value in (spec.get("environment") or {}).items()
        if key.endswith("_TARGET")
    }
    assert targets, "no gRPC targets in compose"
    for key, target in targets.items():
        host, _ = grpc_target_hostport(target)  # dns:/// resolves every replica's address
        assert host in services, f"{key} points at {host}, not a compose service"


@pytest.mark.parametrize("module", ["findme_events.migrate", "findme_photo_worker.__main__"])
def test_entry_points_the_files_run_exist(module: str) -> None:
    assert importlib.util.find_spec(module) is not None, f"{module} does not exist"
