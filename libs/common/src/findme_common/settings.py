"""Settings bases: each service subclasses one with its own env prefix."""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path
from typing import Any, TypeVar

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Common knobs of a gRPC service. Subclasses set ``env_prefix``."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    host: str = "127.0.0.1"
    port: int = 50050
    log_level: str = "INFO"
    # Seconds in-flight calls get to finish after SIGTERM.
    shutdown_grace: float = 10.0
    # Clients reconnect after this long so new instances behind a DNS name get traffic.
    max_connection_age: float = 300.0
    max_message_bytes: int = 32 * 1024 * 1024
    # When set, the port the server bound is written here once it accepts calls: a
    # launcher passes port 0 and learns the port from the bind itself (no
    # check-then-bind race between two stacks starting at once).
    port_file: Path | None = None
    # Prometheus metrics (findme_common.metrics). Off only to measure what they cost.
    metrics_enabled: bool = True

    @property
    def bind_address(self) -> str:
        return f"{self.host}:{self.port}"


class RedisServiceSettings(ServiceSettings):
    """A service that uses Redis as an accelerator (``findme_common.redis_guard``)."""

    redis_url: str = "redis://127.0.0.1:6379/0"
    # Seconds Redis gets per connect or command before it counts as down.
    redis_timeout: float = Field(default=0.25, gt=0)
    # After a Redis failure, it is left alone for this long instead of costing a
    # timeout per request.
    redis_retry_after: float = Field(default=2.0, ge=0)


CGROUP_ROOT = Path("/sys/fs/cgroup")


def _read_fields(path: Path) -> list[str] | None:
    try:
        return path.read_text().split()
    except OSError:
        return None


def cgroup_cpu_limit(cgroup: Path = CGROUP_ROOT) -> int | None:
    """Whole CPUs the container's CPU quota allows (rounded up), or None without a quota.

    cgroup v2: ``cpu.max`` holds "quota period" ("200000 100000" = 2 CPUs; "max 100000" =
    no quota). cgroup v1: ``cpu/cpu.cfs_quota_us`` (-1 = no quota) and
    ``cpu/cpu.cfs_period_us``.
    """
    v2 = _read_fields(cgroup / "cpu.max")
    if v2 is not None:
        quota, period = [*v2, "", ""][:2]
    else:
        v1_quota = _read_fields(cgroup / "cpu" / "cpu.cfs_quota_us")
        v1_period = _read_fields(cgroup / "cpu" / "cpu.cfs_period_us")
        if not v1_quota or not v1_period:
            return None
        quota, period = v1_quota[0], v1_period[0]
    try:
        quota_us, period_us = int(quota), int(period)
    except ValueError:
        return None  # "max", or a file this code does not understand
    if quota_us <= 0 or period_us <= 0:
        return None
    return max(1, math.ceil(quota_us / period_us))


def usable_cpus(cgroup: Path = CGROUP_ROOT) -> int:
    """CPUs this process may really use: its affinity set (taskset, some container
    runtimes) capped by a container's CPU quota, which os.cpu_count() ignores. A
    Render instance or a ``docker run --cpus 2`` on a 64-core host gets 2, not 64."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cpus = cpus or 1
    limit = cgroup_cpu_limit(cgroup)
    return max(1, min(cpus, limit) if limit else cpus)


def dns_target(host: str, port: int | str) -> str:
    """The gRPC target that reaches every address ``host`` resolves to (with the
    round_robin policy of ``findme_common.grpc_client``): one per instance behind a
    compose service name or a Render "-discovery" host name."""
    host = host.strip()
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 literal
    return f"dns:///{host}:{port}"


def fill_targets(cls: type[BaseSettings], data: Any, backends: tuple[str, ...]) -> Any:
    """For a ``mode="before"`` model validator: each ``<backend>_target`` left empty
    becomes ``dns_target(<backend>_host, <backend>_port)``, so deployments give a host
    name and a port (Render: the target's discovery host) instead of composing a
    target in a shell."""
    if not isinstance(data, dict):
        return data
    filled = dict(data)
    for backend in backends:
        if filled.get(f"{backend}_target"):
            continue
        host = filled.get(f"{backend}_host", cls.model_fields[f"{backend}_host"].default)
        port = filled.get(f"{backend}_port", cls.model_fields[f"{backend}_port"].default)
        filled[f"{backend}_target"] = dns_target(str(host), str(port).strip())
    return filled


def announce_port(path: Path | None, port: int) -> None:
    """Write ``port`` to ``path`` (when set) in one step: a reader never sees half."""
    if path is None:
        return
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(f"{port}\n")
    partial.replace(path)


S = TypeVar("S", bound=BaseSettings)


def load_settings(cls: type[S]) -> S:
    """Build settings from the environment, exiting with a readable message when invalid."""
    try:
        return cls()
    except ValidationError as exc:
        prefix = cls.model_config.get("env_prefix", "")
        lines = [f"invalid configuration for {cls.__name__}:"]
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"])
            lines.append(f"  {prefix}{field.upper()}: {err['msg']}")
        sys.stderr.write("\n".join(lines) + "\n")
        raise SystemExit(2) from None
