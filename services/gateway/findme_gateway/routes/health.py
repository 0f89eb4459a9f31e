"""GET /health: 200 when every component answers, 503 otherwise.
GET /livez: 200 while this gateway process serves, whatever its backends do; for
platform checks that restart an instance (restarting a gateway cannot fix a backend)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from findme_gateway.deps import BackendsDep
from findme_gateway.flows import health

router = APIRouter(tags=["health"])


@router.get("/health")
async def get_health(backends: BackendsDep) -> JSONResponse:
    report: dict[str, Any] = await health.check(backends)
    status = 200 if report["status"] == health.OK else 503
    return JSONResponse(report, status_code=status, headers={"Cache-Control": "no-store"})


@router.get("/livez")
async def get_liveness() -> JSONResponse:
    return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})
