"""What operators do to the system (the admin CLI, ``findme_admin``): look at every
event and the photo queue, requeue failed photos, re-match an event, purge one,
run retention now. Not reachable through the gRPC API."""

from __future__ import annotations

from dataclasses import dataclass

from findme_common.refusals import Reason, Refusal

from findme_events import matching
from findme_events.schemas import EventRecord, EventStats, QueueDepth
from findme_events.store import events, photo_queue, retention
from findme_events.usecases import events as event_usecases
from findme_events.usecases.resources import Resources
from findme_events.usecases.retention import purge_expired


@dataclass(frozen=True, slots=True)
class EventOverview:
    event: EventRecord
    stats: EventStats


async def overview(r: Resources, *, limit: int) -> list[EventOverview]:
    """The newest ``limit`` events of every organizer, each with its figures."""
    async with r.engine.connect() as conn:
        found = await events.recent_events(conn=conn, limit=limit)
        return [
            EventOverview(event=event, stats=await events.event_stats(conn=conn, event_id=event.id))
            for event in found
        ]


async def queue(r: Resources) -> QueueDepth:
    async with r.engine.connect() as conn:
        return await photo_queue.depth(conn=conn)


async def requeue_failed(r: Resources, *, event_id: int) -> int:
    """The event's failed photos back in the queue (the workers are notified)."""
    async with r.engine.begin() as conn:
        await events.event_by_id(conn=conn, event_id=event_id)
        return await photo_queue.requeue_failed(conn=conn, event_id=event_id)


async def rematch(r: Resources, *, event_id: int) -> tuple[int, int]:
    """The event's matches and suggestions derived again from all its references at
    its current bounds, in one transaction; (references, matches)."""
    async with r.engine.begin() as conn:
        result = await matching.rematch_event(conn, event_id=event_id)
    if result is None:
        raise Refusal(Reason.EVENT_NOT_FOUND, "no such event")
    return result


async def purge(r: Resources, *, event_id: int) -> EventRecord:
    """The event deleted as its organizer would: rows, cached code, blobs."""
    async with r.engine.connect() as conn:
        event = await events.event_by_id(conn=conn, event_id=event_id)
    await event_usecases.delete_event(r, organizer_id=event.organizer_id, event_id=event_id)
    return event


async def run_retention(r: Resources, *, batch: int = 100) -> retention.Purged:
    """What the photo worker's retention job does, now."""
    return await purge_expired(engine=r.engine, blobs=r.blobs, batch=batch)
