"""The photo worker's settings, read from FINDME_WORKER_* environment variables."""

from __future__ import annotations

from findme_common.settings import load_settings
from findme_events.config import StoreSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict


class WorkerSettings(StoreSettings):
    model_config = SettingsConfigDict(env_prefix="FINDME_WORKER_", extra="ignore", frozen=True)

    # Photo analysis (selfie.AnalyzePhoto) goes through this target.
    selfie_target: str = "dns:///127.0.0.1:50053"
    # Claim loops per worker process; each holds one photo at a time.
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

    # Prometheus metrics: GET /metrics on this port (internal only).
    metrics_port: int = Field(default=9104, ge=0)
    # How often the photo queue's depth and oldest pending photo are measured.
    queue_metrics_interval: float = Field(default=5.0, gt=0)


def get_settings() -> WorkerSettings:
    return load_settings(WorkerSettings)
