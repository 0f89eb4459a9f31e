"""The organizer's events (``/api/events``): create, list, change, delete, stats,
photo progress and invite links.

Another organizer's event answers 404 exactly like a missing one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from findme.events.v1 import events_pb2

from findme_gateway.deps import BackendsDep, CurrentOrganizer
from findme_gateway.routes.converters import event_out, event_ref, progress_out
from findme_gateway.schemas import (
    CreateEventIn,
    CreateInviteIn,
    EventDetailOut,
    EventListOut,
    EventStatsOut,
    InviteOut,
    PathId,
    ProgressOut,
    UpdateEventIn,
)

router = APIRouter(prefix="/api", tags=["organizer events"])


def _event_fields(body: CreateEventIn | UpdateEventIn) -> dict[str, Any]:
    """The fields the organizer gave, dates as ISO strings for the contract."""
    fields: dict[str, Any] = body.model_dump(exclude_none=True)
    for day in ("starts_on", "ends_on"):
        if day in fields:
            fields[day] = fields[day].isoformat()
    return fields


@router.post("/events", status_code=201)
async def create_event(
    body: CreateEventIn, organizer: CurrentOrganizer, backends: BackendsDep
) -> EventDetailOut:
    event = await backends.events.CreateEvent(
        events_pb2.CreateEventRequest(organizer_id=organizer.subject_id, **_event_fields(body)),
        timeout=backends.deadlines.cheap,
    )
    return event_out(event)


@router.get("/events")
async def list_events(organizer: CurrentOrganizer, backends: BackendsDep) -> EventListOut:
    reply = await backends.events.ListEvents(
        events_pb2.ListEventsRequest(organizer_id=organizer.subject_id),
        timeout=backends.deadlines.cheap,
    )
    return EventListOut(events=[event_out(event) for event in reply.events])


@router.patch("/events/{event_id}")
async def update_event(
    event_id: PathId, body: UpdateEventIn, organizer: CurrentOrganizer, backends: BackendsDep
) -> EventDetailOut:
    event = await backends.events.UpdateEvent(
        events_pb2.UpdateEventRequest(
            organizer_id=organizer.subject_id, event_id=event_id, **_event_fields(body)
        ),
        timeout=backends.deadlines.cheap,
    )
    return event_out(event)


@router.delete("/events/{event_id}", status_code=204)
async def delete_event(
    event_id: PathId, organizer: CurrentOrganizer, backends: BackendsDep
) -> None:
    await backends.events.DeleteEvent(
        event_ref(organizer, event_id), timeout=backends.deadlines.photos
    )


@router.get("/events/{event_id}/stats")
async def event_stats(
    event_id: PathId, organizer: CurrentOrganizer, backends: BackendsDep
) -> EventStatsOut:
    stats = await backends.events.GetEventStats(
        event_ref(organizer, event_id), timeout=backends.deadlines.cheap
    )
    return EventStatsOut(
        attendees=stats.attendees,
        selfies=stats.selfies,
        photos=progress_out(stats.photos),
        faces=stats.faces,
        matches=stats.matches,
        suggestions=stats.suggestions,
        missed_photos=stats.missed_photos,
    )


@router.get("/events/{event_id}/progress")
async def progress(
    event_id: PathId, organizer: CurrentOrganizer, backends: BackendsDep
) -> ProgressOut:
    reply = await backends.events.GetProgress(
        event_ref(organizer, event_id), timeout=backends.deadlines.cheap
    )
    return progress_out(reply)


@router.post("/events/{event_id}/invites", status_code=201)
async def create_invite(
    event_id: PathId,
    organizer: CurrentOrganizer,
    backends: BackendsDep,
    body: CreateInviteIn | None = None,
) -> InviteOut:
    invite = await backends.events.CreateInvite(
        events_pb2.CreateInviteRequest(
            organizer_id=organizer.subject_id,
            event_id=event_id,
            valid_for_seconds=(body.valid_for_seconds or 0) if body else 0,
        ),
        timeout=backends.deadlines.cheap,
    )
    return InviteOut(
        token=invite.token,
        register_url=f"/api/invites/{invite.token}/register",
        expires_at=datetime.fromtimestamp(invite.expires_at_unix, UTC),
    )
