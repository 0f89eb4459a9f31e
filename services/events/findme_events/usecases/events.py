"""Events: create and change them, find one by its code (through the cache), and
the organizer's views (list, stats, progress) and deletion."""

from __future__ import annotations

import logging

from findme_common.refusals import Reason, Refusal

from findme_events import blobs, codes, validation
from findme_events.schemas import EventRecord, EventStats, Progress
from findme_events.store import events
from findme_events.usecases.resources import Resources

log = logging.getLogger(__name__)


async def create_event(
    r: Resources,
    *,
    organizer_id: int,
    name: str,
    starts_on: str | None = None,
    ends_on: str | None = None,
    match_tolerance: float | None = None,
    retention_days: int | None = None,
) -> EventRecord:
    valid_name = validation.event_name(name)
    tolerance = validation.tolerance(match_tolerance)
    retention = validation.retention_days(retention_days)
    start, end = validation.date_range(starts_on, ends_on)
    async with r.engine.begin() as conn:
        event = await events.create_event(
            conn=conn,
            organizer_id=organizer_id,
            name=valid_name,
            match_tolerance=r.settings.default_match_tolerance if tolerance is None else tolerance,
            retention_days=r.settings.default_retention_days if retention is None else retention,
            maybe_tolerance=r.settings.default_maybe_tolerance,
            starts_on=start,
            ends_on=end,
        )
    # Someone may have probed this code before it existed: drop the cached absence.
    await r.cache.invalidate(event.code)
    return event


async def update_event(
    r: Resources,
    *,
    event_id: int,
    organizer_id: int | None = None,
    name: str | None = None,
    match_tolerance: float | None = None,
    retention_days: int | None = None,
    starts_on: str | None = None,
    ends_on: str | None = None,
) -> EventRecord:
    """Change the given fields; with ``organizer_id``, only that organizer's event.

    A new tolerance applies to matches computed from now on (new photos, new selfies).
    """
    async with r.engine.begin() as conn:
        event = await events.update_event(
            conn=conn,
            event_id=event_id,
            organizer_id=organizer_id,
            name=None if name is None else validation.event_name(name),
            match_tolerance=validation.tolerance(match_tolerance),
            retention_days=validation.retention_days(retention_days),
            starts_on=validation.day(starts_on),
            ends_on=validation.day(ends_on),
        )
    await r.cache.invalidate(event.code)
    return event


async def event_by_code(r: Resources, *, code: str) -> EventRecord | None:
    return await r.cache.get(codes.normalize(code))


async def existing_event(r: Resources, *, code: str) -> EventRecord:
    event = await event_by_code(r, code=code)
    if event is None:
        raise Refusal(Reason.EVENT_NOT_FOUND, "no event has this code")
    return event


async def list_events(r: Resources, *, organizer_id: int) -> list[EventRecord]:
    async with r.engine.connect() as conn:
        return await events.list_events(conn=conn, organizer_id=organizer_id)


async def owned_event(r: Resources, *, organizer_id: int, event_id: int) -> EventRecord:
    async with r.engine.connect() as conn:
        return await events.owned_event(conn=conn, organizer_id=organizer_id, event_id=event_id)


async def delete_event(r: Resources, *, organizer_id: int, event_id: int) -> None:
    async with r.engine.begin() as conn:
        event = await events.delete_event(conn=conn, organizer_id=organizer_id, event_id=event_id)
    await r.cache.invalidate(event.code)
    # After commit: a failure here leaves unreachable files, never rows without files.
    await r.blobs.delete_prefix(blobs.event_prefix(event_id))
    log.info("event deleted", extra={"event_id": event_id})


async def event_stats(r: Resources, *, organizer_id: int, event_id: int) -> EventStats:
    async with r.engine.connect() as conn:
        await events.owned_event(conn=conn, organizer_id=organizer_id, event_id=event_id)
        return await events.event_stats(conn=conn, event_id=event_id)


async def progress(r: Resources, *, organizer_id: int, event_id: int) -> Progress:
    async with r.engine.connect() as conn:
        await events.owned_event(conn=conn, organizer_id=organizer_id, event_id=event_id)
        return await events.progress(conn=conn, event_id=event_id)
