"""The gateway's metrics: requests by route template, method and status, latency,
refusals by reason, rate-limit refusals and uploads in flight.

``python -m findme_gateway`` runs the client library in multiprocess mode (one
directory shared by the uvicorn workers), so ``/metrics`` adds up every worker
(findme_common.metrics.exposition). Route templates (``/api/events/{event_id}``),
never raw paths, keep the label sets bounded.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any, Final

from findme_common.metrics import LATENCY_BUCKETS, multiprocess_dir
from prometheus_client import Counter, Gauge, Histogram, multiprocess
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HTTP_REQUESTS: Final = Counter(
    "findme_http_requests_total",
    "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"],
)
HTTP_SECONDS: Final = Histogram(
    "findme_http_request_seconds",
    "Time from request to the end of the response, by route template and method.",
    ["route", "method"],
    buckets=LATENCY_BUCKETS,
)
HTTP_REFUSALS: Final = Counter(
    "findme_http_refusals_total",
    "Error answers by HTTP status and reason code (429 and 503 are the ones to watch).",
    ["status", "reason"],
)
RATE_LIMITED: Final = Counter(
    "findme_rate_limited_total",
    "Requests refused by the per-address rate limit, by bucket.",
    ["bucket"],
)
UPLOADS_IN_FLIGHT: Final = Gauge(
    "findme_uploads_in_flight",
    "Upload requests being received or processed, by kind (selfie, photos).",
    ["kind"],
    multiprocess_mode="livesum",
)

# Requests that matched no route: one label value, whatever the path.
UNMATCHED: Final = "unmatched"


def route_template(scope: Scope) -> str:
    """The path template of the route that answered (set by the router)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


class _Instruments:
    """Labelled children, looked up once per (route, method[, status])."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, str, int], Any] = {}
        self._latency: dict[tuple[str, str], Any] = {}

    def record(self, route: str, method: str, status: int, seconds: float) -> None:
        count = self._counts.get((route, method, status))
        if count is None:
            count = HTTP_REQUESTS.labels(route, method, str(status))
            self._counts[(route, method, status)] = count
        count.inc()
        latency = self._latency.get((route, method))
        if latency is None:
            latency = self._latency[(route, method)] = HTTP_SECONDS.labels(route, method)
        latency.observe(seconds)


class MetricsMiddleware:
    """Counts and times every HTTP request by its route template; ``upload_kind``
    names the upload requests (held in ``findme_uploads_in_flight`` while they run)."""

    def __init__(self, app: ASGIApp, *, upload_kind: Callable[[str], str | None]) -> None:
        self.app = app
        self.upload_kind = upload_kind
        self.instruments = _Instruments()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        kind = self.upload_kind(scope["path"]) if scope["method"] == "POST" else None
        uploads = UPLOADS_IN_FLIGHT.labels(kind) if kind else None
        if uploads is not None:
            uploads.inc()
        try:
            await self.app(scope, receive, send_status)
        finally:
            if uploads is not None:
                uploads.dec()
            self.instruments.record(
                route_template(scope), scope["method"], status, time.perf_counter() - started
            )


def forget_worker_metrics() -> None:
    """A worker that stops takes its live gauges (uploads in flight) with it."""
    directory = multiprocess_dir()
    if directory is not None:
        multiprocess.mark_process_dead(os.getpid(), directory)  # type: ignore[no-untyped-call]
