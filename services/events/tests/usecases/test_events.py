"""Event use cases against real PostgreSQL: validation, defaults from settings,
the code cache kept right, and deletion of rows and blobs."""

from __future__ import annotations

import pytest
from findme_common.refusals import Refusal
from findme_events import codes
from findme_events.usecases import attendees, events, photos
from findme_events.usecases.resources import Resources

from ..support import claim, complete, near, new_attendee, new_event, unit


async def test_event_options_are_validated(resources: Resources, organizer_id: int) -> None:
    event = await events.create_event(
        resources,
        organizer_id=organizer_id,
        name="Gala",
        starts_on="2026-06-01",
        ends_on="2026-06-02",
        match_tolerance=0.5,
        retention_days=7,
    )
    assert (event.starts_on, event.ends_on, event.match_tolerance, event.retention_days) == (
        "2026-06-01",
        "2026-06-02",
        0.5,
        7,
    )
    for options, reason in (
        ({"match_tolerance": 5.0}, "invalid_match_tolerance"),
        ({"retention_days": 0}, "invalid_retention_days"),
        ({"starts_on": "June"}, "invalid_dates"),
        ({"starts_on": "2026-06-02", "ends_on": "2026-06-01"}, "invalid_dates"),
    ):
        with pytest.raises(Refusal) as refused:
            await new_event(resources, organizer_id, **options)
        assert refused.value.reason == reason
    with pytest.raises(Refusal, match="ends_on"):
        await events.update_event(
            resources, organizer_id=organizer_id, event_id=event.id, ends_on="2026-05-01"
        )
    with pytest.raises(Refusal, match=r"^event_not_found:"):  # someone else's looks missing
        await events.update_event(
            resources, organizer_id=organizer_id + 1, event_id=event.id, name="x"
        )


async def test_defaults_come_from_the_settings(resources: Resources, organizer_id: int) -> None:
    event = await events.create_event(resources, organizer_id=organizer_id, name="Plain")
    assert event.match_tolerance == resources.settings.default_match_tolerance == 0.55
    assert event.retention_days == resources.settings.default_retention_days


async def test_a_new_event_replaces_a_cached_absence(
    resources: Resources, organizer_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert await events.event_by_code(resources, code="qqqq-qqqq") is None
    monkeypatch.setattr(codes, "generate", lambda: "QQQQQQQQ")
    created = await events.create_event(resources, organizer_id=organizer_id, name="Late")
    assert await events.event_by_code(resources, code="qqqq-qqqq") == created
    renamed = await events.update_event(resources, event_id=created.id, name="Later")
    assert await events.event_by_code(resources, code="QQQQQQQQ") == renamed
    with pytest.raises(Refusal, match=r"^event_not_found:"):
        await events.existing_event(resources, code="ZZZZZZZZ")


async def test_deleting_removes_rows_and_blobs(resources: Resources, organizer_id: int) -> None:
    event_id = await new_event(resources, organizer_id)
    ann_id = await new_attendee(resources, event_id, "ann", unit(7))
    await photos.add_photos(
        resources, organizer_id=organizer_id, event_id=event_id, contents=[b"x"]
    )
    photo = await claim(resources.engine)
    assert photo is not None
    await complete(resources.engine, photo, [near(unit(7), 0.1)])
    stats = await events.event_stats(resources, organizer_id=organizer_id, event_id=event_id)
    assert stats.matches == 1

    await attendees.delete_attendee(resources, attendee_id=ann_id)
    stats = await events.event_stats(resources, organizer_id=organizer_id, event_id=event_id)
    assert (stats.attendees, stats.selfies, stats.matches, stats.faces) == (0, 0, 0, 1)
    await attendees.delete_attendee(resources, attendee_id=ann_id)  # twice is fine

    blob_dir = resources.settings.blob_dir / "events" / str(event_id)
    assert blob_dir.is_dir()
    with pytest.raises(Refusal, match=r"^event_not_found:"):
        await events.delete_event(resources, organizer_id=organizer_id + 1, event_id=event_id)
    code = (await events.owned_event(resources, organizer_id=organizer_id, event_id=event_id)).code
    await events.delete_event(resources, organizer_id=organizer_id, event_id=event_id)
    assert not blob_dir.exists()
    assert await events.event_by_code(resources, code=code) is None
    with pytest.raises(Refusal, match=r"^event_not_found:"):
        await events.progress(resources, organizer_id=organizer_id, event_id=event_id)
