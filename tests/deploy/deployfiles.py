"""The deployment files, read the way their tools read them, and the code they must
agree with: each service's Settings class, its env prefix and its defaults."""

from __future__ import annotations

import json
import re
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


def render_exported(service: dict[str, Any]) -> dict[str, str]:
    """Variables the service's dockerCommand exports (Render does not interpolate env)."""
    command = service.get("dockerCommand", "")
    return dict(re.findall(r'(FINDME_[A-Z_]+)="([^"]*)"', command))


@dataclass(frozen=True)
class Dockerfile:
    path: Path
    text: str

    @property
    def instructions(self) -> list[tuple[str, str]]:
        """(INSTRUCTION, arguments) with continuation lines joined, comments dropped."""
        joined = re.sub(r"\\\n", " ", self.text)
        result = []
        for line in joined.splitlines():
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            word, _, rest = stripped.partition(" ")
            result.append((word.upper(), rest.strip()))
        return result

    def all(self, instruction: str) -> list[str]:
        return [rest for word, rest in self.instructions if word == instruction]

    def last_stage(self) -> list[tuple[str, str]]:
        instructions = self.instructions
        starts = [i for i, (word, _) in enumerate(instructions) if word == "FROM"]
        return instructions[starts[-1] :]

    def env(self) -> dict[str, str]:
        """ENV of the final stage (KEY=VALUE form)."""
        values: dict[str, str] = {}
        for word, rest in self.last_stage():
            if word == "ENV":
                for key, value in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=(\S+)", rest):
                    values[key] = value
        return values

    def exec_form(self, instruction: str) -> list[str]:
        """The JSON-array argument of ENTRYPOINT or HEALTHCHECK ... CMD in the final stage."""
        for word, rest in self.last_stage():
            if word == instruction:
                start = rest.index("[")
                parsed = json.loads(rest[start:])
                assert isinstance(parsed, list)
                return [str(item) for item in parsed]
        raise AssertionError(f"{self.path}: no {instruction}")


# Code that runs in another service's image.
IMAGE = {"worker": "events"}


def dockerfile(service: str) -> Dockerfile:
    path = ROOT / "services" / IMAGE.get(service, service) / "Dockerfile"
    return Dockerfile(path, path.read_text())


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
