"""The events table: create with a fresh code, look up by code, change, and the
organizer's own events (list, delete, progress and stats).

Organizer functions take the organizer: an event of someone else is
``event_not_found``, exactly like a missing one, so ids of other organizers' events
reveal nothing.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from findme_common.refusals import Reason, Refusal
from sqlalchemy import Row, Select, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from findme_events import codes, validation
from findme_events.models import (
    Attendee,
    Event,
    Face,
    Match,
    MissedPhoto,
    Photo,
    Selfie,
    Suggestion,
)
from findme_events.schemas import EventRecord, EventStats, Progress
from findme_events.store.integrity import CHECK_VIOLATION, FOREIGN_KEY_VIOLATION, violation

# A handful of retries makes a code collision practically impossible (see codes.py).
CODE_ATTEMPTS = 8

EVENT_COLUMNS = (
    Event.id,
    Event.code,
    Event.name,
    Event.organizer_id,
    Event.match_tolerance,
    Event.retention_days,
    Event.starts_on,
    Event.ends_on,
)


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


# The rows and queries of EVENT_COLUMNS.
EventRow = Row[*tuple[Any, ...]]
EventQuery = Select[*tuple[Any, ...]]


def event_record(row: EventRow) -> EventRecord:
    return EventRecord(
        id=row.id,
        code=row.code,
        name=row.name,
        organizer_id=row.organizer_id,
        match_tolerance=row.match_tolerance,
        retention_days=row.retention_days,
        starts_on=_iso(row.starts_on),
        ends_on=_iso(row.ends_on),
    )


def _event_not_found() -> Refusal:
    return Refusal(Reason.EVENT_NOT_FOUND, "no such event")


async def create_event(
    *,
    conn: AsyncConnection,
    organizer_id: int,
    name: str,
    match_tolerance: float,
    retention_days: int,
    # 0: no maybe tier (the bound is never below the tolerance).
    maybe_tolerance: float = 0.0,
    starts_on: date | None = None,
    ends_on: date | None = None,
) -> EventRecord:
    for _ in range(CODE_ATTEMPTS):
        # ON CONFLICT keeps the transaction usable after a (rare) code collision.
        statement = (
            pg_insert(Event)
            .values(
                organizer_id=organizer_id,
                name=name,
                code=codes.generate(),
                match_tolerance=match_tolerance,
                maybe_tolerance=maybe_tolerance,
                retention_days=retention_days,
                starts_on=starts_on,
                ends_on=ends_on,
            )
            .on_conflict_do_nothing(index_elements=[Event.code])
            .returning(*EVENT_COLUMNS)
        )
        try:
            row = (await conn.execute(statement)).one_or_none()
        except IntegrityError as exc:
            if violation(exc)[0] == FOREIGN_KEY_VIOLATION:
                raise Refusal(Reason.ORGANIZER_NOT_FOUND, "no such organizer") from None
            raise
        if row is not None:
            return event_record(row)
    raise RuntimeError(f"no free event code after {CODE_ATTEMPTS} attempts")


def event_by_code_query(code: str) -> EventQuery:
    return select(*EVENT_COLUMNS).where(Event.code == code)


async def event_by_code(*, conn: AsyncConnection, code: str) -> EventRecord | None:
    row = (await conn.execute(event_by_code_query(code))).one_or_none()
    return None if row is None else event_record(row)


async def update_event(
    *,
    conn: AsyncConnection,
    event_id: int,
    name: str | None = None,
    match_tolerance: float | None = None,
    retention_days: int | None = None,
    starts_on: date | None = None,
    ends_on: date | None = None,
    organizer_id: int | None = None,
) -> EventRecord:
    """Change the given fields; with ``organizer_id``, only that organizer's event.
    Dates that end before they start (with the stored ones) are ``invalid_dates``."""
    changes = {
        key: value
        for key, value in (
            ("name", name),
            ("match_tolerance", match_tolerance),
            ("retention_days", retention_days),
            ("starts_on", starts_on),
            ("ends_on", ends_on),
        )
        if value is not None
    }
    statement = update(Event).where(Event.id == event_id)
    if organizer_id is not None:
        statement = statement.where(Event.organizer_id == organizer_id)
    # Nothing to change: a no-op update still answers with the event (and checks ownership).
    statement = statement.values(**changes) if changes else statement.values(id=Event.id)
    try:
        row = (await conn.execute(statement.returning(*EVENT_COLUMNS))).one_or_none()
    except IntegrityError as exc:
        if violation(exc)[0] == CHECK_VIOLATION:
            raise validation.dates_out_of_order() from None
        raise
    if row is None:
        raise _event_not_found()
    return event_record(row)


def owned_event_query(organizer_id: int, event_id: int) -> EventQuery:
    return select(*EVENT_COLUMNS).where(Event.id == event_id, Event.organizer_id == organizer_id)


async def owned_event(*, conn: AsyncConnection, organizer_id: int, event_id: int) -> EventRecord:
    row = (await conn.execute(owned_event_query(organizer_id, event_id))).one_or_none()
    if row is None:
        raise _event_not_found()
    return event_record(row)


def list_events_query(organizer_id: int) -> EventQuery:
    return (
        select(*EVENT_COLUMNS).where(Event.organizer_id == organizer_id).order_by(Event.id.desc())
    )


async def list_events(*, conn: AsyncConnection, organizer_id: int) -> list[EventRecord]:
    rows = await conn.execute(list_events_query(organizer_id))
    return [event_record(row) for row in rows]


def recent_events_query(limit: int) -> EventQuery:
    return select(*EVENT_COLUMNS).order_by(Event.id.desc()).limit(limit)


async def recent_events(*, conn: AsyncConnection, limit: int) -> list[EventRecord]:
    """Every organizer's events, newest first (operators' tools)."""
    return [event_record(row) for row in await conn.execute(recent_events_query(limit))]


async def event_by_id(*, conn: AsyncConnection, event_id: int) -> EventRecord:
    row = (await conn.execute(select(*EVENT_COLUMNS).where(Event.id == event_id))).one_or_none()
    if row is None:
        raise _event_not_found()
    return event_record(row)


async def delete_event(*, conn: AsyncConnection, organizer_id: int, event_id: int) -> EventRecord:
    """Delete the event; every attendee, selfie, photo, face, match and invite goes
    with it (ON DELETE CASCADE). The caller removes the blobs after commit."""
    row = (
        await conn.execute(
            delete(Event)
            .where(Event.id == event_id, Event.organizer_id == organizer_id)
            .returning(*EVENT_COLUMNS)
        )
    ).one_or_none()
    if row is None:
        raise _event_not_found()
    return event_record(row)


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
        "suggestions": select(func.count())
        .select_from(Suggestion)
        .join(Photo, Photo.id == Suggestion.photo_id)
        .where(Photo.event_id == event_id),
        "missed_photos": select(func.count()).where(MissedPhoto.event_id == event_id),
    }


async def event_stats(*, conn: AsyncConnection, event_id: int) -> EventStats:
    counts = {
        name: int((await conn.execute(query)).scalar_one())
        for name, query in stats_queries(event_id).items()
    }
    return EventStats(photos=await progress(conn=conn, event_id=event_id), **counts)
