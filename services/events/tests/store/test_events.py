"""The events table against a real, migrated PostgreSQL database."""

from __future__ import annotations

from datetime import date

import pytest
from findme_common.refusals import Refusal
from findme_events import codes
from findme_events.store import events
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ..support import store_event


async def test_events_get_distinct_well_formed_codes(
    engine: AsyncEngine, organizer_id: int
) -> None:
    async with engine.begin() as conn:
        made = [
            await events.create_event(
                conn=conn,
                organizer_id=organizer_id,
                name=f"e{i}",
                match_tolerance=0.6,
                retention_days=30,
            )
            for i in range(200)
        ]
    assert len({event.code for event in made}) == 200
    assert all(codes.normalize(event.code) == event.code for event in made)
    async with engine.connect() as conn:
        found = await events.event_by_code(conn=conn, code=made[7].code)
    assert found == made[7]


async def test_code_collision_is_retried(
    engine: AsyncEngine, organizer_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    await store_event(engine, organizer_id)
    async with engine.connect() as conn:
        taken = (await conn.execute(text("SELECT code FROM events"))).scalar_one()
    candidates = iter([taken, taken, "ABCDEFGH"])
    monkeypatch.setattr(codes, "generate", lambda: next(candidates))
    async with engine.begin() as conn:
        event = await events.create_event(
            conn=conn, organizer_id=organizer_id, name="n", match_tolerance=0.6, retention_days=1
        )
    assert event.code == "ABCDEFGH"


async def test_event_of_unknown_organizer_is_refused(engine: AsyncEngine) -> None:
    with pytest.raises(Refusal) as refused:
        await store_event(engine, 424242)
    assert refused.value.reason == "organizer_not_found"


async def test_update_checks_the_owner_and_the_stored_dates(
    engine: AsyncEngine, organizer_id: int
) -> None:
    event_id = await store_event(engine, organizer_id)
    async with engine.begin() as conn:
        changed = await events.update_event(
            conn=conn, event_id=event_id, organizer_id=organizer_id, starts_on=date(2026, 6, 1)
        )
    assert changed.starts_on == "2026-06-01"
    # Ending before the stored start is refused by the table's own check.
    with pytest.raises(Refusal, match=r"^invalid_dates:"):
        async with engine.begin() as conn:
            await events.update_event(conn=conn, event_id=event_id, ends_on=date(2026, 5, 1))
    with pytest.raises(Refusal, match=r"^event_not_found:"):
        async with engine.begin() as conn:
            await events.update_event(
                conn=conn, event_id=event_id, organizer_id=organizer_id + 1, name="x"
            )
    async with engine.begin() as conn:  # nothing to change still answers with the event
        same = await events.update_event(conn=conn, event_id=event_id)
    assert same == changed


async def test_an_organizer_sees_and_deletes_only_their_own_events(
    engine: AsyncEngine, organizer_id: int
) -> None:
    first, second = await store_event(engine, organizer_id), await store_event(engine, organizer_id)
    async with engine.connect() as conn:
        listed = await events.list_events(conn=conn, organizer_id=organizer_id)
        assert [e.id for e in listed] == [second, first]  # newest first
        assert await events.list_events(conn=conn, organizer_id=organizer_id + 1) == []
    with pytest.raises(Refusal, match=r"^event_not_found:"):
        async with engine.begin() as conn:
            await events.delete_event(conn=conn, organizer_id=organizer_id + 1, event_id=first)
    async with engine.begin() as conn:
        deleted = await events.delete_event(conn=conn, organizer_id=organizer_id, event_id=first)
    assert deleted.id == first
    async with engine.connect() as conn:
        with pytest.raises(Refusal, match=r"^event_not_found:"):
            await events.owned_event(conn=conn, organizer_id=organizer_id, event_id=first)
        stats = await events.event_stats(conn=conn, event_id=second)
    assert (stats.attendees, stats.selfies, stats.faces, stats.matches) == (0, 0, 0, 0)
    assert stats.photos.pending == 0
