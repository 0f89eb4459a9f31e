"""Proto messages and flow results to response models, and the references a route
builds from the caller."""

from __future__ import annotations

from datetime import date

from findme.events.v1 import events_pb2

from findme_gateway.flows.selfies import SavedSelfie
from findme_gateway.schemas import EventDetailOut, FaceBoxOut, ProgressOut, SelfieOut
from findme_gateway.tokens import Principal


def _day(value: str) -> date | None:
    return date.fromisoformat(value) if value else None


def event_out(event: events_pb2.Event) -> EventDetailOut:
    return EventDetailOut(
        id=event.id,
        code=event.code,
        name=event.name,
        starts_on=_day(event.starts_on),
        ends_on=_day(event.ends_on),
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


def selfie_out(saved: SavedSelfie) -> SelfieOut:
    return SelfieOut(
        face=FaceBoxOut(top=saved.top, right=saved.right, bottom=saved.bottom, left=saved.left),
        stored_bytes=saved.stored_bytes,
        matches=saved.matches,
        selfies=saved.selfies,
    )


def photo_links(photo_id: int) -> dict[str, str]:
    """``url`` and ``thumbnail_url``: gateway routes that check, per request, that the
    caller may see the photo."""
    return {
        "url": f"/api/photos/{photo_id}/display",
        "thumbnail_url": f"/api/photos/{photo_id}/thumbnail",
    }
