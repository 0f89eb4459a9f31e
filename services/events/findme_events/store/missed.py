""" "You missed me here": flags on photos, and their queue for the photo worker's
closer look (claimed like photos: ``FOR UPDATE SKIP LOCKED`` and a lease, results
fenced by the attempt number).

A closer look finds faces the first analysis missed; those that do not overlap a
face already stored become faces of the photo like any other, matched for every
attendee by the one rule. The flag then says whether its attendee now has a match
or a suggestion in the photo.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from findme_common.refusals import Reason, Refusal
from sqlalchemy import Select, Update, case, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from findme_events import matching
from findme_events.models import Face, Match, MissedPhoto, Photo, Suggestion
from findme_events.schemas import ClaimedFlag, DetectedFace, FaceBox, MissedPhotoRecord
from findme_events.store.photo_queue import seconds_from_now, store_faces

# A detection overlapping a stored face this much (intersection over union) is that
# face found again, not a new one.
SAME_FACE_OVERLAP = 0.3


def overlap(a: FaceBox, b: FaceBox) -> float:
    """Intersection over union of two boxes."""
    width = min(a.right, b.right) - max(a.left, b.left)
    height = min(a.bottom, b.bottom) - max(a.top, b.top)
    inter = max(0, width) * max(0, height)
    area = (a.right - a.left) * (a.bottom - a.top) + (b.right - b.left) * (b.bottom - b.top)
    return inter / (area - inter) if area > inter else 0.0


def _record(row: Any) -> MissedPhotoRecord:
    return MissedPhotoRecord(photo_id=row.photo_id, status=row.status, found=bool(row.found))


COLUMNS = (MissedPhoto.photo_id, MissedPhoto.status, MissedPhoto.found)


async def flag(
    *, conn: AsyncConnection, attendee_id: int, event_id: int, photo_id: int, max_flags: int
) -> MissedPhotoRecord:
    """Flag a processed photo of the attendee's event (once: a second flag answers with
    the first). ``photo_not_found`` for any other photo."""
    processed = (
        await conn.execute(
            select(Photo.id).where(
                Photo.id == photo_id, Photo.event_id == event_id, Photo.status == "done"
            )
        )
    ).scalar()
    if processed is None:
        raise Refusal(Reason.PHOTO_NOT_FOUND, "no such photo")
    existing = await flag_of(conn=conn, attendee_id=attendee_id, photo_id=photo_id)
    if existing is not None:
        return existing
    flags = (
        await conn.execute(select(func.count()).where(MissedPhoto.attendee_id == attendee_id))
    ).scalar_one()
    if flags >= max_flags:
        raise Refusal(Reason.TOO_MANY_MISSED_PHOTOS, f"at most {max_flags} photos can be flagged")
    row = (
        await conn.execute(
            pg_insert(MissedPhoto)
            .values(attendee_id=attendee_id, event_id=event_id, photo_id=photo_id)
            .on_conflict_do_nothing(index_elements=[MissedPhoto.attendee_id, MissedPhoto.photo_id])
            .returning(*COLUMNS)
        )
    ).one_or_none()
    if row is None:  # flagged at the same moment by a twin request
        found = await flag_of(conn=conn, attendee_id=attendee_id, photo_id=photo_id)
        assert found is not None
        return found
    return _record(row)


def flag_query(attendee_id: int, photo_id: int) -> Select[int, str, bool | None]:
    return select(*COLUMNS).where(
        MissedPhoto.attendee_id == attendee_id, MissedPhoto.photo_id == photo_id
    )


async def flag_of(
    *, conn: AsyncConnection, attendee_id: int, photo_id: int
) -> MissedPhotoRecord | None:
    row = (await conn.execute(flag_query(attendee_id, photo_id))).one_or_none()
    return None if row is None else _record(row)


# -- the queue -------------------------------------------------------------------------


def release_query(max_attempts: int) -> Update:
    """Flags whose claim expired (their worker died): pending again, or failed once
    every attempt expired."""
    out_of_attempts = MissedPhoto.attempts >= max_attempts
    return (
        update(MissedPhoto)
        .where(MissedPhoto.status == "processing", MissedPhoto.lease_until < func.now())
        .values(
            status=case((out_of_attempts, "failed"), else_="pending"),
            error=case(
                (out_of_attempts, Reason.PROCESSING_TIMED_OUT.value), else_=MissedPhoto.error
            ),
            lease_until=None,
        )
    )


def claim_query(lease: float) -> Update:
    """The oldest pending flag."""
    next_flag = (
        select(MissedPhoto.id)
        .where(
            MissedPhoto.status == "pending",
            or_(MissedPhoto.lease_until.is_(None), MissedPhoto.lease_until <= func.now()),
        )
        .order_by(MissedPhoto.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    return (
        update(MissedPhoto)
        .where(MissedPhoto.id == next_flag)
        .values(
            status="processing",
            attempts=MissedPhoto.attempts + 1,
            lease_until=seconds_from_now(lease),
        )
        .returning(
            MissedPhoto.id,
            MissedPhoto.attendee_id,
            MissedPhoto.event_id,
            MissedPhoto.photo_id,
            MissedPhoto.attempts,
        )
    )


async def claim(*, conn: AsyncConnection, lease: float, max_attempts: int) -> ClaimedFlag | None:
    await conn.execute(release_query(max_attempts))
    row = (await conn.execute(claim_query(lease))).one_or_none()
    if row is None:
        return None
    storage_key = (
        await conn.execute(select(Photo.storage_key).where(Photo.id == row.photo_id))
    ).scalar_one()
    return ClaimedFlag(
        id=row.id,
        attendee_id=row.attendee_id,
        event_id=row.event_id,
        photo_id=row.photo_id,
        storage_key=storage_key,
        attempt=row.attempts,
    )


def _fenced(flag: ClaimedFlag) -> Any:
    return (
        (MissedPhoto.id == flag.id)
        & (MissedPhoto.status == "processing")
        & (MissedPhoto.attempts == flag.attempt)
    )


async def complete(
    *, conn: AsyncConnection, flag: ClaimedFlag, faces: Sequence[DetectedFace]
) -> bool | None:
    """Store the faces the closer look found that are new to the photo, match the
    photo again and mark the flag done; whether its attendee now has a match or a
    suggestion there. None when the claim is no longer ours."""
    held = (
        await conn.execute(select(MissedPhoto.id).where(_fenced(flag)).with_for_update())
    ).scalar()
    bounds = await matching.lock_event(conn, flag.event_id) if held is not None else None
    if bounds is None:
        return None
    stored = [
        FaceBox(top=row.top, right=row.right, bottom=row.bottom, left=row.left)
        for row in await conn.execute(
            select(Face.top, Face.right, Face.bottom, Face.left).where(
                Face.photo_id == flag.photo_id
            )
        )
    ]
    new = [f for f in faces if all(overlap(f.box, old) < SAME_FACE_OVERLAP for old in stored)]
    if new:
        await store_faces(conn=conn, photo_id=flag.photo_id, event_id=flag.event_id, faces=new)
        await matching.match_photo(
            conn, event_id=flag.event_id, photo_id=flag.photo_id, bounds=bounds
        )
    mine = [
        exists().where(table.attendee_id == flag.attendee_id, table.photo_id == flag.photo_id)
        for table in (Match, Suggestion)
    ]
    found = bool((await conn.execute(select(or_(*mine)))).scalar_one())
    await conn.execute(
        update(MissedPhoto)
        .where(MissedPhoto.id == flag.id)
        .values(status="done", lease_until=None, error=None, found=found)
    )
    return found


async def retry_or_fail(
    *,
    conn: AsyncConnection,
    flag: ClaimedFlag,
    reason: Reason,
    permanent: bool,
    max_attempts: int,
    delay: float,
) -> None:
    """Back to pending after ``delay`` s, or failed (a refused image, or out of attempts)."""
    give_up = permanent or flag.attempt >= max_attempts
    await conn.execute(
        update(MissedPhoto)
        .where(_fenced(flag))
        .values(
            status="failed" if give_up else "pending",
            lease_until=None if give_up else seconds_from_now(delay),
            error=reason.value,
        )
    )
