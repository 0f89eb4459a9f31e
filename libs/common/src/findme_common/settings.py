"""Settings base: each service subclasses it with its own env prefix."""

from __future__ import annotations

import sys
from typing import TypeVar

from pydantic import ValidationError
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

    @property
    def bind_address(self) -> str:
        return f"{self.host}:{self.port}"


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
