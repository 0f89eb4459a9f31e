"""The FastAPI application: routers, error handlers, middleware and the
per-worker resources (gRPC channels, Redis) opened in the lifespan."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import redis.asyncio as redis
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from findme_common.logging import configure_logging
from findme_common.settings import load_settings
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from findme_gateway.claims import NameClaims
from findme_gateway.clients import open_backends
from findme_gateway.config import GatewaySettings
from findme_gateway.errors import install_error_handlers
from findme_gateway.middleware import BodySizeLimitMiddleware, RequestIdMiddleware
from findme_gateway.ratelimit import RateLimiter
from findme_gateway.routes import (
    attendees,
    events,
    health,
    me,
    organizer_events,
    organizers,
    pages,
    photos,
)
from findme_gateway.tokens import TokenVerifier

log = logging.getLogger(__name__)

# Paths whose bodies are uploads; every other body is small JSON.
UPLOAD_PATHS = frozenset({"/api/upload-selfie"})
# Upload paths with an id or token in them.
UPLOAD_PATTERNS = (re.compile(r"^/api/invites/[^/]+/register$"),)
# Multipart framing around the file itself.
MULTIPART_OVERHEAD = 64 * 1024
# The limiter must never hold a request up for long when Redis is slow or gone.
REDIS_TIMEOUT = 0.25


def _body_limit(settings: GatewaySettings) -> Callable[[str], int]:
    upload_limit = settings.max_upload_bytes + MULTIPART_OVERHEAD

    def limit_for(path: str) -> int:
        if photos.UPLOAD_PATH.match(path):
            return photos.BATCH_MAX_BYTES + MULTIPART_OVERHEAD
        if path in UPLOAD_PATHS or any(pattern.match(path) for pattern in UPLOAD_PATTERNS):
            return upload_limit
        return settings.max_json_bytes

    return limit_for


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: GatewaySettings = app.state.settings
    backends = open_backends(settings)
    cache = redis.Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=REDIS_TIMEOUT,
        socket_timeout=REDIS_TIMEOUT,
    )
    app.state.backends = backends
    app.state.rate_limiter = RateLimiter(cache)
    app.state.name_claims = NameClaims(cache)
    log.info(
        "gateway ready",
        extra={
            "auth": settings.auth_target,
            "events": settings.events_target,
            "selfie": settings.selfie_target,
        },
    )
    try:
        yield
    finally:
        await backends.close()
        await cache.aclose()


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    """The app; without ``settings`` (uvicorn's factory call) they come from the env."""
    if settings is None:
        settings = load_settings(GatewaySettings)  # type: ignore[call-arg]
        configure_logging("gateway", settings.log_level)

    app = FastAPI(
        title="findme",
        summary="Find every photo of yourself at an event from one selfie.",
        version="1.0.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.token_verifier = TokenVerifier(
        settings.token_public_key,
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        leeway=settings.token_leeway,
    )
    install_error_handlers(app)
    for module in (events, attendees, organizers, organizer_events, photos, me, health, pages):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=pages.STATIC_DIR), name="static")

    # Added innermost first: proxy headers, then request ids, wrap everything.
    app.add_middleware(BodySizeLimitMiddleware, limit_for=_body_limit(settings))
    app.add_middleware(RequestIdMiddleware, access_log=settings.access_log)
    if settings.trusted_proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))
    return app
