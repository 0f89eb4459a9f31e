"""``python -m findme_common.probe``: the images' health check (Dockerfile HEALTHCHECK).

    python -m findme_common.probe grpc auth 50051        # grpc.health.v1, overall status
    python -m findme_common.probe http gateway 8000 /livez

The port is the service's own setting when the container sets it
(``FINDME_<SERVICE>_PORT``), else the given default. Exit 0 when the service answers
SERVING (gRPC) or 2xx (HTTP) on 127.0.0.1 within the timeout, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import sys
import urllib.error
import urllib.request

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

TIMEOUT = 3.0


def port_of(service: str, default: int) -> int:
    return int(os.environ.get(f"FINDME_{service.upper()}_PORT") or default)


def grpc_serving(port: int, timeout: float = TIMEOUT) -> bool:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=timeout
            )
        except grpc.RpcError:
            return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


def http_ok(port: int, path: str, timeout: float = TIMEOUT) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as reply:
            return 200 <= int(reply.status) < 300
    except (OSError, urllib.error.URLError):
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m findme_common.probe")
    parser.add_argument("kind", choices=["grpc", "http"])
    parser.add_argument("service", help="whose FINDME_<SERVICE>_PORT to read")
    parser.add_argument("port", type=int, help="the port when that is not set")
    parser.add_argument("path", nargs="?", default="/livez", help="HTTP path (http only)")
    args = parser.parse_args(argv)
    port = port_of(args.service, args.port)
    healthy = grpc_serving(port) if args.kind == "grpc" else http_ok(port, args.path)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
