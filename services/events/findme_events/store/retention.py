"""The retention job's deletions: everything biometric, and every failed original,
older than its event's ``retention_days``.

- matches (by when they were found) and selfies (by when they were taken, with
  their encodings);
- everything the matching learnt from a person: references (their pairs cascade),
  suggestions, answers and missed-photo flags, no longer than their selfie;
- faces, every 128-d encoding found in the event's photos, bystanders who never
  registered included (by when they were found; their matches go with them);
- failed photos (by upload time): their rows, and their originals in the blob store
  (the caller deletes those, ``expired_failed_photos`` then ``delete_photos``).

Each statement first narrows by the shortest retention of any event, a plain range
on a time index (ix_matches_detected_at, ix_selfies_created_at, ix_faces_created_at,
ix_photos_failed_created_at), then applies each row's own event's limit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Delete, Select, func, select
from sqlalchemy import delete as sql_delete
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import InstrumentedAttribute

from findme_events.models import (
    Attendee,
    Event,
    Face,
    FaceAnswer,
    FaceReference,
    Match,
    MissedPhoto,
    Photo,
    Selfie,
    Suggestion,
)


@dataclass(frozen=True)
class Purged:
    matches: int = 0
    selfies: int = 0
    references: int = 0
    suggestions: int = 0
    answers: int = 0
    missed_photos: int = 0
    faces: int = 0
    failed_photos: int = 0

    def __bool__(self) -> bool:
        return any(dataclasses.astuple(self))


@dataclass(frozen=True)
class ExpiredPhoto:
    id: int
    blob_keys: tuple[str, ...]


def shortest_retention_query() -> Select[Any]:
    return select(func.coalesce(func.min(Event.retention_days), 0))


def _days_ago(days: Any) -> Any:
    return func.now() - func.make_interval(0, 0, 0, days)


def _purge_query(table: Any, stamp: InstrumentedAttribute[Any], shortest: int) -> Delete:
    return sql_delete(table).where(
        stamp < _days_ago(shortest),
        Attendee.id == table.attendee_id,
        Event.id == Attendee.event_id,
        stamp < _days_ago(Event.retention_days),
    )


def purge_matches_query(shortest: int) -> Delete:
    return _purge_query(Match, Match.detected_at, shortest)


def purge_selfies_query(shortest: int) -> Delete:
    return _purge_query(Selfie, Selfie.created_at, shortest)


def purge_faces_query(shortest: int) -> Delete:
    return sql_delete(Face).where(
        Face.created_at < _days_ago(shortest),
        Event.id == Face.event_id,
        Face.created_at < _days_ago(Event.retention_days),
    )


def expired_failed_photos_query(
    shortest: int, limit: int
) -> Select[int, str, str | None, str | None]:
    return (
        select(Photo.id, Photo.storage_key, Photo.display_key, Photo.thumbnail_key)
        .join(Event, Event.id == Photo.event_id)
        .where(
            Photo.status == "failed",
            Photo.created_at < _days_ago(shortest),
            Photo.created_at < _days_ago(Event.retention_days),
        )
        .limit(limit)
        .with_for_update(of=Photo, skip_locked=True)
    )


async def _shortest(conn: AsyncConnection) -> int:
    return int((await conn.execute(shortest_retention_query())).scalar_one())


# What the matching learnt from a person: kept no longer than their selfie.
LEARNT: dict[str, Any] = {
    "references": FaceReference,
    "suggestions": Suggestion,
    "answers": FaceAnswer,
    "missed_photos": MissedPhoto,
}


def purge_learnt_query(table: Any, shortest: int) -> Delete:
    return _purge_query(table, table.created_at, shortest)


async def purge(*, conn: AsyncConnection) -> Purged:
    """Delete expired matches, selfies, what was learnt from them, and faces (with
    the matches of those faces); how many of each."""
    shortest = await _shortest(conn)
    if shortest <= 0:
        return Purged()
    removed = {
        "matches": int((await conn.execute(purge_matches_query(shortest))).rowcount),
        "selfies": int((await conn.execute(purge_selfies_query(shortest))).rowcount),
    }
    for name, table in LEARNT.items():
        removed[name] = int((await conn.execute(purge_learnt_query(table, shortest))).rowcount)
    removed["faces"] = int((await conn.execute(purge_faces_query(shortest))).rowcount)
    return Purged(**removed)


async def expired_failed_photos(*, conn: AsyncConnection, limit: int) -> list[ExpiredPhoto]:
    """Up to ``limit`` expired failed photos, locked until the transaction ends (the
    caller deletes their blobs, then ``delete_photos``, in that transaction)."""
    shortest = await _shortest(conn)
    if shortest <= 0:
        return []
    rows = await conn.execute(expired_failed_photos_query(shortest, limit))
    return [ExpiredPhoto(id=row.id, blob_keys=tuple(k for k in row[1:] if k)) for row in rows]


async def delete_photos(*, conn: AsyncConnection, photo_ids: Sequence[int]) -> int:
    result = await conn.execute(sql_delete(Photo).where(Photo.id.in_(photo_ids)))
    return int(result.rowcount)
