"""Gateway settings, read from FINDME_GATEWAY_* environment variables."""

from __future__ import annotations

from typing import Annotated

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from findme_common.settings import RedisServiceSettings
from pydantic import Field, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

MIB = 1024 * 1024


class GatewaySettings(RedisServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FINDME_GATEWAY_", extra="ignore", frozen=True)

    host: str = "127.0.0.1"
    port: int = 8000
    # uvicorn worker processes; each holds its own channels and Redis pool.
    workers: int = Field(default=1, ge=1)
    access_log: bool = True

    auth_target: str = "dns:///127.0.0.1:50051"
    events_target: str = "dns:///127.0.0.1:50052"
    selfie_target: str = "dns:///127.0.0.1:50053"

    # Ed25519 public key (PEM) matching auth's signing key. Required: without it no
    # token can be checked, so the gateway refuses to start.
    token_public_key: str
    token_issuer: str = "findme-auth"
    token_audience: str = "findme"
    # Clock skew tolerated between auth and gateway hosts, in seconds.
    token_leeway: float = 10.0

    # One image file (a selfie, or each event photo).
    max_upload_bytes: int = Field(default=15 * MIB, gt=0)
    # JSON bodies are tiny; anything bigger is refused before it is read.
    max_json_bytes: int = Field(default=64 * 1024, gt=0)
    # One photo upload request: files and total size (the multipart parser spools
    # them to disk while they arrive).
    max_photos_per_request: int = Field(default=50, ge=1)
    max_photo_request_bytes: int = Field(default=100 * MIB, gt=0)
    # Photos go to the events service in calls below its gRPC message limit.
    photo_rpc_batch_bytes: int = Field(default=24 * MIB, gt=0)

    # Per-call deadlines (seconds): lookups, bcrypt work (may queue), image work,
    # photo batches (originals are written to the blob store inside the call).
    cheap_deadline: float = Field(default=2.0, gt=0)
    password_deadline: float = Field(default=10.0, gt=0)
    selfie_deadline: float = Field(default=30.0, gt=0)
    photos_deadline: float = Field(default=60.0, gt=0)
    health_deadline: float = Field(default=1.0, gt=0)

    # Requests per client address per window. A whole venue often shares one NAT
    # address, so these are flood guards; per-account login throttling lives in auth.
    rate_limit_enabled: bool = True
    rate_limit_window: float = Field(default=60.0, gt=0)
    login_rate_limit: int = Field(default=300, ge=1)
    register_rate_limit: int = Field(default=300, ge=1)
    upload_rate_limit: int = Field(default=120, ge=1)

    # Peers (IPs or CIDRs, comma separated) whose X-Forwarded-For is believed,
    # e.g. the nginx in front. Empty: the socket peer is the client.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # A registration holds its name this long at most (name_reservations).
    name_reservation_seconds: int = Field(default=30, ge=1)

    # GET /metrics answers only peers in these networks whose request came through no
    # proxy (no X-Forwarded-For / Forwarded header): a scraper on the private network,
    # never a client through nginx or the platform's edge (they add the header).
    metrics_networks: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: [
            "127.0.0.0/8",
            "::1/128",
            "10.0.0.0/8",
            "172.16.0.0/12",
            "192.168.0.0/16",
            "fc00::/7",
        ]
    )
    # The other services' metrics, scraped for /admin/performance. A host name that
    # resolves to several instances (a scaled service) is scraped at each address.
    auth_metrics_url: str = "http://127.0.0.1:9101/metrics"
    events_metrics_url: str = "http://127.0.0.1:9102/metrics"
    selfie_metrics_url: str = "http://127.0.0.1:9103/metrics"
    worker_metrics_url: str = "http://127.0.0.1:9104/metrics"
    # Where the uvicorn workers share their metrics files; empty = a fresh temporary
    # folder per start (python -m findme_gateway).
    metrics_dir: str = ""

    @field_validator("trusted_proxies", "metrics_networks", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("token_public_key")
    @classmethod
    def _check_public_key(cls, value: str) -> str:
        # Env files often carry PEMs on one line with literal "\n".
        pem = value.replace("\\n", "\n").strip() + "\n"
        try:
            key = load_pem_public_key(pem.encode())
        except ValueError as exc:
            raise ValueError("not a PEM public key") from exc
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("must be an Ed25519 public key (tokens are signed with EdDSA)")
        return pem
