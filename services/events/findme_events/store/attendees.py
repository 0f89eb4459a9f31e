"""The attendees table: availability (an EXISTS on the unique index), sign-up,
credentials for login, password rehash and deletion."""

from __future__ import annotations

from findme_common.refusals import Reason, Refusal
from sqlalchemy import Select, delete, exists, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from findme_events.models import Attendee
from findme_events.schemas import AttendeeRecord, CredentialsRecord
from findme_events.store.integrity import FOREIGN_KEY_VIOLATION, violation


def availability_query(event_id: int, username_key: str) -> Select[bool]:
    return select(
        exists().where(Attendee.event_id == event_id, Attendee.username_key == username_key)
    )


async def username_taken(*, conn: AsyncConnection, event_id: int, username_key: str) -> bool:
    return bool((await conn.execute(availability_query(event_id, username_key))).scalar_one())


async def create_attendee(
    *,
    conn: AsyncConnection,
    event_id: int,
    username: str,
    username_key: str,
    password_hash: str,
) -> AttendeeRecord:
    statement = (
        insert(Attendee)
        .values(
            event_id=event_id,
            username=username,
            username_key=username_key,
            password_hash=password_hash,
        )
        .returning(Attendee.id)
    )
    try:
        attendee_id = int((await conn.execute(statement)).scalar_one())
    except IntegrityError as exc:
        sqlstate, constraint = violation(exc)
        if constraint == "uq_attendees_event_id_username_key":
            raise Refusal(Reason.USERNAME_TAKEN, "this username is taken") from None
        if sqlstate == FOREIGN_KEY_VIOLATION:
            raise Refusal(Reason.EVENT_NOT_FOUND, "no such event") from None
        raise
    return AttendeeRecord(id=attendee_id, event_id=event_id, username=username)


async def attendee_credentials(
    *, conn: AsyncConnection, event_id: int, username_key: str
) -> CredentialsRecord:
    row = (
        await conn.execute(
            select(Attendee.id, Attendee.password_hash).where(
                Attendee.event_id == event_id, Attendee.username_key == username_key
            )
        )
    ).one_or_none()
    if row is None:
        return CredentialsRecord(found=False, event_id=event_id, account=username_key)
    return CredentialsRecord(
        found=True,
        subject_id=row.id,
        event_id=event_id,
        password_hash=row.password_hash,
        account=username_key,
    )


async def delete_attendee(*, conn: AsyncConnection, attendee_id: int) -> bool:
    """Remove the attendee; selfies, references (with their pairs), matches,
    suggestions, answers and flags cascade.
    False when there was no such attendee (deleting twice is not an error)."""
    result = await conn.execute(delete(Attendee).where(Attendee.id == attendee_id))
    return bool(result.rowcount)
