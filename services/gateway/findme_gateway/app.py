"""The FastAPI application: routers, error handlers, middleware and the
per-worker resources (gRPC channels, Redis) opened in the lifespan."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from findme_common import tracing
from findme_common.logging import configure_logging
from findme_common.redis_guard import open_redis
from findme_common.settings import load_settings
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from findme_gateway.backends import open_backends
from findme_gateway.config import GatewaySettings
from findme_gateway.errors import install_error_handlers
from findme_gateway.fairness import Lanes
from findme_gateway.hsts import StrictTransportSecurityMiddleware
from findme_gateway.metrics import MetricsMiddleware, forget_worker_metrics
from findme_gateway.middleware import BodySizeLimitMiddleware, RequestIdMiddleware
from findme_gateway.name_reservations import NameReservations
from findme_gateway.ratelimit import RateLimiter
from findme_gateway.routes import (
    admin,
    attendees,
    event_codes,
    events,
    health,
    invites,
    me,
    metrics,
    operators,
    organizers,
    pages,
    photos,
)
from findme_gateway.tokens import TokenVerifier
from findme_gateway.uploads import UploadSlots

log = logging.getLogger(__name__)

ROUTERS = (
    event_codes,
    attendees,
    organizers,
    operators,
    events,
    photos,
    invites,
    me,
    health,
    metrics,
    admin,
    pages,
)
# Paths whose bodies are one image; every other body is small JSON, or a photo batch.
IMAGE_UPLOAD_PATHS = re.compile(r"^/api/(upload-selfie|invites/[^/]+/register)$")
PHOTO_UPLOAD_PATHS = re.compile(photos.UPLOAD_PATH)
# Multipart framing around the file itself.
MULTIPART_OVERHEAD = 64 * 1024


def upload_kind(path: str) -> str | None:
    """Which upload a POST to ``path`` is (for the uploads-in-flight gauge)."""
    if PHOTO_UPLOAD_PATHS.match(path):
        return "photos"
    if IMAGE_UPLOAD_PATHS.match(path):
        return "selfie"
    return None


def _body_limit(settings: GatewaySettings) -> Callable[[str], int]:
    def limit_for(path: str) -> int:
        if PHOTO_UPLOAD_PATHS.match(path):
            return settings.max_photo_request_bytes + MULTIPART_OVERHEAD
        if IMAGE_UPLOAD_PATHS.match(path):
            return settings.max_upload_bytes + MULTIPART_OVERHEAD
        return settings.max_json_bytes

    return limit_for


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: GatewaySettings = app.state.settings
    backends = open_backends(settings)
    # The limiter must never hold a request up for long when Redis is slow or gone.
    cache = open_redis(settings.redis_url, timeout=settings.redis_timeout)
    app.state.backends = backends
    app.state.rate_limiter = RateLimiter(cache, retry_after=settings.redis_retry_after)
    app.state.name_reservations = NameReservations(
        cache,
        ttl_seconds=settings.name_reservation_seconds,
        retry_after=settings.redis_retry_after,
    )
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
        forget_worker_metrics()


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    """The app; without ``settings`` (uvicorn's factory call) they come from the env."""
    if settings is None:
        settings = load_settings(GatewaySettings)
        configure_logging("gateway", settings.log_level)

    app = FastAPI(
        title="findme",
        summary="Find every photo of yourself at an event from one selfie.",
        version="1.0.0",
        lifespan=lifespan,
        docs_url="/docs" if settings.api_docs else None,
        redoc_url="/redoc" if settings.api_docs else None,
    )
    app.state.settings = settings
    app.state.token_verifier = TokenVerifier(
        settings.token_public_key,
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        leeway=settings.token_leeway,
    )
    app.state.upload_slots = UploadSlots(settings.max_concurrent_uploads)
    app.state.selfie_lanes = Lanes(in_flight=1, queue=settings.selfie_queue_per_account)
    install_error_handlers(app)
    for module in ROUTERS:
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=pages.STATIC_DIR), name="static")

    # Added innermost first: proxy headers, then request ids, wrap everything.
    app.add_middleware(BodySizeLimitMiddleware, limit_for=_body_limit(settings))
    app.add_middleware(RequestIdMiddleware, access_log=settings.access_log)
    if settings.hsts_max_age:
        app.add_middleware(StrictTransportSecurityMiddleware, max_age=settings.hsts_max_age)
    if settings.metrics_enabled:
        app.add_middleware(MetricsMiddleware, upload_kind=upload_kind)
    if settings.trusted_proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))
    # Outermost when on: the request's span encloses everything the gateway does.
    if tracing.configure("gateway"):
        tracing.instrument_app(app)
    return app
