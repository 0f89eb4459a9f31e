"""The photo queue in the photos table: claim with ``FOR UPDATE SKIP LOCKED`` and a
lease, store results fenced by the attempt number, retry or fail.

A worker that dies keeps its claim only until ``lease_until``; the next claim pass
puts the photo back to pending (or fails it after ``max_attempts``). Results are
stored only while the claim is still the worker's own (status processing and the
same attempt), so a worker that was presumed dead cannot store a second set of faces.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from findme_events import matching
from findme_events.schemas import ClaimedPhoto, DetectedFace

RELEASE_EXPIRED = text(
    """
    UPDATE photos
    SET status = CASE WHEN attempts >= :max_attempts THEN 'failed' ELSE 'pending' END,
        error = CASE WHEN attempts >= :max_attempts THEN 'processing_timed_out' ELSE error END,
        lease_until = NULL
    WHERE id IN (
        SELECT id FROM photos
        WHERE status = 'processing' AND lease_until < now()
        FOR UPDATE SKIP LOCKED
    )
    """
)

CLAIM = text(
    """
    UPDATE photos
    SET status = 'processing',
        attempts = attempts + 1,
        lease_until = now() + make_interval(secs => :lease)
    WHERE id = (
        SELECT id FROM photos
        WHERE status = 'pending' AND (lease_until IS NULL OR lease_until <= now())
        ORDER BY id
        LIMIT 1
        FOR UPDATE SKIP LOCKED
    )
    RETURNING id, event_id, storage_key, attempts
    """
)

HOLD = text(
    """
    SELECT p.id, e.match_tolerance
    FROM photos p JOIN events e ON e.id = p.event_id
    WHERE p.id = :photo_id AND p.status = 'processing' AND p.attempts = :attempt
    FOR UPDATE OF p
    """
)

INSERT_FACE = text(
    """
    INSERT INTO faces (photo_id, event_id, top, "right", bottom, "left", encoding)
    VALUES (:photo_id, :event_id, :top, :right, :bottom, :left, CAST(:encoding AS vector))
    """
)

MARK_DONE = text(
    """
    UPDATE photos
    SET status = 'done', lease_until = NULL, error = NULL, width = :width, height = :height,
        display_key = :display_key, thumbnail_key = :thumbnail_key
    WHERE id = :photo_id
    """
)

RETRY_OR_FAIL = text(
    """
    UPDATE photos
    SET status = CASE WHEN :permanent OR attempts >= :max_attempts
                      THEN 'failed' ELSE 'pending' END,
        lease_until = CASE WHEN :permanent OR attempts >= :max_attempts
                           THEN NULL ELSE now() + make_interval(secs => :delay) END,
        error = :reason
    WHERE id = :photo_id AND status = 'processing' AND attempts = :attempt
    RETURNING status
    """
)


async def release_expired(*, conn: AsyncConnection, max_attempts: int) -> int:
    """Put photos whose claim expired back in the queue; return how many."""
    result = await conn.execute(RELEASE_EXPIRED, {"max_attempts": max_attempts})
    return int(result.rowcount)


async def claim(*, conn: AsyncConnection, lease: float) -> ClaimedPhoto | None:
    row = (await conn.execute(CLAIM, {"lease": lease})).one_or_none()
    if row is None:
        return None
    return ClaimedPhoto(
        id=row.id, event_id=row.event_id, storage_key=row.storage_key, attempt=row.attempts
    )


def _vector_literal(encoding: Sequence[float]) -> str:
    return "[" + ",".join(repr(float(value)) for value in encoding) + "]"


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
    held = (
        await conn.execute(HOLD, {"photo_id": photo.id, "attempt": photo.attempt})
    ).one_or_none()
    if held is None:
        return None
    if faces:
        await conn.execute(
            INSERT_FACE,
            [
                {
                    "photo_id": photo.id,
                    "event_id": photo.event_id,
                    "top": face.box.top,
                    "right": face.box.right,
                    "bottom": face.box.bottom,
                    "left": face.box.left,
                    "encoding": _vector_literal(face.encoding),
                }
                for face in faces
            ],
        )
    matches = 0
    if faces:
        matches = await matching.match_photo(
            conn=conn,
            event_id=photo.event_id,
            photo_id=photo.id,
            tolerance=float(held.match_tolerance),
        )
    await conn.execute(
        MARK_DONE,
        {
            "photo_id": photo.id,
            "width": width,
            "height": height,
            "display_key": display_key,
            "thumbnail_key": thumbnail_key,
        },
    )
    return matches


async def retry_or_fail(
    *,
    conn: AsyncConnection,
    photo: ClaimedPhoto,
    reason: str,
    permanent: bool,
    max_attempts: int,
    delay: float,
) -> str | None:
    """Back to pending after ``delay`` s, or failed (permanent refusal, or out of
    attempts); the new status, or None when the claim was no longer ours."""
    row = (
        await conn.execute(
            RETRY_OR_FAIL,
            {
                "photo_id": photo.id,
                "attempt": photo.attempt,
                "reason": reason,
                "permanent": permanent,
                "max_attempts": max_attempts,
                "delay": delay,
            },
        )
    ).one_or_none()
    return None if row is None else str(row.status)
