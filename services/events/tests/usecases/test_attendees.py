"""Attendee and organizer account use cases against real PostgreSQL: names and
emails normalised, unusable input answered as "not found" at login."""

from __future__ import annotations

import pytest
from findme_common.refusals import Refusal
from findme_events.usecases import attendees, events, organizers
from findme_events.usecases.resources import Resources


async def test_sign_up_and_login_lookups(resources: Resources, organizer_id: int) -> None:
    event = await events.create_event(resources, organizer_id=organizer_id, name="Gala")
    created = await attendees.create_attendee(
        resources, event_code=event.code.lower(), username=" Zoë ", password_hash="h1"
    )
    assert (created.event_id, created.username) == (event.id, "Zoë")
    assert await attendees.username_taken(resources, event_code=event.code, username="ZOË")
    found = await attendees.attendee_credentials(resources, event_code=event.code, username="zoë")
    assert (found.found, found.subject_id, found.password_hash) == (True, created.id, "h1")
    for code, name in (
        (event.code, "x"),
        ("ZZZZZZZZ", "zoë"),
        ("bad", "zoë"),
        (event.code, "a\x00"),
    ):
        missing = await attendees.attendee_credentials(resources, event_code=code, username=name)
        assert (missing.found, missing.password_hash) == (False, "")
    with pytest.raises(Refusal, match=r"^invalid_password_hash:"):
        await attendees.create_attendee(
            resources, event_code=event.code, username="bob", password_hash=""
        )
    with pytest.raises(Refusal, match=r"^event_not_found:"):
        await attendees.username_taken(resources, event_code="ZZZZZZZZ", username="bob")


async def test_organizer_emails_are_normalised_and_checked(resources: Resources) -> None:
    organizer_id = await organizers.create_organizer(
        resources, email=" Ana@Example.COM ", password_hash="h"
    )
    found = await organizers.organizer_credentials(resources, email="ana@example.com")
    assert (found.found, found.subject_id, found.account) == (True, organizer_id, "ana@example.com")
    nul = await organizers.organizer_credentials(resources, email="a\x00b@example.com")
    assert nul.found is False
    for email in ("nope", "a b@example.com", "a\x00b@example.com"):
        with pytest.raises(Refusal, match=r"^invalid_email:"):
            await organizers.create_organizer(resources, email=email, password_hash="h")
