"""The organizers table: accounts and their credentials."""

from __future__ import annotations

from findme_common.refusals import Reason, Refusal
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from findme_events.models import Organizer
from findme_events.schemas import CredentialsRecord
from findme_events.store.integrity import UNIQUE_VIOLATION, violation


async def create_organizer(*, conn: AsyncConnection, email: str, password_hash: str) -> int:
    statement = (
        insert(Organizer).values(email=email, password_hash=password_hash).returning(Organizer.id)
    )
    try:
        return int((await conn.execute(statement)).scalar_one())
    except IntegrityError as exc:
        if violation(exc) == (UNIQUE_VIOLATION, "uq_organizers_email"):
            raise Refusal(Reason.EMAIL_TAKEN, "an organizer with this email exists") from None
        raise


async def organizer_credentials(*, conn: AsyncConnection, email: str) -> CredentialsRecord:
    row = (
        await conn.execute(
            select(Organizer.id, Organizer.password_hash).where(Organizer.email == email)
        )
    ).one_or_none()
    if row is None:
        return CredentialsRecord(found=False, account=email)
    return CredentialsRecord(
        found=True, subject_id=row.id, password_hash=row.password_hash, account=email
    )
