"""Machine-readable reasons on gRPC errors.

A service aborts with a status code plus a snake_case reason in trailing metadata;
the gateway reads the reason back and turns it into ``{"error": {"code": reason}}``.
"""

from __future__ import annotations

from typing import NoReturn

import grpc

REASON_KEY = "findme-error"
RETRY_AFTER_KEY = "retry-after"


async def abort(
    context: grpc.aio.ServicerContext,
    code: grpc.StatusCode,
    reason: str,
    message: str,
    *,
    retry_after: float | None = None,
) -> NoReturn:
    metadata: list[tuple[str, str]] = [(REASON_KEY, reason)]
    if retry_after is not None:
        metadata.append((RETRY_AFTER_KEY, str(max(1, round(retry_after)))))
    context.set_trailing_metadata(tuple(metadata))
    await context.abort(code, message)
    raise AssertionError("unreachable")  # context.abort always raises


def _trailing(error: grpc.RpcError) -> dict[str, str]:
    trailing = getattr(error, "trailing_metadata", None)
    items = trailing() if callable(trailing) else None
    return {key: value for key, value in (items or ()) if isinstance(value, str)}


def error_reason(error: grpc.RpcError) -> str | None:
    """The reason a service attached to ``error``, if any."""
    return _trailing(error).get(REASON_KEY)


def retry_after(error: grpc.RpcError) -> int | None:
    value = _trailing(error).get(RETRY_AFTER_KEY)
    return int(value) if value and value.isdigit() else None
