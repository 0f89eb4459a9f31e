"""The deployment files, read the way their tools read them, and the code they must
agree with: each service's Settings class, its env prefix and its defaults."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from findme_auth.config import AuthSettings
from findme_common.settings import ServiceSettings
from findme_events.config import EventsSettings
from findme_gateway.config import GatewaySettings
from findme_photo_worker.config import WorkerSettings
from findme_selfie.config import SelfieSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
RENDER_FILE = ROOT / "deploy" / "render.yaml"
NGINX_FILE = ROOT / "deploy" / "nginx" / "nginx.conf"

SERVICES = ("gateway", "auth", "events", "selfie")
SETTINGS: dict[str, type[ServiceSettings]] = {
    "gateway": GatewaySettings,
    "auth": AuthSettings,
    "events": EventsSettings,
    "selfie": SelfieSettings,
    # The photo worker ships in the events image, with settings of its own.
    "worker": WorkerSettings,
}

# Which code runs in each container / Render service.
COMPOSE_RUNS = {
    "gateway": "gateway",
    "auth": "auth",
    "events": "events",
    "events-worker": "worker",
    "migrate": "events",
    "selfie": "selfie",
}
RENDER_RUNS = {
    "findme-gateway": "gateway",
    "findme-auth": "auth",
    "findme-events": "events",
    "findme-photo-worker": "worker",
    "findme-selfie": "selfie",
}
# The Render service each backend runs as (what clients' targets point at).
RENDER_NAME = {
    "gateway": "findme-gateway",
    "auth": "findme-auth",
    "events": "findme-events",
    "selfie": "findme-selfie",
}


def prefix(service: str) -> str:
    return str(SETTINGS[service].model_config.get("env_prefix", ""))


def env_name(service: str, field: str) -> str:
    return prefix(service) + field.upper()


def required_env(service: str) -> set[str]:
    """Env vars of the settings fields that have no default (start-up fails without them)."""
    fields = SETTINGS[service].model_fields
    return {env_name(service, name) for name, info in fields.items() if info.is_required()}


def known_env(service: str) -> set[str]:
    return {env_name(service, name) for name in SETTINGS[service].model_fields}


def default(service: str, field: str) -> Any:
    return SETTINGS[service].model_fields[field].default


@cache
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@cache
def render() -> dict[str, Any]:
    return yaml.safe_load(RENDER_FILE.read_text())


def render_services() -> dict[str, dict[str, Any]]:
    return {service["name"]: service for service in render()["services"]}


def render_env(service: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["key"]: entry for entry in service.get("envVars", []) if "key" in entry}


DOCKERFILE = ROOT / "Dockerfile"
BUILD_ARG = "FINDME_SERVICE"
# The image each piece of code runs in (the photo worker and the migrations ship in
# the events image).
IMAGE = {"worker": "events"}
# What each image starts when nothing overrides its CMD.
MODULE = {"worker": "findme_photo_worker"}


def module_of(runs: str) -> str:
    return MODULE.get(runs, f"findme_{runs}")


@dataclass(frozen=True)
class Stage:
    name: str
    base: str
    instructions: list[tuple[str, str]]


@dataclass(frozen=True)
class Image:
    """One service's image, as ``docker build --build-arg FINDME_SERVICE=<service>``
    makes it from the one Dockerfile: the build stage that fills its virtualenv, and
    the chain of stages its final stage stands on (config is inherited along it)."""

    service: str
    build: list[tuple[str, str]]
    final: list[tuple[str, str]]

    def all(self, instruction: str) -> list[str]:
        """``instruction``'s arguments in the build stage and the final chain."""
        return [rest for word, rest in self.build + self.final if word == instruction]

    def runtime(self, instruction: str) -> list[str]:
        return [rest for word, rest in self.final if word == instruction]

    def env(self) -> dict[str, str]:
        """ENV of the final image (KEY=VALUE form)."""
        values: dict[str, str] = {}
        for rest in self.runtime("ENV"):
            for key, value in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=(\S+)", rest):
                values[key] = value
        return values

    def exec_form(self, instruction: str) -> list[str] | None:
        """The JSON-array argument of the final image's ENTRYPOINT, CMD or
        HEALTHCHECK ... CMD (the last one wins, as in Docker); None when unset."""
        found = self.runtime(instruction)
        if not found:
            return None
        rest = found[-1]
        parsed = json.loads(rest[rest.index("[") :])
        assert isinstance(parsed, list), rest
        return [str(item) for item in parsed]

    def effective_command(self, override: str | list[str] | None = None) -> list[str]:
        """What the container runs: ENTRYPOINT + CMD, the CMD replaced by ``override``
        (compose's command, Render's dockerCommand or preDeployCommand) when given."""
        entrypoint = self.exec_form("ENTRYPOINT") or []
        if override is None:
            command = self.exec_form("CMD") or []
        elif isinstance(override, str):
            command = shlex.split(override)
        else:
            command = list(override)
        return [*entrypoint, *command]


def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", text)
    result = []
    for line in joined.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        word, _, rest = stripped.partition(" ")
        result.append((word.upper(), rest.strip()))
    return result


def _substitute(text: str, args: dict[str, str]) -> str:
    return re.sub(
        r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?",
        lambda m: args.get(m.group(1), m.group(0)),
        text,
    )


@cache
def dockerfile_text() -> str:
    return DOCKERFILE.read_text()


def stages(service: str) -> dict[str, Stage]:
    """The Dockerfile's stages with ``FINDME_SERVICE=<service>`` substituted."""
    found: dict[str, Stage] = {}
    current: Stage | None = None
    for word, rest in _instructions(dockerfile_text()):
        rest = _substitute(rest, {BUILD_ARG: service})
        if word == "FROM":
            match = re.fullmatch(r"(\S+)(?:\s+AS\s+(\S+))?", rest, flags=re.I)
            assert match, rest
            base, name = match.group(1), match.group(2) or f"stage{len(found)}"
            current = Stage(name=name, base=base, instructions=[])
            found[name] = current
        elif current is not None:
            current.instructions.append((word, rest))
    return found


def image(service: str) -> Image:
    """The image built for ``service`` (or the image ``service`` runs in)."""
    service = IMAGE.get(service, service)
    all_stages = stages(service)
    final = list(all_stages.values())[-1]
    chain: list[Stage] = []
    stage: Stage | None = final
    while stage is not None:
        chain.insert(0, stage)
        stage = all_stages.get(stage.base)
    return Image(
        service=service,
        build=all_stages["build"].instructions,
        final=[item for stage in chain for item in stage.instructions],
    )


def dockerfile(service: str) -> Image:
    return image(service)


def grpc_target_hostport(target: str) -> tuple[str, int]:
    match = re.fullmatch(r"dns:///([^:/]+):(\d+)", target)
    assert match, f"{target!r} is not a dns:/// target with a port"
    return match.group(1), int(match.group(2))


def ensure_tool(binary: str, apt_package: str) -> str | None:
    """Path of ``binary``, installing the Debian package once if it is missing."""
    found = shutil.which(binary)
    if found or not shutil.which("apt-get"):
        return found
    subprocess.run(
        ["apt-get", "install", "-y", "--no-install-recommends", apt_package],
        capture_output=True,
        timeout=300,
        check=False,
        env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
    )
    return shutil.which(binary)


def locked_packages(package: str) -> set[str]:
    """Names of everything `uv sync --package <package>` installs, read from uv.lock."""
    uv = shutil.which("uv")
    command = [uv] if uv else [sys.executable, "-m", "uv"]
    out = subprocess.run(
        [
            *command,
            "export",
            "--frozen",
            "--no-dev",
            "--no-hashes",
            "--no-emit-workspace",
            "--package",
            package,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return {
        m.group(1).lower().replace("_", "-")
        for line in out.splitlines()
        if "sys_platform == 'never'" not in line and (m := re.match(r"^([A-Za-z0-9_.\-]+)==", line))
    }


# Stand-ins for what Render fills in itself, by kind of reference.
RENDER_DATABASE_URL = "postgresql://findme:render-password@findme-db:5432/findme"
RENDER_KEYVALUE_URL = "redis://findme-cache:6379"


def discovery_host(service_name: str) -> str:
    """RENDER_DISCOVERY_SERVICE of a private service: its "-discovery" host name."""
    return f"{service_name}-discovery"


def render_environment(
    service: dict[str, Any], entered: dict[str, str] | None = None
) -> dict[str, str]:
    """The environment a Render instance of ``service`` starts with: its image's ENV,
    then its envVars with references resolved the way Render resolves them (a
    database or Key Value URL, another service's discovery host name) and the values
    entered in the Dashboard (``sync: false``) taken from ``entered``."""
    runs = RENDER_RUNS[service["name"]]
    env = dict(image(runs).env())
    for entry in service.get("envVars", []):
        key = entry["key"]
        if "value" in entry:
            env[key] = str(entry["value"])
        elif "fromDatabase" in entry:
            env[key] = RENDER_DATABASE_URL
        elif "fromService" in entry:
            source = entry["fromService"]
            if source["type"] == "keyvalue":
                env[key] = RENDER_KEYVALUE_URL
            else:
                assert source.get("envVarKey") == "RENDER_DISCOVERY_SERVICE", source
                env[key] = discovery_host(source["name"])
        elif entry.get("sync") is False and entered and key in entered:
            env[key] = entered[key]
    return env


def settings_from(runs: str, env: dict[str, str]) -> ServiceSettings:
    """``runs``'s Settings as that environment makes them (and nothing else: the
    environment of the process running the tests is not read)."""
    cls = SETTINGS[runs]
    fields = {
        name[len(prefix(runs)) :].lower(): value
        for name, value in env.items()
        if name.startswith(prefix(runs))
    }
    return cls.model_validate(fields)


def render_settings(name: str, entered: dict[str, str] | None = None) -> ServiceSettings:
    return settings_from(RENDER_RUNS[name], render_environment(render_services()[name], entered))


def entered_token_keys() -> dict[str, str]:
    """A fresh token key pair as an operator enters it in Render's Dashboard."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
        PublicFormat,
    )

    key = Ed25519PrivateKey.generate()
    return {
        "FINDME_AUTH_TOKEN_PRIVATE_KEY": key.private_bytes(
            Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
        ).decode(),
        "FINDME_GATEWAY_TOKEN_PUBLIC_KEY": key.public_key()
        .public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
        .decode(),
    }
