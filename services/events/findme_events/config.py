"""Settings of the events service (FINDME_EVENTS_*) and of its photo worker
(FINDME_WORKER_*, ``findme_photo_worker``): both open the same database and blob
store, described once in ``StoreSettings``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from findme_common.settings import RedisServiceSettings, ServiceSettings, load_settings
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from findme_events import validation

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


class StoreSettings(ServiceSettings):
    """The database and the blob store, shared by the service and its photo worker."""

    # Required: the tables hold everything; nothing works without them.
    database_url: str

    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    db_pool_timeout: float = Field(default=10.0, gt=0)
    # Recycle before typical proxy/NAT idle cut-offs.
    db_pool_recycle: float = Field(default=1800.0, gt=0)
    # A statement slower than this is counted and logged (its name, never parameters).
    slow_statement_seconds: float = Field(default=0.25, gt=0)

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
    def _s3_credentials_in_pairs(self) -> StoreSettings:
        key_id = bool(self.s3_access_key_id.get_secret_value())
        secret = bool(self.s3_secret_access_key.get_secret_value())
        if key_id != secret:
            raise ValueError("S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together")
        return self


class EventsSettings(StoreSettings, RedisServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FINDME_EVENTS_", extra="ignore", frozen=True)

    port: int = 50052
    # Prometheus metrics: GET /metrics on this port (internal only).
    metrics_port: int = Field(default=9102, ge=0)

    # Chosen with bench/tolerance.py on labelled faces (97 same-person, 644
    # different-person pairs): the closest strangers are 0.590 apart, so the library's
    # 0.6 lets false matches through; 0.50 keeps precision 1.000 (recall 0.876) with
    # a margin for larger crowds, whose closest strangers sit closer (docs/adr).
    # Per event overridable within the same bounds an organizer gets.
    default_match_tolerance: float = Field(
        default=0.50, ge=validation.MIN_MATCH_TOLERANCE, le=validation.MAX_MATCH_TOLERANCE
    )
    # Upper bound of the "maybe you?" tier of new events (an event whose tolerance is
    # higher has no maybe tier). Chosen with bench.tolerance (README, "Two tiers"): at
    # 0.55 no stranger was suggested and truthful answers lift recall from 0.866 to
    # 0.981; 0.60 reaches 1.000 but shows one stranger's face per extra true one.
    default_maybe_tolerance: float = Field(
        default=0.55, ge=validation.MIN_MATCH_TOLERANCE, le=validation.MAX_MATCH_TOLERANCE
    )
    default_retention_days: int = Field(default=30, ge=1, le=validation.MAX_RETENTION_DAYS)
    # Selfies an attendee may keep (each a reference); faces they confirm that also
    # become references (more confirmed faces still count as matches). Both bound
    # the references a new photo is compared with.
    max_selfies: int = Field(default=3, ge=1, le=10)
    max_confirmed_references: int = Field(default=10, ge=0, le=100)
    # Photos one attendee may flag as "you missed me here" (each costs a closer look).
    max_missed_photos: int = Field(default=20, ge=0)

    # Event-code cache: Redis holds entries for minutes; the in-process layer is
    # shorter because other instances cannot invalidate it.
    event_cache_ttl: float = Field(default=300.0, gt=0)
    event_cache_negative_ttl: float = Field(default=10.0, gt=0)
    event_cache_local_ttl: float = Field(default=30.0, gt=0)
    event_cache_local_size: int = Field(default=4096, ge=1)

    # How long ``migrate`` waits for the database to accept connections.
    migrate_wait: float = Field(default=30.0, ge=0)
    health_interval: float = Field(default=2.0, gt=0)
    # The selfie service stores <= 200 KB; leave headroom but refuse anything absurd.
    max_selfie_bytes: int = Field(default=1024 * 1024, ge=1)
    # Per photo file; matches the gateway's upload limit.
    max_photo_bytes: int = Field(default=15 * 1024 * 1024, ge=1)
    max_photos_per_call: int = Field(default=50, ge=1)

    invite_ttl: float = Field(default=7 * 24 * 3600.0, gt=0)
    my_photos_page_size: int = Field(default=50, ge=1, le=500)


def get_settings() -> EventsSettings:
    return load_settings(EventsSettings)
