"""GET /metrics: this gateway's Prometheus metrics (every uvicorn worker together),
for a scraper on the private network only; anyone else gets the 404 of a path that
does not exist."""

from __future__ import annotations

import asyncio
import ipaddress
from functools import cache

from fastapi import APIRouter, Request, Response
from findme_common.metrics import CONTENT_TYPE, exposition
from findme_common.refusals import Reason

from findme_gateway.deps import SettingsDep
from findme_gateway.errors import ApiError

router = APIRouter(include_in_schema=False)

# Headers a proxy adds: a request carrying one came through the public edge.
_FORWARDING_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@cache
def _networks(specs: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(spec, strict=False) for spec in specs)


def is_internal(request: Request, networks: tuple[str, ...]) -> bool:
    """The peer is on one of ``networks`` and the request passed through no proxy."""
    if any(header in request.headers for header in _FORWARDING_HEADERS):
        return False
    if request.client is None:
        return False
    try:
        peer = ipaddress.ip_address(request.client.host)
    except ValueError:
        return False
    return any(peer in network for network in _networks(networks))


@router.get("/metrics")
async def metrics(request: Request, settings: SettingsDep) -> Response:
    if not settings.metrics_enabled or not is_internal(request, tuple(settings.metrics_networks)):
        raise ApiError(Reason.NOT_FOUND, "Not Found")
    # Multiprocess mode reads one file per worker: off the event loop.
    body = await asyncio.to_thread(exposition)
    return Response(body, media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})
