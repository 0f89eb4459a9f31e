"""Gateway settings, read from FINDME_GATEWAY_* environment variables."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from findme_common.settings import RedisServiceSettings, fill_targets
from findme_common.token_keys import split_pem_bundle
from pydantic import Field, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

MIB = 1024 * 1024
BACKENDS = ("auth", "events", "selfie")


class GatewaySettings(RedisServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FINDME_GATEWAY_", extra="ignore", frozen=True)

    host: str = "127.0.0.1"
    port: int = 8000
    # uvicorn worker processes; each holds its own channels and Redis pool.
    workers: int = Field(default=1, ge=1)
    access_log: bool = True

    # Each backend is reached at dns:///<host>:<port>: every address the name resolves
    # to, one per instance, with round_robin (compose: the service name; Render: the
    # service's "-discovery" host name). A <backend>_target, when set, is used as is
    # instead (e.g. ipv4:10.0.0.5:50051,10.0.0.6:50051); left empty it is built from
    # host and port, so after loading it always holds the target in use.
    auth_host: str = "127.0.0.1"
    auth_port: int = Field(default=50051, ge=1, le=65535)
    auth_target: str = ""
    events_host: str = "127.0.0.1"
    events_port: int = Field(default=50052, ge=1, le=65535)
    events_target: str = ""
    selfie_host: str = "127.0.0.1"
    selfie_port: int = Field(default=50053, ge=1, le=65535)
    selfie_target: str = ""

    # Ed25519 public keys (PEM) of auth's signing keys: one key, or several one after
    # the other while a new key is rolled out (deploy/README.md, "Rotating the token
    # key"). Tokens name their key with "kid". Required: without it no token can be
    # checked, so the gateway refuses to start.
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
    # check-event-code and check-user-availability, asked as people type: a venue of
    # a thousand joining within minutes stays far below; enumerating 8-character codes
    # or a guest list at 20/s from one address does not get far.
    lookup_rate_limit: int = Field(default=1200, ge=1)
    # Uploads per account (selfies per attendee, photo batches per organizer), not per
    # address: a venue's attendees share one address.
    upload_rate_limit: int = Field(default=30, ge=1)

    # Upload bodies read at once by one gateway process; past it, 503 overloaded with
    # Retry-After before any byte of the body is read.
    max_concurrent_uploads: int = Field(default=16, ge=1)
    # Selfies of one account: one is checked at a time and this many wait behind it;
    # more get 429 selfie_in_progress, so no account takes more than one image worker.
    selfie_queue_per_account: int = Field(default=2, ge=0)

    # The request line plus headers: past either limit, 431 before the app runs.
    max_header_bytes: int = Field(default=32 * 1024, ge=1024)
    max_header_count: int = Field(default=100, ge=8)

    # Strict-Transport-Security on answers to requests that arrived over HTTPS (the
    # scheme as seen after trusted proxies). 0 turns it off.
    hsts_max_age: int = Field(default=365 * 24 * 3600, ge=0)
    # The interactive API docs (/docs, /redoc) load Swagger UI and ReDoc from a CDN,
    # on the origin whose pages hold tokens: off unless asked for (`make run` asks).
    # The schema itself stays at /openapi.json.
    api_docs: bool = False

    # Proxies (IPs or CIDRs, comma separated) whose X-Forwarded-For is believed. The
    # client is the right-most address of the chain (X-Forwarded-For, then the socket
    # peer) that is not one of them: entries a client wrote itself sit further left
    # and are never reached. Only when the socket peer is trusted is the header read
    # at all. Empty: the socket peer is the client. compose: the nginx network;
    # Render: its proxies' private ranges plus Cloudflare's published ranges.
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

    @model_validator(mode="before")
    @classmethod
    def _backend_targets(cls, data: Any) -> Any:
        return fill_targets(cls, data, BACKENDS)

    @field_validator("trusted_proxies", "metrics_networks", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: list[str]) -> list[str]:
        # uvicorn would silently treat a malformed entry as a literal host name that no
        # peer ever matches; refuse it here instead.
        for item in value:
            try:
                if "/" in item:
                    ipaddress.ip_network(item)
                else:
                    ipaddress.ip_address(item)
            except ValueError as exc:
                raise ValueError(f"{item!r} is not an IP address or network") from exc
        return value

    @field_validator("token_public_key")
    @classmethod
    def _check_public_keys(cls, value: str) -> str:
        # Env files often carry PEMs on one line with literal "\n".
        pems = split_pem_bundle(value)
        if not pems:
            raise ValueError("not a PEM public key")
        for pem in pems:
            try:
                key = load_pem_public_key(pem.encode())
            except ValueError as exc:
                raise ValueError("not a PEM public key") from exc
            if not isinstance(key, Ed25519PublicKey):
                raise ValueError("must be Ed25519 public keys (tokens are signed with EdDSA)")
        return "".join(pems)
