"""The events service's settings, read from FINDME_EVENTS_* environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from findme_common.settings import ServiceSettings, load_settings
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

_ASYNC_SCHEME = "postgresql+asyncpg://"
_PLAIN_SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://", "postgresql+psycopg2://")


def async_database_url(url: str) -> str:
    """``url`` with the asyncpg driver, whichever PostgreSQL spelling it came in."""
    if url.startswith(_ASYNC_SCHEME):
        return url
    for scheme in _PLAIN_SCHEMES:
        if url.startswith(scheme):
            return _ASYNC_SCHEME + url[len(scheme) :]
    raise ValueError("must be a postgresql:// or postgresql+asyncpg:// URL")


class EventsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FINDME_EVENTS_", extra="ignore", frozen=True)

    port: int = 50052
    # Required: the service owns every table and cannot do anything without them.
    database_url: str
    redis_url: str = "redis://127.0.0.1:6379/0"
    # Photo analysis (selfie.AnalyzePhoto) goes through this target.
    selfie_target: str = "dns:///127.0.0.1:50053"

    # Chosen with bench/tolerance.py on ../shared/faces (97 same-person, 644
    # different-person pairs): the closest strangers are 0.590 apart, so the library's
    # 0.6 lets false matches through; 0.50 keeps precision 1.000 (recall 0.876) with
    # a margin for larger crowds, whose closest strangers sit closer. Per event overridable.
    default_match_tolerance: float = Field(default=0.50, gt=0.0, le=2.0)
    default_retention_days: int = Field(default=30, ge=1)

    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    db_pool_timeout: float = Field(default=10.0, gt=0)
    # Recycle before typical proxy/NAT idle cut-offs.
    db_pool_recycle: float = Field(default=1800.0, gt=0)

    # Event-code cache: Redis holds entries for minutes; the in-process layer is
    # shorter because other instances cannot invalidate it.
    event_cache_ttl: float = Field(default=300.0, gt=0)
    event_cache_negative_ttl: float = Field(default=10.0, gt=0)
    event_cache_local_ttl: float = Field(default=30.0, gt=0)
    event_cache_local_size: int = Field(default=4096, ge=1)
    # Redis must never slow a lookup down much: short timeouts, then Postgres.
    redis_timeout: float = Field(default=0.25, gt=0)
    # After a Redis failure, skip it for this long instead of paying a timeout per call.
    redis_retry_after: float = Field(default=2.0, ge=0)

    # How long ``migrate`` waits for the database to accept connections.
    migrate_wait: float = Field(default=30.0, ge=0)
    health_interval: float = Field(default=2.0, gt=0)
    # The selfie service stores <= 200 KB; leave headroom but refuse anything absurd.
    max_selfie_bytes: int = Field(default=1024 * 1024, ge=1)

    # Photo originals, display copies and thumbnails: a local directory unless
    # S3_BUCKET is set (blobs.open_blob_store).
    blob_dir: Path = Path(".data/blobs")
    # S3-compatible object storage, for when the service and the photo workers run on
    # different machines. Empty endpoint = AWS; empty region = the AWS default chain.
    s3_bucket: str = ""
    s3_endpoint_url: str = ""
    s3_region: str = ""
    # Every key is stored under this prefix ("findme/" -> findme/events/12/...).
    s3_prefix: str = ""
    # Empty = the standard AWS chain (AWS_ACCESS_KEY_ID/..., profile, instance role).
    s3_access_key_id: SecretStr = SecretStr("")
    s3_secret_access_key: SecretStr = SecretStr("")
    # MinIO and most self-hosted servers need "path"; AWS and R2 work with "auto".
    s3_addressing_style: Literal["auto", "path", "virtual"] = "auto"
    # Connections per process, also the size of the store's thread pool.
    s3_max_connections: int = Field(default=16, ge=1, le=256)
    s3_timeout: float = Field(default=10.0, gt=0)
    # Per photo file; matches the gateway's upload limit.
    max_photo_bytes: int = Field(default=15 * 1024 * 1024, ge=1)
    max_photos_per_call: int = Field(default=50, ge=1)

    # Photo worker (python -m findme_events.worker).
    worker_concurrency: int = Field(default=2, ge=1)
    # A claim outlives the analysis deadline, so only a dead worker loses it.
    photo_lease: float = Field(default=120.0, gt=0)
    photo_max_attempts: int = Field(default=3, ge=1)
    analyze_deadline: float = Field(default=60.0, gt=0)
    # Seconds before a transient failure (selfie busy or down) is retried.
    photo_retry_delay: float = Field(default=5.0, ge=0)
    worker_idle_poll: float = Field(default=0.5, gt=0)
    retention_interval: float = Field(default=3600.0, gt=0)

    invite_ttl: float = Field(default=7 * 24 * 3600.0, gt=0)
    my_photos_page_size: int = Field(default=50, ge=1, le=500)

    @field_validator("database_url")
    @classmethod
    def _asyncpg_driver(cls, value: str) -> str:
        return async_database_url(value.strip())

    @field_validator("s3_prefix")
    @classmethod
    def _s3_prefix(cls, value: str) -> str:
        value = value.strip().strip("/")
        if not value:
            return ""
        if any(part in ("", ".", "..") for part in value.split("/")) or "\\" in value:
            raise ValueError("must be a plain path like findme or photos/findme")
        return value + "/"

    @model_validator(mode="after")
    def _s3_credentials_in_pairs(self) -> EventsSettings:
        key_id = bool(self.s3_access_key_id.get_secret_value())
        secret = bool(self.s3_secret_access_key.get_secret_value())
        if key_id != secret:
            raise ValueError("S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together")
        return self


def get_settings() -> EventsSettings:
    return load_settings(EventsSettings)
