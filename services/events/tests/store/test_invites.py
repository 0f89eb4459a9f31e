"""The invites table against real PostgreSQL: only hashes stored, single use."""

from __future__ import annotations

import pytest
from findme_common.refusals import Refusal
from findme_events.store import invites
from findme_events.usecases.resources import Resources
from sqlalchemy import text

from ..support import new_event


async def test_an_invite_is_stored_as_a_hash_and_used_once(
    resources: Resources, organizer_id: int
) -> None:
    event_id = await new_event(resources, organizer_id)
    async with resources.engine.begin() as conn:
        token, _ = await invites.create_invite(conn=conn, event_id=event_id, valid_for=60)
        stored = (await conn.execute(text("SELECT token_hash FROM invites"))).scalar_one()
        assert stored == invites.token_hash(token) and token not in stored
        assert await invites.usable_invite_event(conn=conn, token=token) == event_id
        assert await invites.usable_invite_event(conn=conn, token="x" * 200) is None
        _, used_for = await invites.consume_invite(conn=conn, token=token)
        assert used_for == event_id
        assert await invites.usable_invite_event(conn=conn, token=token) is None
        with pytest.raises(Refusal, match=r"^invite_not_found:"):
            await invites.consume_invite(conn=conn, token=token)
