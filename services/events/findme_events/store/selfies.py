"""The selfies table: up to ``max_selfies`` per attendee, added or replaced."""

from __future__ import annotations

from findme_common.refusals import Reason, Refusal
from sqlalchemy import Select, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from findme_events.models import Attendee, Selfie
from findme_events.schemas import FaceBox


def _no_attendee() -> Refusal:
    return Refusal(Reason.ATTENDEE_NOT_FOUND, "no such attendee")


def attendee_event_query(attendee_id: int) -> Select[int]:
    return select(Attendee.event_id).where(Attendee.id == attendee_id)


async def attendee_event(*, conn: AsyncConnection, attendee_id: int) -> int:
    """The attendee's event; ``attendee_not_found`` when there is no such attendee."""
    event_id = (await conn.execute(attendee_event_query(attendee_id))).scalar()
    if event_id is None:
        raise _no_attendee()
    return int(event_id)


async def store_selfie(
    *,
    conn: AsyncConnection,
    attendee_id: int,
    jpeg: bytes,
    encoding: list[float],
    face: FaceBox,
    add: bool,
    max_selfies: int,
) -> tuple[int, int]:
    """Store a selfie: another one (``add``; at most ``max_selfies``) or the only one
    (the others deleted, their references with them). (selfie id, selfies now).

    Call inside the transaction that holds the event's matching lock and then adds
    the selfie's reference (``usecases.selfies.store_and_match``).
    """
    locked = (
        await conn.execute(select(Attendee.id).where(Attendee.id == attendee_id).with_for_update())
    ).scalar()
    if locked is None:
        raise _no_attendee()
    if add:
        kept = int(
            (
                await conn.execute(select(func.count()).where(Selfie.attendee_id == attendee_id))
            ).scalar_one()
        )
        if kept >= max_selfies:
            raise Refusal(
                Reason.TOO_MANY_SELFIES,
                f"at most {max_selfies} selfies; upload one without 'add' to start over",
            )
    else:
        kept = 0
        await conn.execute(delete(Selfie).where(Selfie.attendee_id == attendee_id))
    selfie_id = (
        await conn.execute(
            insert(Selfie)
            .values(
                attendee_id=attendee_id,
                jpeg=jpeg,
                encoding=encoding,
                face_top=face.top,
                face_right=face.right,
                face_bottom=face.bottom,
                face_left=face.left,
                stored_bytes=len(jpeg),
                consented_at=func.now(),
            )
            .returning(Selfie.id)
        )
    ).scalar_one()
    return int(selfie_id), kept + 1
