"""Public lookups before joining: is this an event code, is this username free."""

from __future__ import annotations

from fastapi import APIRouter
from findme.events.v1 import events_pb2

from findme_gateway.deps import BackendsDep, LookupRateLimit
from findme_gateway.schemas import (
    CheckAvailabilityIn,
    CheckAvailabilityOut,
    CheckEventCodeIn,
    CheckEventCodeOut,
    EventSummary,
)

router = APIRouter(prefix="/api", tags=["events"])


@router.post("/check-event-code", dependencies=[LookupRateLimit])
async def check_event_code(body: CheckEventCodeIn, backends: BackendsDep) -> CheckEventCodeOut:
    reply = await backends.events.GetEventByCode(
        events_pb2.GetEventByCodeRequest(code=body.event_code), timeout=backends.deadlines.cheap
    )
    if not reply.found:
        return CheckEventCodeOut(valid=False, event=None)
    return CheckEventCodeOut(
        valid=True, event=EventSummary(id=reply.event.id, name=reply.event.name)
    )


@router.post("/check-user-availability", dependencies=[LookupRateLimit])
async def check_user_availability(
    body: CheckAvailabilityIn, backends: BackendsDep
) -> CheckAvailabilityOut:
    reply = await backends.events.CheckAvailability(
        events_pb2.CheckAvailabilityRequest(event_code=body.event_code, username=body.username),
        timeout=backends.deadlines.cheap,
    )
    return CheckAvailabilityOut(username_taken=reply.username_taken)
