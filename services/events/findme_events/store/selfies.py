"""The selfies table: one selfie per attendee, stored or replaced."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from findme_common.refusals import Reason, Refusal
from sqlalchemy import Select, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from findme_events.models import Attendee, Event, Selfie
from findme_events.schemas import FaceBox


@dataclass(frozen=True, slots=True)
class SelfieOwner:
    """Where a stored selfie is matched: the attendee's event and its tolerance."""

    attendee_id: int
    event_id: int
    match_tolerance: float


async def store_selfie(
    *, conn: AsyncConnection, attendee_id: int, jpeg: bytes, encoding: list[float], face: FaceBox
) -> SelfieOwner:
    """Store (or replace) the attendee's selfie, the attendee row locked first.

    Call inside one transaction together with ``matching.match_selfie``: the lock makes
    two uploads by the same attendee apply one after the other, so the matches always
    belong to the stored selfie (and ``matching.match_photo`` waits for it).
    """
    target = (
        await conn.execute(
            select(Attendee.event_id, Event.match_tolerance)
            .join(Event, Event.id == Attendee.event_id)
            .where(Attendee.id == attendee_id)
            .with_for_update(of=Attendee)
        )
    ).one_or_none()
    if target is None:
        raise Refusal(Reason.ATTENDEE_NOT_FOUND, "no such attendee")
    values = {
        "jpeg": jpeg,
        "encoding": encoding,
        "face_top": face.top,
        "face_right": face.right,
        "face_bottom": face.bottom,
        "face_left": face.left,
        "stored_bytes": len(jpeg),
        "consented_at": func.now(),
    }
    upsert = pg_insert(Selfie).values(attendee_id=attendee_id, **values)
    await conn.execute(
        upsert.on_conflict_do_update(
            index_elements=[Selfie.attendee_id], set_={**values, "created_at": func.now()}
        )
    )
    return SelfieOwner(
        attendee_id=attendee_id,
        event_id=int(target.event_id),
        match_tolerance=float(target.match_tolerance),
    )


def event_selfies_query(event_id: int) -> Select[int, Any]:
    return (
        select(Selfie.attendee_id, Selfie.encoding)
        .join(Attendee, Attendee.id == Selfie.attendee_id)
        .where(Attendee.event_id == event_id)
        .order_by(Selfie.attendee_id)
        # The same lock store_selfie takes: matching.match_selfie's precondition.
        .with_for_update(of=Attendee)
    )


async def event_selfies(*, conn: AsyncConnection, event_id: int) -> list[tuple[int, list[float]]]:
    """(attendee, encoding) of every selfie of the event, the attendees locked."""
    rows = await conn.execute(event_selfies_query(event_id))
    return [(row.attendee_id, [float(v) for v in row.encoding]) for row in rows]
