"""Accounts that log in with an email: organizer sign-up, the credentials a login
checks (organizers and operators), and operators created by the admin CLI."""

from __future__ import annotations

from findme_events import validation
from findme_events.models import Operator, Organizer
from findme_events.schemas import CredentialsRecord
from findme_events.store import organizers
from findme_events.store.organizers import EmailAccount
from findme_events.usecases.resources import Resources


async def create_account(
    r: Resources, *, table: EmailAccount, email: str, password_hash: str
) -> int:
    email = validation.email(email)
    password_hash = validation.password_hash(password_hash)
    async with r.engine.begin() as conn:
        return await organizers.create_account(
            conn=conn, table=table, email=email, password_hash=password_hash
        )


async def create_organizer(r: Resources, *, email: str, password_hash: str) -> int:
    return await create_account(r, table=Organizer, email=email, password_hash=password_hash)


async def create_operator(r: Resources, *, email: str, password_hash: str) -> int:
    return await create_account(r, table=Operator, email=email, password_hash=password_hash)


async def _credentials(r: Resources, table: EmailAccount, email: str) -> CredentialsRecord:
    account = validation.normalize_email(email)
    if not account.isprintable():
        # No account can have it (sign-up refuses it), and PostgreSQL cannot hold NUL.
        return CredentialsRecord(found=False, account=account)
    async with r.engine.connect() as conn:
        return await organizers.account_credentials(conn=conn, table=table, email=account)


async def organizer_credentials(r: Resources, *, email: str) -> CredentialsRecord:
    return await _credentials(r, Organizer, email)


async def operator_credentials(r: Resources, *, email: str) -> CredentialsRecord:
    return await _credentials(r, Operator, email)
