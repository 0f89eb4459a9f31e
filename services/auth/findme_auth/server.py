"""Wires the auth service together for findme_common's gRPC bootstrap."""

from __future__ import annotations

import asyncio
import logging

import grpc
from findme.auth.v1 import auth_pb2, auth_pb2_grpc
from findme_common.grpc_server import GrpcService
from findme_common.settings import load_settings
from grpc_health.v1 import health

from findme_auth.config import MIN_PRODUCTION_ROUNDS, AuthSettings
from findme_auth.credentials import Credentials
from findme_auth.passwords import PasswordHasher
from findme_auth.pool import BcryptPool
from findme_auth.servicer import AuthServicer
from findme_auth.throttle import LoginThrottle, ThrottlePolicy
from findme_auth.tokens import TokenIssuer

log = logging.getLogger(__name__)

SERVICE_NAME = auth_pb2.DESCRIPTOR.services_by_name["AuthService"].full_name


def build_service(settings: AuthSettings) -> GrpcService:
    pool = BcryptPool(workers=settings.workers, queue_limit=settings.queue_limit)
    throttle = LoginThrottle.from_url(
        settings.redis_url,
        ThrottlePolicy(
            pair_free_attempts=settings.throttle_pair_free_attempts,
            account_free_attempts=settings.throttle_account_free_attempts,
            address_free_attempts=settings.throttle_address_free_attempts,
            window_seconds=settings.throttle_window_seconds,
            max_lock_seconds=settings.throttle_max_lock_seconds,
        ),
        timeout=settings.redis_timeout,
        retry_after=settings.redis_retry_after,
    )
    tokens = TokenIssuer(
        settings.token_private_key.get_secret_value(),
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        ttl_seconds=settings.token_ttl_seconds,
    )
    servicer: AuthServicer | None = None

    async def startup() -> None:
        nonlocal servicer
        if settings.bcrypt_rounds < MIN_PRODUCTION_ROUNDS:
            log.warning("weak bcrypt cost for tests", extra={"rounds": settings.bcrypt_rounds})
        # Building the hasher computes its dummy hash: one full-cost bcrypt, off the loop.
        hasher = await asyncio.to_thread(PasswordHasher, settings.bcrypt_rounds)
        credentials = Credentials(hasher=hasher, pool=pool, throttle=throttle)
        servicer = AuthServicer(credentials, tokens)
        await throttle.ping()
        log.info(
            "auth ready",
            extra={
                "bcrypt_rounds": settings.bcrypt_rounds,
                "token_kid": tokens.key_id,
                "workers": settings.workers,
                "queue_limit": settings.queue_limit,
            },
        )

    def register(server: grpc.aio.Server, _health: health.aio.HealthServicer) -> None:
        if servicer is None:
            raise RuntimeError("register() called before startup()")
        auth_pb2_grpc.add_AuthServiceServicer_to_server(servicer, server)

    async def shutdown() -> None:
        await throttle.close()
        await asyncio.to_thread(pool.shutdown)

    return GrpcService(
        name="auth",
        settings=settings,
        service_names=[SERVICE_NAME],
        register=register,
        startup=startup,
        shutdown=shutdown,
        metrics_port=settings.metrics_port,
    )


def build() -> GrpcService:
    return build_service(load_settings(AuthSettings))
