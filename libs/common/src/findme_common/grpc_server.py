"""Bootstrap for every gRPC service: health, reflection, request ids, refusals,
metrics, graceful stop.

Start-up work (pools, models, connections) runs *before* the gRPC server object is
created, so a service may fork worker processes safely there.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from findme_common import tracing
from findme_common.logging import REQUEST_ID_HEADER, configure_logging, request_id_var
from findme_common.metrics import RPC_HANDLED, RPC_REFUSALS, RPC_SECONDS, serve_metrics
from findme_common.refusals import Refusal
from findme_common.settings import ServiceSettings, announce_port

log = logging.getLogger(__name__)

Hook = Callable[[], Awaitable[None]]
Translate = Callable[[Exception], Refusal | None]


@dataclass
class GrpcService:
    """What a service tells the bootstrap about itself."""

    name: str
    settings: ServiceSettings
    # Full gRPC service names, for health and reflection.
    service_names: Sequence[str]
    # Registers servicers; receives the health servicer for extra component statuses.
    register: Callable[[grpc.aio.Server, health.aio.HealthServicer], None]
    startup: Hook | None = None
    shutdown: Hook | None = None
    # Turns a service's own exceptions (a database outage, say) into refusals.
    translate: Translate | None = None
    # Port of the Prometheus metrics HTTP server (0 = a free one); None: no server.
    metrics_port: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class _MethodMetrics:
    """The labelled instruments of one RPC method, looked up once."""

    def __init__(self, method: str) -> None:
        # "/findme.auth.v1.AuthService/HashPassword" -> service, method
        self.service, _, self.method = method.lstrip("/").rpartition("/")
        self.seconds = RPC_SECONDS.labels(self.service, self.method)
        self._handled: dict[str, Any] = {}

    def finished(self, code: str, seconds: float) -> None:
        handled = self._handled.get(code)
        if handled is None:
            handled = self._handled[code] = RPC_HANDLED.labels(self.service, self.method, code)
        handled.inc()
        self.seconds.observe(seconds)

    def refused(self, reason: str) -> None:
        RPC_REFUSALS.labels(self.service, self.method, reason).inc()


def _serve_call(
    behavior: Callable[..., Awaitable[Any]],
    method: str,
    translate: Translate | None,
    metrics: _MethodMetrics | None,
) -> Callable[..., Any]:
    async def call(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        metadata = dict(context.invocation_metadata() or ())
        request_id = str(metadata.get(REQUEST_ID_HEADER, ""))
        token = request_id_var.set(request_id)
        if request_id:
            tracing.annotate_request(request_id)
        started = time.perf_counter()
        code = "UNKNOWN"
        try:
            try:
                result = await behavior(request, context)
                code = "OK"
                return result
            except Refusal:
                raise
            except Exception as exc:
                refusal = translate(exc) if translate is not None else None
                if refusal is None:
                    raise
                raise refusal from exc
        except Refusal as refusal:
            log.info("rpc refused", extra={"method": method, "reason": refusal.reason.value})
            code = refusal.status.name
            if metrics is not None:
                metrics.refused(refusal.reason.value)
            context.set_trailing_metadata(refusal.trailing_metadata())
            await context.abort(refusal.status, refusal.message)
        except asyncio.CancelledError:
            code = "CANCELLED"
            raise
        finally:
            seconds = time.perf_counter() - started
            if metrics is not None:
                metrics.finished(code, seconds)
            log.debug("rpc finished", extra={"method": method, "ms": round(seconds * 1000, 1)})
            request_id_var.reset(token)

    return call


class ServiceInterceptor(grpc.aio.ServerInterceptor):
    """Every call of every service: the caller's x-request-id in the logging context
    (and on the trace span), a ``Refusal`` (raised, or translated from another
    exception by the service's ``translate``) turned into its gRPC status with the
    reason in trailing metadata, and the call counted and timed by method and status
    code (``grpc_server_handled_total``, ``grpc_server_handling_seconds``)."""

    def __init__(self, translate: Translate | None = None, *, metrics: bool = True) -> None:
        self._translate = translate
        self._metrics = metrics
        self._methods: dict[str, _MethodMetrics] = {}

    def _method_metrics(self, method: str) -> _MethodMetrics | None:
        if not self._metrics:
            return None
        found = self._methods.get(method)
        if found is None:
            found = self._methods[method] = _MethodMetrics(method)
        return found

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        method = handler_call_details.method
        return grpc.unary_unary_rpc_method_handler(
            _serve_call(handler.unary_unary, method, self._translate, self._method_metrics(method)),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def server_options(settings: ServiceSettings) -> list[tuple[str, int]]:
    age_ms = int(settings.max_connection_age * 1000)
    return [
        # gRPC sets SO_REUSEPORT by default: a second server on the same port would
        # then share it and take half of the first one's calls. One port, one server.
        ("grpc.so_reuseport", 0),
        ("grpc.max_receive_message_length", settings.max_message_bytes),
        ("grpc.max_send_message_length", settings.max_message_bytes),
        ("grpc.max_connection_age_ms", age_ms),
        ("grpc.max_connection_age_grace_ms", int(settings.shutdown_grace * 1000)),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
    ]


@dataclass
class StartedServer:
    """A running service: its gRPC server, the port it bound, its health servicer."""

    server: grpc.aio.Server
    port: int
    health: health.aio.HealthServicer
    # The metrics HTTP server's port and its stop function (None when off).
    metrics_port: int | None = None
    stop_metrics: Callable[[], None] | None = None


async def start(service: GrpcService) -> StartedServer:
    """Run the start-up hook, then build, bind and start the server (health,
    reflection, request ids, metrics) and report every service name SERVING. A port
    of 0 in the settings binds a free one, written to ``port_file`` when that is set."""
    settings = service.settings
    tracing.configure(service.name)
    if service.startup is not None:
        await service.startup()

    interceptors: list[grpc.aio.ServerInterceptor] = [
        *tracing.server_interceptors(),
        ServiceInterceptor(service.translate, metrics=settings.metrics_enabled),
    ]
    server = grpc.aio.server(interceptors=interceptors, options=server_options(settings))
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    service.register(server, health_servicer)
    reflection.enable_server_reflection(
        [*service.service_names, health.SERVICE_NAME, reflection.SERVICE_NAME], server
    )
    try:
        port = server.add_insecure_port(settings.bind_address)
    except RuntimeError:  # grpcio raises where older versions returned 0
        port = 0
    if port == 0:
        raise SystemExit(f"{service.name}: cannot bind {settings.bind_address}")
    await server.start()
    started = StartedServer(server=server, port=port, health=health_servicer)
    if settings.metrics_enabled and service.metrics_port is not None:
        started.metrics_port, started.stop_metrics = serve_metrics(
            settings.host, service.metrics_port
        )
    for name in ("", *service.service_names):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    announce_port(settings.port_file, port)
    return started


async def stop(service: GrpcService, started: StartedServer, grace: float | None) -> None:
    """Health NOT_SERVING, in-flight calls get ``grace`` seconds, then the shutdown hook."""
    await started.health.enter_graceful_shutdown()
    await started.server.stop(grace)
    if started.stop_metrics is not None:
        started.stop_metrics()
    if service.shutdown is not None:
        await service.shutdown()
    tracing.shutdown()


async def serve(service: GrpcService) -> None:
    """Run ``service`` until SIGTERM/SIGINT, then drain in-flight calls and stop."""
    settings = service.settings
    started = await start(service)
    log.info(
        "serving",
        extra={"address": f"{settings.host}:{started.port}", "metrics_port": started.metrics_port},
    )

    stop_requested = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop_requested.set)
    await stop_requested.wait()

    log.info("shutting down", extra={"grace_s": settings.shutdown_grace})
    await stop(service, started, settings.shutdown_grace)
    log.info("stopped")


def run(build: Callable[[], GrpcService]) -> None:
    """Entry point for ``python -m findme_<service>``."""
    service = build()
    configure_logging(service.name, service.settings.log_level)
    asyncio.run(serve(service))
