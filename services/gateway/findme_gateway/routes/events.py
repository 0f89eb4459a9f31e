"""Event lookups (code check, username availability) and event creation."""

from __future__ import annotations

from fastapi import APIRouter
from findme.events.v1 import events_pb2

from findme_gateway.deps import BackendsDep, CurrentOrganizer
from findme_gateway.schemas import (
    CheckAvailabilityIn,
    CheckAvailabilityOut,
    CheckEventCodeIn,
    CheckEventCodeOut,
    CreateEventIn,
    EventOut,
    EventSummary,
)

router = APIRouter(prefix="/api", tags=["events"])


@router.post("/check-event-code")
async def check_event_code(body: CheckEventCodeIn, backends: BackendsDep) -> CheckEventCodeOut:
    reply = await backends.events.GetEventByCode(
        events_pb2.GetEventByCodeRequest(code=body.event_code), timeout=backends.deadlines.cheap
    )
    if not reply.found:
        return CheckEventCodeOut(valid=False, event=None)
    return CheckEventCodeOut(
        valid=True, event=EventSummary(id=reply.event.id, name=reply.event.name)
    )


@router.post("/check-user-availability")
async def check_user_availability(
    body: CheckAvailabilityIn, backends: BackendsDep
) -> CheckAvailabilityOut:
    reply = await backends.events.CheckAvailability(
        events_pb2.CheckAvailabilityRequest(event_code=body.event_code, username=body.username),
        timeout=backends.deadlines.cheap,
    )
    return CheckAvailabilityOut(username_taken=reply.username_taken)


@router.post("/events", status_code=201)
async def create_event(
    body: CreateEventIn, organizer: CurrentOrganizer, backends: BackendsDep
) -> EventOut:
    event = await backends.events.CreateEvent(
        events_pb2.CreateEventRequest(organizer_id=organizer.subject_id, name=body.name),
        timeout=backends.deadlines.cheap,
    )
    return EventOut(id=event.id, code=event.code, name=event.name)
