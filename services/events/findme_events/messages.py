"""Records to protobuf messages and back, for the servicer."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from findme.events.v1 import events_pb2

from findme_events.schemas import (
    AttendeeRecord,
    CredentialsRecord,
    EventRecord,
    EventStats,
    FaceBox,
    MissedPhotoRecord,
    MyPhotosPage,
    Progress,
)


def optional(request: Any, name: str) -> Any:
    """The field's value when the caller set it, else None (proto3 ``optional``)."""
    return getattr(request, name) if request.HasField(name) else None


def face_box(box: events_pb2.FaceBox) -> FaceBox:
    return FaceBox(top=box.top, right=box.right, bottom=box.bottom, left=box.left)


def event(record: EventRecord) -> events_pb2.Event:
    return events_pb2.Event(
        id=record.id,
        code=record.code,
        name=record.name,
        organizer_id=record.organizer_id,
        match_tolerance=record.match_tolerance,
        retention_days=record.retention_days,
        starts_on=record.starts_on or "",
        ends_on=record.ends_on or "",
    )


def attendee(record: AttendeeRecord) -> events_pb2.Attendee:
    return events_pb2.Attendee(id=record.id, event_id=record.event_id, username=record.username)


def credentials(record: CredentialsRecord) -> events_pb2.Credentials:
    return events_pb2.Credentials(
        found=record.found,
        subject_id=record.subject_id,
        event_id=record.event_id,
        password_hash=record.password_hash,
        account=record.account,
    )


def progress(record: Progress) -> events_pb2.Progress:
    return events_pb2.Progress(
        pending=record.pending,
        processing=record.processing,
        done=record.done,
        failed=record.failed,
    )


def event_stats(record: EventStats) -> events_pb2.EventStats:
    return events_pb2.EventStats(
        attendees=record.attendees,
        selfies=record.selfies,
        photos=progress(record.photos),
        faces=record.faces,
        matches=record.matches,
        suggestions=record.suggestions,
        missed_photos=record.missed_photos,
    )


def _photo_page(page: MyPhotosPage, item: Any, response: Any, stamp: str) -> Any:
    """A page of (photo, distance, time) as ``response`` of ``item``s, the time (RFC
    3339, UTC) in the item's field ``stamp``."""
    return response(
        items=[
            item(
                photo_id=entry.photo_id,
                distance=entry.distance,
                **{stamp: entry.detected_at.astimezone(UTC).isoformat()},
            )
            for entry in page.items
        ],
        next_cursor=page.next_cursor,
    )


def my_photos(page: MyPhotosPage) -> events_pb2.ListMyPhotosResponse:
    reply: events_pb2.ListMyPhotosResponse = _photo_page(
        page, events_pb2.MyPhoto, events_pb2.ListMyPhotosResponse, "detected_at"
    )
    return reply


def suggestions(page: MyPhotosPage) -> events_pb2.ListSuggestionsResponse:
    reply: events_pb2.ListSuggestionsResponse = _photo_page(
        page, events_pb2.SuggestedPhoto, events_pb2.ListSuggestionsResponse, "suggested_at"
    )
    return reply


def missed_photo(record: MissedPhotoRecord) -> events_pb2.MissedPhoto:
    return events_pb2.MissedPhoto(
        photo_id=record.photo_id, status=record.status, found=record.found
    )
