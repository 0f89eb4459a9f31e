"""Invite use cases against real PostgreSQL: single use, all or nothing."""

from __future__ import annotations

import asyncio

import pytest
from findme_common.refusals import Refusal
from findme_events.schemas import AttendeeRecord
from findme_events.usecases import invites
from findme_events.usecases.resources import Resources

from ..support import BOX, new_attendee, new_event, unit


async def test_invites_are_single_use_and_all_or_nothing(
    resources: Resources, organizer_id: int
) -> None:
    event_id = await new_event(resources, organizer_id)
    await new_attendee(resources, event_id, "taken", None)
    token, _ = await invites.create_invite(resources, organizer_id=organizer_id, event_id=event_id)
    assert await invites.check_invite(resources, token=token, username="Taken") == (event_id, True)

    def register(name: str):  # type: ignore[no-untyped-def]
        return invites.register_with_invite(
            resources,
            token=token,
            username=name,
            password_hash="h",
            jpeg=b"j",
            encoding=unit(5),
            face=BOX,
        )

    with pytest.raises(Refusal, match=r"^username_taken:"):
        await register("taken")
    # The refused registration left the invite unused.
    assert (await invites.check_invite(resources, token=token, username="new"))[0] == event_id
    outcomes = await asyncio.gather(register("new"), register("newer"), return_exceptions=True)
    winners = [o for o in outcomes if isinstance(o, tuple)]
    losers = [o for o in outcomes if isinstance(o, Refusal)]
    assert len(winners) == 1 and isinstance(winners[0][0], AttendeeRecord)
    assert [loser.reason for loser in losers] == ["invite_not_found"]
    assert await invites.check_invite(resources, token=token, username="x") == (None, False)


async def test_an_expired_invite_and_a_bad_validity_are_refused(
    resources: Resources, organizer_id: int
) -> None:
    event_id = await new_event(resources, organizer_id)
    expired, _ = await invites.create_invite(
        resources, organizer_id=organizer_id, event_id=event_id, valid_for=0.001
    )
    await asyncio.sleep(0.05)
    with pytest.raises(Refusal, match=r"^invite_not_found:"):
        await invites.register_with_invite(
            resources,
            token=expired,
            username="late",
            password_hash="h",
            jpeg=b"j",
            encoding=unit(6),
            face=BOX,
        )
    with pytest.raises(Refusal, match=r"^invalid_validity:"):
        await invites.create_invite(
            resources, organizer_id=organizer_id, event_id=event_id, valid_for=-1
        )
    with pytest.raises(Refusal, match=r"^event_not_found:"):
        await invites.create_invite(resources, organizer_id=organizer_id + 1, event_id=event_id)
