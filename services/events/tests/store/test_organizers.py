"""The organizers table against a real, migrated PostgreSQL database."""

from __future__ import annotations

import pytest
from findme_common.refusals import Refusal
from findme_events.store import accounts, organizers
from sqlalchemy.ext.asyncio import AsyncEngine


async def test_second_organizer_with_the_same_email_is_refused(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        first = await organizers.create_organizer(conn=conn, email="a@b.io", password_hash="h1")
    with pytest.raises(Refusal) as refused:
        async with engine.begin() as conn:
            await organizers.create_organizer(conn=conn, email="a@b.io", password_hash="h2")
    assert refused.value.reason == "email_taken"
    async with engine.connect() as conn:
        credentials = await organizers.organizer_credentials(conn=conn, email="a@b.io")
        missing = await organizers.organizer_credentials(conn=conn, email="x@b.io")
    assert (credentials.found, credentials.subject_id, credentials.password_hash) == (
        True,
        first,
        "h1",
    )
    assert (missing.found, missing.password_hash) == (False, "")


async def test_password_hash_updates(engine: AsyncEngine, organizer_id: int) -> None:
    async with engine.begin() as conn:
        await accounts.update_password_hash(
            conn=conn, account="organizer", account_id=organizer_id, password_hash="new-o"
        )
    async with engine.connect() as conn:
        organizer = await organizers.organizer_credentials(conn=conn, email="o@example.com")
    assert organizer.password_hash == "new-o"
    with pytest.raises(Refusal, match=r"^organizer_not_found:"):
        async with engine.begin() as conn:
            await accounts.update_password_hash(
                conn=conn, account="organizer", account_id=organizer_id + 100, password_hash="x"
            )
