"""Organizer accounts: sign-up, the credentials a login checks, password rehash."""

from __future__ import annotations

from findme_events import validation
from findme_events.schemas import CredentialsRecord
from findme_events.store import organizers
from findme_events.usecases.resources import Resources


async def create_organizer(r: Resources, *, email: str, password_hash: str) -> int:
    email = validation.email(email)
    password_hash = validation.password_hash(password_hash)
    async with r.engine.begin() as conn:
        return await organizers.create_organizer(
            conn=conn, email=email, password_hash=password_hash
        )


async def organizer_credentials(r: Resources, *, email: str) -> CredentialsRecord:
    account = validation.normalize_email(email)
    if not account.isprintable():
        # No account can have it (sign-up refuses it), and PostgreSQL cannot hold NUL.
        return CredentialsRecord(found=False, account=account)
    async with r.engine.connect() as conn:
        return await organizers.organizer_credentials(conn=conn, email=account)
