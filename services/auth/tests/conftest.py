"""Fixtures: a fresh Ed25519 key, settings, and real auth servers on loopback ports."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from findme.auth.v1 import auth_pb2, auth_pb2_grpc
from findme_auth.config import AuthSettings
from findme_auth.server import build_service
from findme_common.grpc_client import open_channel
from findme_common.grpc_server import GrpcService, StartedServer, start, stop


@dataclass(frozen=True)
class KeyPair:
    private_pem: str
    public_pem: str


@pytest.fixture(scope="session")
def key_pair() -> KeyPair:
    key = Ed25519PrivateKey.generate()
    return KeyPair(
        private_pem=key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode(),
        public_pem=key.public_key()
        .public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
        .decode(),
    )


@pytest.fixture
def make_settings(
    key_pair: KeyPair, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., AuthSettings]:
    """AuthSettings for tests: cost 4 unless asked otherwise, the session's real Redis."""
    for name in list(os.environ):
        if name.startswith("FINDME_AUTH_"):
            monkeypatch.delenv(name)

    def make(**overrides: Any) -> AuthSettings:
        values: dict[str, Any] = {
            "token_private_key": key_pair.private_pem,
            "bcrypt_rounds": 4,
            "allow_weak_bcrypt_for_tests": True,
            "redis_url": redis_url,
            "host": "127.0.0.1",
            "port": 0,
            "metrics_port": 0,
        }
        values.update(overrides)
        return AuthSettings(**values)

    return make


StartServer = Callable[..., Awaitable[auth_pb2_grpc.AuthServiceStub]]


@pytest.fixture
async def start_auth(make_settings: Callable[..., AuthSettings]) -> AsyncIterator[StartServer]:
    """Start a real in-process auth gRPC server (the service's own build, started by
    the shared bootstrap on a free port) and return a stub."""
    running: list[tuple[GrpcService, StartedServer, grpc.aio.Channel]] = []

    async def start_server(**overrides: Any) -> auth_pb2_grpc.AuthServiceStub:
        service = build_service(make_settings(**overrides))
        started = await start(service)
        channel = open_channel(
            f"127.0.0.1:{started.port}", auth_pb2.DESCRIPTOR.services_by_name["AuthService"]
        )
        running.append((service, started, channel))
        return auth_pb2_grpc.AuthServiceStub(channel)

    yield start_server
    for service, started, channel in running:
        await channel.close()
        await stop(service, started, 0)
