"""Prometheus metrics: the shared instruments and how a process exports them.

Every service records into prometheus_client's default registry. A gRPC service and
the photo worker serve it on a small HTTP port of their own (``serve_metrics``); the
gateway answers ``/metrics`` itself, aggregated over its uvicorn worker processes
through the client library's multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``, set by
``python -m findme_gateway`` before any worker starts).

Metric names follow Prometheus conventions: ``_total`` counters, ``_seconds``
histograms, and the grpc_server_* names other gRPC exporters use, so stock dashboards
and queries apply.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)

MULTIPROCESS_ENV: Final = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE: Final = CONTENT_TYPE_LATEST

# From a cached lookup (~1 ms) to a photo analysis (tens of seconds).
LATENCY_BUCKETS: Final = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
)

# -- gRPC servers (findme_common.grpc_server.ServiceInterceptor) ---------------------------
RPC_HANDLED = Counter(
    "grpc_server_handled_total",
    "gRPC calls finished, by method and status code.",
    ["grpc_service", "grpc_method", "grpc_code"],
)
RPC_SECONDS = Histogram(
    "grpc_server_handling_seconds",
    "Time to answer a gRPC call, by method.",
    ["grpc_service", "grpc_method"],
    buckets=LATENCY_BUCKETS,
)
RPC_REFUSALS = Counter(
    "findme_rpc_refusals_total",
    "gRPC calls refused, by method and refusal reason (overloaded, too_many_attempts...).",
    ["grpc_service", "grpc_method", "reason"],
)

# -- CPU pools (findme_common.admission.AdmissionControl) ----------------------------------
POOL_WORKERS = Gauge("findme_pool_workers", "Workers of a CPU pool.", ["pool"])
POOL_QUEUE_LIMIT = Gauge(
    "findme_pool_queue_limit", "Jobs that may wait for a worker before refusals.", ["pool"]
)
POOL_BUSY = Gauge("findme_pool_busy_workers", "Workers running a job.", ["pool"])
POOL_QUEUED = Gauge("findme_pool_queued_jobs", "Jobs waiting for a worker.", ["pool"])
POOL_REFUSALS = Counter(
    "findme_pool_refusals_total", "Jobs refused with overloaded (pool full).", ["pool"]
)
POOL_JOB_SECONDS = Histogram(
    "findme_pool_job_seconds",
    "Time one job took on a worker (not counting its wait).",
    ["pool"],
    buckets=LATENCY_BUCKETS,
)

# -- Redis used as an accelerator (findme_common.redis_guard.RedisGuard) -------------------
REDIS_UP = Gauge(
    "findme_redis_up",
    "1 while Redis answers for this purpose, 0 from a failure until it answers again.",
    ["purpose"],
    multiprocess_mode="livemin",
)
REDIS_FAILED_CALLS = Counter(
    "findme_redis_failures_total", "Redis calls that failed or timed out.", ["purpose"]
)
REDIS_SKIPPED = Counter(
    "findme_redis_skipped_total",
    "Calls that left Redis alone after a recent failure (answered by the fallback).",
    ["purpose"],
)


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROCESS_ENV) or None


def exposition() -> bytes:
    """The metrics of this process, or of every worker process in multiprocess mode."""
    directory = multiprocess_dir()
    if directory is None:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    return generate_latest(registry)


def serve_metrics(host: str, port: int) -> tuple[int, Callable[[], None]]:
    """``GET /metrics`` on ``host:port`` in a background thread (0 = a free port);
    the port bound and a function that stops the server."""
    server, thread = start_http_server(port, addr=host)
    bound = int(server.server_port)

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return bound, stop
