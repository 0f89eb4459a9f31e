"""The matching rule, both directions, in one place.

A face matches an attendee when the Euclidean distance between the face's encoding
and the attendee's selfie encoding is at most the event's tolerance. Each
(attendee, photo) keeps at most one match: its closest face. Distances are computed
in PostgreSQL (pgvector ``<->``) with the encodings bound as typed vectors.

- ``match_selfie``: a selfie stored or replaced -> the attendee's matches are
  recomputed against every face of the event.
- ``match_photo``: a photo's faces stored -> the photo is matched against every
  selfie of the event.

Both run in the transaction that stored the selfie or the faces.
"""

from __future__ import annotations

from typing import Any

from pgvector.sqlalchemy import Vector
from sqlalchemy import Select, and_, bindparam, delete, func, insert, literal, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from findme_events.models import ENCODING_DIMENSIONS, Attendee, Face, Match, Selfie

MATCH_COLUMNS = ["attendee_id", "photo_id", "face_id", "distance"]


def selfie_matches_query(
    *, attendee_id: int, event_id: int, tolerance: float, encoding: list[float]
) -> Select[Any]:
    """The closest face within tolerance of every photo of the event, for one selfie."""
    probe = bindparam("probe", encoding, type_=Vector(ENCODING_DIMENSIONS))
    distance = Face.encoding.l2_distance(probe)
    return (
        select(literal(attendee_id), Face.photo_id, Face.id, distance)
        .where(Face.event_id == event_id, distance <= tolerance)
        .ext(distinct_on(Face.photo_id))
        .order_by(Face.photo_id, distance, Face.id)
    )


async def match_selfie(
    *,
    conn: AsyncConnection,
    attendee_id: int,
    event_id: int,
    tolerance: float,
    encoding: list[float],
) -> int:
    """Replace the attendee's matches with those of ``encoding``; return how many.
    The caller holds the attendee row lock (``store.selfies.store_selfie``)."""
    await conn.execute(delete(Match).where(Match.attendee_id == attendee_id))
    closest = selfie_matches_query(
        attendee_id=attendee_id, event_id=event_id, tolerance=tolerance, encoding=encoding
    )
    result = await conn.execute(insert(Match).from_select(MATCH_COLUMNS, closest))
    return int(result.rowcount)


def lock_attendees_query(event_id: int) -> Select[Any]:
    """Every attendee of the event, locked FOR KEY SHARE: the mode conflicts only with
    ``store_selfie``'s FOR UPDATE. A selfie being stored right now either commits
    before the photo reads the selfies (and is matched here), or waits for this
    transaction (and then sees the photo's faces). Logins and other photos are not
    blocked. Locking attendees rather than selfies also covers a first selfie, which
    has no row to lock yet."""
    locked = (
        select(Attendee.id)
        .where(Attendee.event_id == event_id)
        .order_by(Attendee.id)
        .with_for_update(read=True, key_share=True)
        .subquery()
    )
    return select(func.count()).select_from(locked)


def photo_matches_query(*, event_id: int, photo_id: int, tolerance: float) -> Select[Any]:
    """The closest face of the photo within tolerance, for every selfie of the event."""
    distance = Face.encoding.l2_distance(Selfie.encoding)
    return (
        select(Selfie.attendee_id, Face.photo_id, Face.id, distance)
        .select_from(Face)
        .join(Selfie, distance <= tolerance)
        .join(Attendee, and_(Attendee.id == Selfie.attendee_id, Attendee.event_id == event_id))
        .where(Face.photo_id == photo_id)
        .ext(distinct_on(Selfie.attendee_id))
        .order_by(Selfie.attendee_id, distance, Face.id)
    )


async def match_photo(
    *, conn: AsyncConnection, event_id: int, photo_id: int, tolerance: float
) -> int:
    """Insert the photo's matches (its faces must be stored); return how many."""
    await conn.execute(lock_attendees_query(event_id))
    closest = photo_matches_query(event_id=event_id, photo_id=photo_id, tolerance=tolerance)
    result = await conn.execute(
        pg_insert(Match)
        .from_select(MATCH_COLUMNS, closest)
        .on_conflict_do_nothing(index_elements=[Match.attendee_id, Match.photo_id])
    )
    return int(result.rowcount)
