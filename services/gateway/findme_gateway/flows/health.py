"""Aggregated health: every backend (and the events service's database and cache)
asked over the standard gRPC health protocol, in parallel, with a short deadline."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from findme_gateway.backends import Backends

log = logging.getLogger(__name__)

OK = "ok"
DOWN = "down"


async def _probe(stub: health_pb2_grpc.HealthStub, service: str, deadline: float) -> str:
    try:
        reply = await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=deadline)
    except grpc.RpcError as exc:
        log.debug("health probe failed", extra={"service": service, "error": str(exc.code())})
        return DOWN
    return OK if reply.status == health_pb2.HealthCheckResponse.SERVING else DOWN


async def check(backends: Backends) -> dict[str, Any]:
    """``{"status": "ok"|"degraded", "components": {name: {"status": ...}}}``."""
    deadline = backends.deadlines.health
    probes = {
        "auth": (backends.auth_health, ""),
        "events": (backends.events_health, ""),
        "selfie": (backends.selfie_health, ""),
        # The events service reports its PostgreSQL and Redis under these names,
        # and whether any photo worker is connected.
        "database": (backends.events_health, "database"),
        "cache": (backends.events_health, "cache"),
        "photo_worker": (backends.events_health, "photo_worker"),
    }
    results = await asyncio.gather(
        *(_probe(stub, service, deadline) for stub, service in probes.values())
    )
    components = {"gateway": {"status": OK}}
    components.update(
        {name: {"status": status} for name, status in zip(probes, results, strict=True)}
    )
    healthy = all(component["status"] == OK for component in components.values())
    return {"status": OK if healthy else "degraded", "components": components}
