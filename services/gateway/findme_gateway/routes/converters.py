"""Proto messages to response models, and the event reference of a request."""

from __future__ import annotations

from findme.events.v1 import events_pb2

from findme_gateway.schemas import EventDetailOut, ProgressOut
from findme_gateway.tokens import Principal


def event_out(event: events_pb2.Event) -> EventDetailOut:
    return EventDetailOut(
        id=event.id,
        code=event.code,
        name=event.name,
        starts_on=event.starts_on or None,  # type: ignore[arg-type]
        ends_on=event.ends_on or None,  # type: ignore[arg-type]
        match_tolerance=event.match_tolerance,
        retention_days=event.retention_days,
    )


def event_ref(organizer: Principal, event_id: int) -> events_pb2.EventRef:
    return events_pb2.EventRef(organizer_id=organizer.subject_id, event_id=event_id)


def progress_out(progress: events_pb2.Progress) -> ProgressOut:
    return ProgressOut(
        pending=progress.pending,
        processing=progress.processing,
        done=progress.done,
        failed=progress.failed,
    )
