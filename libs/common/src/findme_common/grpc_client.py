"""Client channels between services: round-robin over every resolved address,
the caller's request id forwarded in metadata, and a retry on UNAVAILABLE for the
methods the protos declare safe to repeat (``option idempotency_level``), so a call
caught on an instance that dies or drains moves to another instance instead of
failing."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor
from google.protobuf.descriptor_pb2 import MethodOptions

from findme_common.logging import REQUEST_ID_HEADER, request_id_var


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """gRPC's per-method retry policy (gRFC A6), for idempotent methods only.

    UNAVAILABLE means the call never ran to completion on a live server (connection
    refused, reset, or the instance went away), so running it again elsewhere is safe
    when the method has no side effect that a second run would repeat.
    """

    max_attempts: int = 4
    initial_backoff: float = 0.05
    max_backoff: float = 1.0
    backoff_multiplier: float = 2.0
    retryable_codes: tuple[str, ...] = ("UNAVAILABLE",)


_REPEATABLE = (MethodOptions.NO_SIDE_EFFECTS, MethodOptions.IDEMPOTENT)


def repeatable(method: MethodDescriptor) -> bool:
    """Whether the proto declares ``method`` safe to send again."""
    return method.GetOptions().idempotency_level in _REPEATABLE


def idempotent_methods(*services: ServiceDescriptor) -> tuple[str, ...]:
    """Full names (``pkg.Service/Method``) of the methods declared safe to repeat."""
    return tuple(
        f"{service.full_name}/{method.name}"
        for service in services
        for method in service.methods
        if repeatable(method)
    )


def _method_name(full_name: str) -> dict[str, str]:
    # "pkg.Service/Method" or "/pkg.Service/Method"
    service, sep, method = full_name.strip("/").partition("/")
    if not sep or not service or not method:
        raise ValueError(f"not a full gRPC method name (pkg.Service/Method): {full_name!r}")
    return {"service": service, "method": method}


def service_config(
    retried_methods: Sequence[str] = (), retry: RetryPolicy | None = None
) -> dict[str, Any]:
    """The channel's service config: round_robin, plus retries for ``retried_methods``."""
    config: dict[str, Any] = {"loadBalancingConfig": [{"round_robin": {}}]}
    if retried_methods:
        policy = retry or RetryPolicy()
        config["methodConfig"] = [
            {
                "name": [_method_name(name) for name in retried_methods],
                "retryPolicy": {
                    "maxAttempts": policy.max_attempts,
                    "initialBackoff": f"{policy.initial_backoff}s",
                    "maxBackoff": f"{policy.max_backoff}s",
                    "backoffMultiplier": policy.backoff_multiplier,
                    "retryableStatusCodes": list(policy.retryable_codes),
                },
            }
        ]
        # A whole instance dying fails every call it held at once; the budget lets
        # those through but stops a retry storm when every instance is failing.
        config["retryThrottling"] = {"maxTokens": 100, "tokenRatio": 0.1}
    return config


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


def open_channel(
    target: str,
    service: ServiceDescriptor | None = None,
    *,
    max_message_bytes: int = 32 * 1024 * 1024,
    retry: RetryPolicy | None = None,
) -> grpc.aio.Channel:
    """An insecure channel to ``service`` at ``target`` (e.g. ``dns:///selfie:50053``)
    using round_robin.

    The methods ``service``'s proto declares idempotent are retried on UNAVAILABLE per
    ``retry``; every other method (and every method without a ``service``) is never
    re-sent.
    """
    repeatable_methods = idempotent_methods(service) if service is not None else ()
    options: list[tuple[str, Any]] = [
        ("grpc.service_config", json.dumps(service_config(repeatable_methods, retry))),
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.keepalive_time_ms", 30_000),
        ("grpc.keepalive_timeout_ms", 10_000),
        ("grpc.enable_retries", 1),
        # A restarted instance is reached again within a second: gRPC's default
        # reconnect back-off grows to two minutes, which would keep answering
        # UNAVAILABLE long after a crashed service is back.
        ("grpc.initial_reconnect_backoff_ms", 250),
        ("grpc.max_reconnect_backoff_ms", 1_000),
    ]
    if repeatable_methods:
        # A call is only retried while its request is still buffered (default 256 KiB);
        # a selfie upload is megabytes, so the buffer must hold the largest message.
        options.append(("grpc.per_rpc_retry_buffer_size", max_message_bytes))
    return grpc.aio.insecure_channel(
        target, options=options, interceptors=[RequestIdClientInterceptor()]
    )
