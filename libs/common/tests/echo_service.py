"""A tiny service on the shared bootstrap, run as a subprocess by the tests.

Method /test.Echo/RequestId answers with the request id it saw; /test.Echo/Slow
sleeps for the number of seconds in the request before answering "done";
/test.Echo/Refuse refuses with ``overloaded``. Arguments: the port (0: any free one),
then optionally the port of the metrics HTTP server ("-": none) and a file to write
the bound port to.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import grpc
from findme_common.grpc_server import GrpcService, run
from findme_common.logging import request_id_var
from findme_common.refusals import Reason, Refusal
from findme_common.settings import ServiceSettings
from grpc_health.v1 import health


async def request_id(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    return request_id_var.get().encode()


async def slow(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    await asyncio.sleep(float(request.decode()))
    return b"done"


async def refuse(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    raise Refusal(Reason.OVERLOADED, "busy", 2)


def register(server: grpc.aio.Server, health_servicer: health.aio.HealthServicer) -> None:
    handlers = {
        "RequestId": grpc.unary_unary_rpc_method_handler(request_id),
        "Slow": grpc.unary_unary_rpc_method_handler(slow),
        "Refuse": grpc.unary_unary_rpc_method_handler(refuse),
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("test.Echo", handlers),))


def build() -> GrpcService:
    settings = ServiceSettings(
        port=int(sys.argv[1]),
        shutdown_grace=5.0,
        port_file=Path(sys.argv[3]) if len(sys.argv) > 3 else None,
    )
    metrics_port = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2] != "-" else None
    return GrpcService(
        name="echo",
        settings=settings,
        service_names=["test.Echo"],
        register=register,
        metrics_port=metrics_port,
    )


if __name__ == "__main__":
    run(build)
