"""Client channels between services: round-robin over every resolved address,
the caller's request id forwarded in metadata."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import grpc

from findme_common.logging import REQUEST_ID_HEADER, request_id_var

_SERVICE_CONFIG = json.dumps({"loadBalancingConfig": [{"round_robin": {}}]})


class RequestIdClientInterceptor(grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(
        self,
        continuation: Callable[[grpc.aio.ClientCallDetails, Any], Any],
        client_call_details: grpc.aio.ClientCallDetails,
        request: Any,
    ) -> Any:
        request_id = request_id_var.get()
        if request_id:
            metadata = grpc.aio.Metadata(*(client_call_details.metadata or ()))
            metadata.add(REQUEST_ID_HEADER, request_id)
            client_call_details = grpc.aio.ClientCallDetails(
                client_call_details.method,
                client_call_details.timeout,
                metadata,
                client_call_details.credentials,
                client_call_details.wait_for_ready,
            )
        return await continuation(client_call_details, request)


def open_channel(target: str, *, max_message_bytes: int = 32 * 1024 * 1024) -> grpc.aio.Channel:
    """An insecure channel to ``target`` (e.g. ``dns:///selfie:50053``) using round_robin."""
    options = [
        ("grpc.service_config", _SERVICE_CONFIG),
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.keepalive_time_ms", 30_000),
        ("grpc.keepalive_timeout_ms", 10_000),
        ("grpc.enable_retries", 1),
    ]
    return grpc.aio.insecure_channel(
        target, options=options, interceptors=[RequestIdClientInterceptor()]
    )
