"""Refusals raised by the auth modules; the servicer turns them into gRPC errors."""

from __future__ import annotations

import grpc


class AuthError(Exception):
    """A refusal with a gRPC status and a snake_case machine-readable reason."""

    code = grpc.StatusCode.INTERNAL
    reason = "internal"

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class InvalidArgument(AuthError):
    code = grpc.StatusCode.INVALID_ARGUMENT

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class Overloaded(AuthError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED
    reason = "overloaded"

    def __init__(self, retry_after: float = 1.0) -> None:
        super().__init__(
            "too many password checks in progress; retry shortly", retry_after=retry_after
        )


class TooManyAttempts(AuthError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED
    reason = "too_many_attempts"

    def __init__(self, retry_after: float) -> None:
        super().__init__("too many failed attempts; retry later", retry_after=retry_after)
