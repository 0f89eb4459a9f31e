"""Builds the selfie gRPC service: the worker pool starts before the server exists."""

from __future__ import annotations

import grpc
from findme.selfie.v1 import selfie_pb2, selfie_pb2_grpc
from findme_common.grpc_server import GrpcService
from findme_common.settings import load_settings
from grpc_health.v1 import health

from findme_selfie.config import SelfieSettings
from findme_selfie.pool import WorkerPool
from findme_selfie.servicer import SelfieServicer

SERVICE_NAME = selfie_pb2.DESCRIPTOR.services_by_name["SelfieService"].full_name


def build(settings: SelfieSettings | None = None) -> GrpcService:
    settings = settings or load_settings(SelfieSettings)
    pool = WorkerPool(workers=settings.workers, queue_limit=settings.effective_queue_limit)
    servicer = SelfieServicer(settings, pool)

    def register(server: grpc.aio.Server, _health: health.aio.HealthServicer) -> None:
        selfie_pb2_grpc.add_SelfieServiceServicer_to_server(servicer, server)

    return GrpcService(
        name="selfie",
        settings=settings,
        service_names=[SERVICE_NAME],
        register=register,
        startup=pool.start,
        shutdown=pool.close,
        metrics_port=settings.metrics_port,
        extra={"pool": pool},
    )
