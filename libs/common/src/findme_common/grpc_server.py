"""Bootstrap for every gRPC service: health, reflection, request ids, refusals,
graceful stop.

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

from findme_common.logging import REQUEST_ID_HEADER, configure_logging, request_id_var
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
    extra: dict[str, Any] = field(default_factory=dict)


def _serve_call(
    behavior: Callable[..., Awaitable[Any]], method: str, translate: Translate | None
) -> Callable[..., Any]:
    async def call(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        metadata = dict(context.invocation_metadata() or ())
        token = request_id_var.set(str(metadata.get(REQUEST_ID_HEADER, "")))
        started = time.perf_counter()
        try:
            try:
                return await behavior(request, context)
            except Refusal:
                raise
            except Exception as exc:
                refusal = translate(exc) if translate is not None else None
                if refusal is None:
                    raise
                raise refusal from exc
        except Refusal as refusal:
            log.info("rpc refused", extra={"method": method, "reason": refusal.reason.value})
            context.set_trailing_metadata(refusal.trailing_metadata())
            await context.abort(refusal.status, refusal.message)
        finally:
            log.debug(
                "rpc finished",
                extra={"method": method, "ms": round((time.perf_counter() - started) * 1000, 1)},
            )
            request_id_var.reset(token)

    return call


class ServiceInterceptor(grpc.aio.ServerInterceptor):
    """Every call of every service: the caller's x-request-id in the logging context,
    and a ``Refusal`` (raised, or translated from another exception by the service's
    ``translate``) turned into its gRPC status with the reason in trailing metadata."""

    def __init__(self, translate: Translate | None = None) -> None:
        self._translate = translate

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
        return grpc.unary_unary_rpc_method_handler(
            _serve_call(handler.unary_unary, handler_call_details.method, self._translate),
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


async def start(service: GrpcService) -> StartedServer:
    """Run the start-up hook, then build, bind and start the server (health,
    reflection, request ids) and report every service name SERVING. A port of 0 in
    the settings binds a free one, written to ``port_file`` when that is set."""
    settings = service.settings
    if service.startup is not None:
        await service.startup()

    server = grpc.aio.server(
        interceptors=[ServiceInterceptor(service.translate)], options=server_options(settings)
    )
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
    for name in ("", *service.service_names):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    announce_port(settings.port_file, port)
    return StartedServer(server=server, port=port, health=health_servicer)


async def stop(service: GrpcService, started: StartedServer, grace: float | None) -> None:
    """Health NOT_SERVING, in-flight calls get ``grace`` seconds, then the shutdown hook."""
    await started.health.enter_graceful_shutdown()
    await started.server.stop(grace)
    if service.shutdown is not None:
        await service.shutdown()


async def serve(service: GrpcService) -> None:
    """Run ``service`` until SIGTERM/SIGINT, then drain in-flight calls and stop."""
    settings = service.settings
    started = await start(service)
    log.info("serving", extra={"address": f"{settings.host}:{started.port}"})

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
