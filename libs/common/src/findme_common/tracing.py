"""OpenTelemetry traces over OTLP/HTTP, on only when ``OTEL_EXPORTER_OTLP_ENDPOINT``
is set (the standard variable; the other ``OTEL_*`` variables apply too).

``configure`` installs the SDK and the maintained instrumentations: gRPC clients
(context propagated in metadata) and servers, Redis, and on request SQLAlchemy
engines (``instrument_engine``) and the gateway's FastAPI app (``instrument_app``).
A span then runs gateway -> gRPC -> SQL / Redis, and each carries the request id as
the attribute ``findme.request_id``. Off, every function here is a no-op and the
SDK is never imported.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Final

log = logging.getLogger(__name__)

ENDPOINT_ENV: Final = "OTEL_EXPORTER_OTLP_ENDPOINT"
REQUEST_ID_ATTRIBUTE: Final = "findme.request_id"

_provider: Any = None


def enabled() -> bool:
    return _provider is not None


def configure(service: str) -> bool:
    """Start exporting this process's traces when the endpoint is set; True if on."""
    global _provider
    if _provider is not None:
        return True
    if not os.environ.get(ENDPOINT_ENV):
        return False
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.grpc import GrpcAioInstrumentorClient
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    name = os.environ.get("OTEL_SERVICE_NAME") or f"findme-{service}"
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    GrpcAioInstrumentorClient().instrument()  # type: ignore[no-untyped-call]
    try:
        from opentelemetry.instrumentation.redis import RedisInstrumentor
    except ImportError:  # selfie has no Redis
        pass
    else:
        RedisInstrumentor().instrument()
    _provider = provider
    log.info("tracing on", extra={"endpoint": os.environ[ENDPOINT_ENV], "service_name": name})
    return True


def server_interceptors() -> list[Any]:
    """The gRPC server interceptor that opens a span per call (none when off)."""
    if _provider is None:
        return []
    from opentelemetry.instrumentation.grpc import aio_server_interceptor

    return [aio_server_interceptor()]  # type: ignore[no-untyped-call]


def instrument_engine(engine: Any) -> None:
    """SQL statement spans for a SQLAlchemy ``AsyncEngine``."""
    if _provider is None:
        return
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    # Its declared range stops below SQLAlchemy 2.1, whose engine events it uses
    # unchanged (tests/integration/test_tracing.py shows the SQL spans).
    SQLAlchemyInstrumentor().instrument(engine=engine.sync_engine, skip_dep_check=True)


def instrument_app(app: Any) -> None:
    """HTTP server spans for a FastAPI app (call after adding its middleware)."""
    if _provider is None:
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app)


def annotate_request(request_id: str) -> None:
    """Put the request id on the span of the current call."""
    if _provider is None:
        return
    from opentelemetry import trace

    trace.get_current_span().set_attribute(REQUEST_ID_ATTRIBUTE, request_id)


def shutdown() -> None:
    """Flush what is buffered (at process exit)."""
    global _provider
    if _provider is not None:
        _provider.shutdown()
        _provider = None
