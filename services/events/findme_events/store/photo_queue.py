"""The photo queue in the photos table: claim with ``FOR UPDATE SKIP LOCKED`` and a
lease, store results fenced by the attempt number, retry or fail.

A worker that dies keeps its claim only until ``lease_until``; the next claim pass
puts the photo back to pending (or fails it after ``max_attempts``). Results are
stored only while the claim is still the worker's own (status processing and the
same attempt), so a worker that was presumed dead cannot store a second set of faces.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from findme_common.refusals import Reason
from sqlalchemy import Select, Update, case, func, insert, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from findme_events import matching
from findme_events.models import Face, Photo
from findme_events.schemas import ClaimedPhoto, DetectedFace, QueueDepth

# A migration's trigger notifies this channel whenever a photo becomes pending, so an
# idle worker starts it at once instead of at its next poll.
PENDING_CHANNEL = "findme_photos_pending"


def seconds_from_now(seconds: Any) -> ColumnElement[Any]:
    return func.now() + func.make_interval(0, 0, 0, 0, 0, 0, seconds)


def release_expired_query(max_attempts: int) -> Update:
    expired = (
        select(Photo.id)
        .where(Photo.status == "processing", Photo.lease_until < func.now())
        .with_for_update(skip_locked=True)
    )
    out_of_attempts = Photo.attempts >= max_attempts
    return (
        update(Photo)
        .where(Photo.id.in_(expired.scalar_subquery()))
        .values(
            status=case((out_of_attempts, "failed"), else_="pending"),
            error=case((out_of_attempts, Reason.PROCESSING_TIMED_OUT.value), else_=Photo.error),
            lease_until=None,
        )
    )


def claim_query(lease: float) -> Update:
    next_pending = (
        select(Photo.id)
        .where(
            Photo.status == "pending",
            or_(Photo.lease_until.is_(None), Photo.lease_until <= func.now()),
        )
        .order_by(Photo.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    return (
        update(Photo)
        .where(Photo.id == next_pending)
        .values(
            status="processing",
            attempts=Photo.attempts + 1,
            lease_until=seconds_from_now(lease),
        )
        .returning(Photo.id, Photo.event_id, Photo.storage_key, Photo.attempts)
    )


def hold_query(photo_id: int, attempt: int) -> Select[int]:
    """The photo, locked, while the claim of ``attempt`` is still current."""
    return (
        select(Photo.id)
        .where(Photo.id == photo_id, Photo.status == "processing", Photo.attempts == attempt)
        .with_for_update()
    )


async def release_expired(*, conn: AsyncConnection, max_attempts: int) -> int:
    """Put photos whose claim expired back in the queue; return how many."""
    result = await conn.execute(release_expired_query(max_attempts))
    return int(result.rowcount)


async def claim(*, conn: AsyncConnection, lease: float) -> ClaimedPhoto | None:
    row = (await conn.execute(claim_query(lease))).one_or_none()
    if row is None:
        return None
    return ClaimedPhoto(
        id=row.id, event_id=row.event_id, storage_key=row.storage_key, attempt=row.attempts
    )


async def store_faces(
    *, conn: AsyncConnection, photo_id: int, event_id: int, faces: Sequence[DetectedFace]
) -> None:
    await conn.execute(
        insert(Face),
        [
            {
                "photo_id": photo_id,
                "event_id": event_id,
                "top": face.box.top,
                "right": face.box.right,
                "bottom": face.box.bottom,
                "left": face.box.left,
                "encoding": face.encoding,
            }
            for face in faces
        ],
    )


async def complete(
    *,
    conn: AsyncConnection,
    photo: ClaimedPhoto,
    width: int,
    height: int,
    display_key: str,
    thumbnail_key: str,
    faces: Sequence[DetectedFace],
) -> int | None:
    """Store faces and matches and mark the photo done, in the caller's transaction.

    Returns the number of matches, or None when the claim is no longer ours (the
    lease expired and another worker took the photo, or the event was deleted).
    """
    held = (await conn.execute(hold_query(photo.id, photo.attempt))).one_or_none()
    if held is None:
        return None
    matches = 0
    bounds = await matching.lock_event(conn, photo.event_id) if faces else None
    if bounds is not None:
        await store_faces(conn=conn, photo_id=photo.id, event_id=photo.event_id, faces=faces)
        matches = await matching.match_photo(
            conn, event_id=photo.event_id, photo_id=photo.id, bounds=bounds
        )
    await conn.execute(
        update(Photo)
        .where(Photo.id == photo.id)
        .values(
            status="done",
            lease_until=None,
            error=None,
            width=width,
            height=height,
            display_key=display_key,
            thumbnail_key=thumbnail_key,
        )
    )
    return matches


async def retry_or_fail(
    *,
    conn: AsyncConnection,
    photo: ClaimedPhoto,
    reason: Reason,
    permanent: bool,
    max_attempts: int,
    delay: float,
) -> str | None:
    """Back to pending after ``delay`` s, or failed (permanent refusal, or out of
    attempts); the new status, or None when the claim was no longer ours."""
    give_up = true() if permanent else Photo.attempts >= max_attempts
    row = (
        await conn.execute(
            update(Photo)
            .where(
                Photo.id == photo.id,
                Photo.status == "processing",
                Photo.attempts == photo.attempt,
            )
            .values(
                status=case((give_up, "failed"), else_="pending"),
                lease_until=case((give_up, None), else_=seconds_from_now(delay)),
                error=reason.value,
            )
            .returning(Photo.status)
        )
    ).one_or_none()
    return None if row is None else str(row.status)


def pending_depth_query() -> Select[int, float]:
    # The partial index ix_photos_pending holds exactly these rows.
    oldest_age = func.extract("epoch", func.now() - func.min(Photo.created_at))
    return select(func.count(), func.coalesce(oldest_age, 0)).where(Photo.status == "pending")


def processing_depth_query() -> Select[int]:
    # The partial index ix_photos_processing_lease holds exactly these rows.
    return select(func.count()).where(Photo.status == "processing")


async def depth(*, conn: AsyncConnection) -> QueueDepth:
    """Photos waiting and being analysed, all events together, and the age of the
    oldest waiting one (0 when none waits)."""
    pending, oldest_age = (await conn.execute(pending_depth_query())).one()
    processing = (await conn.execute(processing_depth_query())).scalar_one()
    return QueueDepth(
        pending=int(pending), processing=int(processing), oldest_pending_seconds=float(oldest_age)
    )


def requeue_failed_query(event_id: int) -> Update:
    # ix_photos_event_id_status finds the event's failed photos.
    return (
        update(Photo)
        .where(Photo.event_id == event_id, Photo.status == "failed")
        .values(status="pending", attempts=0, error=None, lease_until=None)
    )


async def requeue_failed(*, conn: AsyncConnection, event_id: int) -> int:
    """Failed photos of the event back in the queue with fresh attempts; how many."""
    return int((await conn.execute(requeue_failed_query(event_id))).rowcount)
