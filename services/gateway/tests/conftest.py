"""Gateway test fixtures: a throwaway Ed25519 key pair, token minting, settings whose
backend targets are closed loopback ports, and the app served over httpx."""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import grpc
import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from findme_common.refusals import REASON_KEY, RETRY_AFTER_KEY
from findme_gateway.app import create_app, lifespan
from findme_gateway.config import GatewaySettings

TokenFactory = Callable[..., str]
SettingsFactory = Callable[..., GatewaySettings]


def public_pem(key: Ed25519PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def closed_port() -> Callable[[], int]:
    return _closed_port


@pytest.fixture(scope="session")
def signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="session")
def make_token(signing_key: Ed25519PrivateKey) -> TokenFactory:
    """Mint a token as auth would; keyword arguments override or (None) drop claims."""

    def make(role: str = "attendee", subject: int = 7, event: int | None = 3, **claims: Any) -> str:
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": "findme-auth",
            "aud": "findme",
            "sub": str(subject),
            "role": role,
            "iat": now,
            "exp": now + 900,
            "jti": uuid.uuid4().hex,
        }
        if role == "attendee" and event is not None:
            payload["event"] = event
        payload.update(claims)
        payload = {key: value for key, value in payload.items() if value is not None}
        return jwt.encode(payload, signing_key, algorithm="EdDSA")

    return make


@pytest.fixture
def make_settings(signing_key: Ed25519PrivateKey) -> SettingsFactory:
    def make(**overrides: Any) -> GatewaySettings:
        values: dict[str, Any] = {
            "token_public_key": public_pem(signing_key),
            "auth_target": f"dns:///127.0.0.1:{_closed_port()}",
            "events_target": f"dns:///127.0.0.1:{_closed_port()}",
            "selfie_target": f"dns:///127.0.0.1:{_closed_port()}",
            "redis_url": f"redis://127.0.0.1:{_closed_port()}/0",
            "health_deadline": 0.5,
            "cheap_deadline": 0.5,
            "access_log": False,
        }
        values.update(overrides)
        return GatewaySettings(**values)

    return make


@pytest.fixture
def client_address() -> str:
    """A distinct client address per test keeps rate-limit counters apart."""
    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"


@asynccontextmanager
async def serve(app: FastAPI, client_address: str) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan running, behind an httpx client from ``client_address``."""
    async with lifespan(app):
        transport = httpx.ASGITransport(app=app, client=(client_address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield client


Serve = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def open_client(client_address: str) -> Serve:
    def open_(
        app: FastAPI, address: str | None = None
    ) -> AbstractAsyncContextManager[httpx.AsyncClient]:
        return serve(app, address or client_address)

    return open_


@pytest.fixture
async def app(make_settings: SettingsFactory) -> FastAPI:
    return create_app(make_settings())


@pytest.fixture
async def client(app: FastAPI, open_client: Serve) -> AsyncIterator[httpx.AsyncClient]:
    async with open_client(app) as http:
        yield http


@pytest.fixture(scope="session")
async def refuser() -> AsyncIterator[str]:
    """A real gRPC server on a loopback port whose one method, ``/test.Refuser/Call``,
    takes a JSON request and either aborts with the given code, reason and retry-after
    (in trailing metadata, as the services' interceptor does) or, for code "OK",
    answers with the x-request-id it received. Yields its target."""

    async def call(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        order = json.loads(request)
        if order["code"] == "OK":
            metadata = dict(context.invocation_metadata() or ())
            return str(metadata.get("x-request-id", "")).encode()
        metadata = []
        if order.get("reason") is not None:
            metadata.append((REASON_KEY, order["reason"]))
        if order.get("retry_after") is not None:
            metadata.append((RETRY_AFTER_KEY, str(order["retry_after"])))
        context.set_trailing_metadata(tuple(metadata))
        await context.abort(grpc.StatusCode[order["code"]], order.get("message", ""))

    handler = grpc.method_handlers_generic_handler(
        "test.Refuser", {"Call": grpc.unary_unary_rpc_method_handler(call)}
    )
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield f"127.0.0.1:{port}"
    await server.stop(None)


async def call_refuser(channel: grpc.aio.Channel, **order: Any) -> bytes:
    method = channel.unary_unary("/test.Refuser/Call")
    reply: bytes = await method(json.dumps(order).encode(), timeout=5)
    return reply


@pytest.fixture
def refuser_call() -> Callable[..., Any]:
    return call_refuser


@pytest.fixture
async def closed_target_channel() -> AsyncIterator[grpc.aio.Channel]:
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{_closed_port()}")
    yield channel
    await channel.close()
