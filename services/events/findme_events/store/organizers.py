"""The accounts that log in with an email: organizers, and operators (who run the
system; created by the admin CLI only). Both tables have the same shape."""

from __future__ import annotations

from findme_common.refusals import Reason, Refusal
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from findme_events.models import Operator, Organizer
from findme_events.schemas import CredentialsRecord
from findme_events.store.integrity import UNIQUE_VIOLATION, violation

EmailAccount = type[Organizer] | type[Operator]


async def create_account(
    *, conn: AsyncConnection, table: EmailAccount, email: str, password_hash: str
) -> int:
    statement = insert(table).values(email=email, password_hash=password_hash).returning(table.id)
    try:
        return int((await conn.execute(statement)).scalar_one())
    except IntegrityError as exc:
        if violation(exc) == (UNIQUE_VIOLATION, f"uq_{table.__tablename__}_email"):
            raise Refusal(Reason.EMAIL_TAKEN, "an account with this email exists") from None
        raise


async def account_credentials(
    *, conn: AsyncConnection, table: EmailAccount, email: str
) -> CredentialsRecord:
    row = (
        await conn.execute(select(table.id, table.password_hash).where(table.email == email))
    ).one_or_none()
    if row is None:
        return CredentialsRecord(found=False, account=email)
    return CredentialsRecord(
        found=True, subject_id=row.id, password_hash=row.password_hash, account=email
    )


async def create_organizer(*, conn: AsyncConnection, email: str, password_hash: str) -> int:
    return await create_account(
        conn=conn, table=Organizer, email=email, password_hash=password_hash
    )


async def organizer_credentials(*, conn: AsyncConnection, email: str) -> CredentialsRecord:
    return await account_credentials(conn=conn, table=Organizer, email=email)
