"""The attendees table against a real, migrated PostgreSQL database."""

from __future__ import annotations

import pytest
from findme_common.refusals import Refusal
from findme_events.store import accounts, attendees
from sqlalchemy.ext.asyncio import AsyncEngine

from ..support import store_event


async def make_attendee(engine: AsyncEngine, event_id: int, name: str = "alice") -> int:
    async with engine.begin() as conn:
        attendee = await attendees.create_attendee(
            conn=conn, event_id=event_id, username=name, username_key=name, password_hash="h"
        )
    return attendee.id


async def test_attendee_username_is_unique_per_event(
    engine: AsyncEngine, organizer_id: int
) -> None:
    first_event = await store_event(engine, organizer_id)
    second_event = await store_event(engine, organizer_id)
    await make_attendee(engine, first_event)
    with pytest.raises(Refusal) as refused:
        await make_attendee(engine, first_event)
    assert refused.value.reason == "username_taken"
    # The same name in another event is a different account.
    await make_attendee(engine, second_event)
    async with engine.connect() as conn:
        assert await attendees.username_taken(conn=conn, event_id=first_event, username_key="alice")
        assert not await attendees.username_taken(
            conn=conn, event_id=first_event, username_key="bob"
        )


async def test_attendee_of_a_vanished_event_is_event_not_found(engine: AsyncEngine) -> None:
    with pytest.raises(Refusal) as refused:
        await make_attendee(engine, 987654)
    assert refused.value.reason == "event_not_found"


async def test_credentials_and_password_hash_updates(
    engine: AsyncEngine, organizer_id: int
) -> None:
    event_id = await store_event(engine, organizer_id)
    attendee_id = await make_attendee(engine, event_id)
    async with engine.begin() as conn:
        await accounts.update_password_hash(
            conn=conn, account="attendee", account_id=attendee_id, password_hash="new"
        )
    async with engine.connect() as conn:
        found = await attendees.attendee_credentials(
            conn=conn, event_id=event_id, username_key="alice"
        )
        missing = await attendees.attendee_credentials(
            conn=conn, event_id=event_id, username_key="bob"
        )
    assert (found.found, found.subject_id, found.password_hash, found.account) == (
        True,
        attendee_id,
        "new",
        "alice",
    )
    assert (missing.found, missing.event_id, missing.password_hash) == (False, event_id, "")
    with pytest.raises(Refusal, match=r"^attendee_not_found:"):
        async with engine.begin() as conn:
            await accounts.update_password_hash(
                conn=conn, account="attendee", account_id=attendee_id + 100, password_hash="x"
            )


async def test_deleting_twice_is_not_an_error(engine: AsyncEngine, organizer_id: int) -> None:
    attendee_id = await make_attendee(engine, await store_event(engine, organizer_id))
    async with engine.begin() as conn:
        assert await attendees.delete_attendee(conn=conn, attendee_id=attendee_id) is True
        assert await attendees.delete_attendee(conn=conn, attendee_id=attendee_id) is False
