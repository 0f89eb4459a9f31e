"""Settings bases: each service subclasses one with its own env prefix."""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path
from typing import TypeVar

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


def _cgroup_cpu_limit(cpu_max: Path = Path("/sys/fs/cgroup/cpu.max")) -> int | None:
    # cgroup v2 "quota period" (e.g. "200000 100000" = 2 CPUs; "max 100000" = none).
    try:
        quota, period = cpu_max.read_text().split()[:2]
    except (OSError, ValueError):
        return None
    if quota == "max":
        return None
    return max(1, math.ceil(int(quota) / int(period)))


def usable_cpus() -> int:
    """CPUs this process may really use: its affinity set (taskset, some container
    runtimes) capped by a container's CPU quota, which os.cpu_count() ignores."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    limit = _cgroup_cpu_limit()
    return max(1, min(cpus or 1, limit or cpus or 1))


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
