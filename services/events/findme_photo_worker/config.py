"""The photo worker's settings, read from FINDME_WORKER_* environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from findme_common.settings import fill_targets, load_settings
from findme_events.config import StoreSettings
from pydantic import Field, field_validator, model_validator
from pydantic_settings import SettingsConfigDict


class WorkerSettings(StoreSettings):
    model_config = SettingsConfigDict(env_prefix="FINDME_WORKER_", extra="ignore", frozen=True)

    # Photo analysis (selfie.AnalyzePhoto) goes to dns:///<selfie_host>:<selfie_port>
    # (every selfie instance; Render: its "-discovery" host name), or to selfie_target
    # as is when that is set.
    selfie_host: str = "127.0.0.1"
    selfie_port: int = Field(default=50053, ge=1, le=65535)
    selfie_target: str = ""
    # Claim loops per worker process; each holds one photo at a time. All workers'
    # loops together should keep the selfie processes busy without overflowing the
    # selfie service's queue (a refused photo costs an attempt): deploy/README.md.
    concurrency: int = Field(default=2, ge=1)
    analyze_deadline: float = Field(default=60.0, gt=0)
    # A claim outlives the analysis deadline, so only a dead worker loses it.
    photo_lease: float = Field(default=120.0, gt=0)
    photo_max_attempts: int = Field(default=3, ge=1)
    # Seconds before a transient failure (selfie busy or down) is retried.
    photo_retry_delay: float = Field(default=5.0, ge=0)
    # A new photo wakes the worker at once (PostgreSQL NOTIFY on the photos table);
    # without a notification it still looks this often (retries that came due, a
    # listening connection that was lost).
    idle_poll: float = Field(default=0.5, gt=0)
    retention_interval: float = Field(default=3600.0, gt=0)
    # Expired failed photos removed per transaction (their originals first).
    retention_batch: int = Field(default=100, ge=1)
    # Touched whenever a claim loop turns; ``python -m findme_photo_worker.probe``
    # (the container health check) fails when it is older than heartbeat_max_age.
    # Empty: no heartbeat file. The age must outlast one photo (analysis deadline plus
    # blob I/O), or a busy worker would look dead.
    heartbeat_file: Path | None = None
    heartbeat_max_age: float = Field(default=180.0, gt=0)

    @model_validator(mode="before")
    @classmethod
    def _selfie_target(cls, data: Any) -> Any:
        return fill_targets(cls, data, ("selfie",))

    @field_validator("heartbeat_file", mode="before")
    @classmethod
    def _no_heartbeat_when_empty(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _heartbeat_outlasts_a_photo(self) -> WorkerSettings:
        beating = self.heartbeat_file is not None
        if beating and self.heartbeat_max_age <= self.analyze_deadline + self.idle_poll:
            raise ValueError("heartbeat_max_age must exceed analyze_deadline + idle_poll")
        return self

    # Prometheus metrics: GET /metrics on this port (internal only).
    metrics_port: int = Field(default=9104, ge=0)
    # How often the photo queue's depth and oldest pending photo are measured.
    queue_metrics_interval: float = Field(default=5.0, gt=0)


def get_settings() -> WorkerSettings:
    return load_settings(WorkerSettings)
