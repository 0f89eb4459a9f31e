"""Organizer-side data functions: own events, list, delete, stats.

Every function takes the organizer: an event of someone else is ``event_not_found``,
exactly like a missing one, so ids of other organizers' events reveal nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from findme_events.errors import NotFound
from findme_events.models import Attendee, Event, Face, Match, Photo, Selfie
from findme_events.repository import _EVENT_COLUMNS, _event_record
from findme_events.schemas import EventRecord, EventStats, Progress


def _not_found() -> NotFound:
    return NotFound("event_not_found", "no such event")


def owned_event_query(organizer_id: int, event_id: int) -> Select[Any]:
    return select(*_EVENT_COLUMNS).where(Event.id == event_id, Event.organizer_id == organizer_id)


async def owned_event(*, conn: AsyncConnection, organizer_id: int, event_id: int) -> EventRecord:
    row = (await conn.execute(owned_event_query(organizer_id, event_id))).one_or_none()
    if row is None:
        raise _not_found()
    return _event_record(row)


def list_events_query(organizer_id: int) -> Select[Any]:
    return (
        select(*_EVENT_COLUMNS).where(Event.organizer_id == organizer_id).order_by(Event.id.desc())
    )


async def list_events(*, conn: AsyncConnection, organizer_id: int) -> list[EventRecord]:
    rows = await conn.execute(list_events_query(organizer_id))
    return [_event_record(row) for row in rows]


async def delete_event(*, conn: AsyncConnection, organizer_id: int, event_id: int) -> EventRecord:
    """Delete the event; every attendee, selfie, photo, face, match and invite goes
    with it (ON DELETE CASCADE). The caller removes the blobs after commit."""
    row = (
        await conn.execute(
            delete(Event)
            .where(Event.id == event_id, Event.organizer_id == organizer_id)
            .returning(*_EVENT_COLUMNS)
        )
    ).one_or_none()
    if row is None:
        raise _not_found()
    return _event_record(row)


def progress_query(event_id: int) -> Select[str, int]:
    return (
        select(Photo.status, func.count()).where(Photo.event_id == event_id).group_by(Photo.status)
    )


async def progress(*, conn: AsyncConnection, event_id: int) -> Progress:
    counts = {status: int(count) for status, count in await conn.execute(progress_query(event_id))}
    return Progress(**counts)


def stats_queries(event_id: int) -> dict[str, Select[int]]:
    """One count per figure; each runs on an index of the event."""
    return {
        "attendees": select(func.count()).where(Attendee.event_id == event_id),
        "selfies": select(func.count())
        .select_from(Selfie)
        .join(Attendee, Attendee.id == Selfie.attendee_id)
        .where(Attendee.event_id == event_id),
        "faces": select(func.count()).where(Face.event_id == event_id),
        "matches": select(func.count())
        .select_from(Match)
        .join(Photo, Photo.id == Match.photo_id)
        .where(Photo.event_id == event_id),
    }


async def event_stats(*, conn: AsyncConnection, event_id: int) -> EventStats:
    counts = {
        name: int((await conn.execute(query)).scalar_one())
        for name, query in stats_queries(event_id).items()
    }
    return EventStats(photos=await progress(conn=conn, event_id=event_id), **counts)
