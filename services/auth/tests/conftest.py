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
from findme.auth.v1 import auth_pb2_grpc
from findme_auth.config import AuthSettings
from findme_auth.server import build_service
from findme_common.grpc_client import open_channel
from findme_common.grpc_server import RequestIdInterceptor, server_options
from grpc_health.v1 import health


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
        }
        values.update(overrides)
        return AuthSettings(**values)

    return make


StartServer = Callable[..., Awaitable[auth_pb2_grpc.AuthServiceStub]]


@pytest.fixture
async def start_auth(make_settings: Callable[..., AuthSettings]) -> AsyncIterator[StartServer]:
    """Start a real in-process auth gRPC server (the service's own build) and return a stub.

    Mirrors findme_common.grpc_server.serve minus the signal handling, which belongs
    to the process, not to a test.
    """
    running: list[tuple[Any, grpc.aio.Server, grpc.aio.Channel]] = []

    async def start(**overrides: Any) -> auth_pb2_grpc.AuthServiceStub:
        settings = make_settings(**overrides)
        service = build_service(settings)
        assert service.startup is not None
        await service.startup()
        server = grpc.aio.server(
            interceptors=[RequestIdInterceptor()], options=server_options(settings)
        )
        service.register(server, health.aio.HealthServicer())
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        channel = open_channel(f"127.0.0.1:{port}")
        running.append((service, server, channel))
        return auth_pb2_grpc.AuthServiceStub(channel)

    yield start
    for service, server, channel in running:
        await channel.close()
        await server.stop(0)
        await service.shutdown()
