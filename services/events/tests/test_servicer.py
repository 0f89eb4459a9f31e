"""The events gRPC API end to end: a real server on loopback over real
PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import numpy as np
import pytest
from findme.events.v1 import events_pb2
from findme_common.refusals import reason_of as error_reason
from findme_events import codes
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

pytestmark = pytest.mark.usefixtures("events_server")


async def refused(call: Any) -> tuple[grpc.StatusCode, str | None]:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call  # type: ignore[misc]
    return info.value.code(), error_reason(info.value)


@pytest.fixture
def stub(events_server):  # type: ignore[no-untyped-def]
    return events_server.stub


@pytest.fixture
async def event(stub) -> events_pb2.Event:  # type: ignore[no-untyped-def]
    organizer = await stub.CreateOrganizer(
        events_pb2.CreateOrganizerRequest(email="Host@Example.com", password_hash="h")
    )
    return await stub.CreateEvent(
        events_pb2.CreateEventRequest(organizer_id=organizer.organizer_id, name="  Summer Gala ")
    )


async def test_organizer_accounts(stub) -> None:  # type: ignore[no-untyped-def]
    created = await stub.CreateOrganizer(
        events_pb2.CreateOrganizerRequest(email=" Ana@Example.COM ", password_hash="hash-1")
    )
    assert await refused(
        stub.CreateOrganizer(
            events_pb2.CreateOrganizerRequest(email="ana@example.com", password_hash="hash-2")
        )
    ) == (grpc.StatusCode.ALREADY_EXISTS, "email_taken")
    assert await refused(
        stub.CreateOrganizer(events_pb2.CreateOrganizerRequest(email="nope", password_hash="h"))
    ) == (grpc.StatusCode.INVALID_ARGUMENT, "invalid_email")

    credentials = await stub.GetOrganizerCredentials(
        events_pb2.GetOrganizerCredentialsRequest(email="ANA@example.com")
    )
    assert (credentials.found, credentials.subject_id, credentials.password_hash) == (
        True,
        created.organizer_id,
        "hash-1",
    )
    assert credentials.account == "ana@example.com"
    await stub.UpdateOrganizerPasswordHash(
        events_pb2.UpdatePasswordHashRequest(subject_id=created.organizer_id, password_hash="h2")
    )
    again = await stub.GetOrganizerCredentials(
        events_pb2.GetOrganizerCredentialsRequest(email="ana@example.com")
    )
    assert again.password_hash == "h2"
    missing = await stub.GetOrganizerCredentials(
        events_pb2.GetOrganizerCredentialsRequest(email="who@example.com")
    )
    assert (missing.found, missing.password_hash) == (False, "")


async def test_events_and_code_lookup(stub, event) -> None:  # type: ignore[no-untyped-def]
    assert event.name == "Summer Gala"
    assert len(event.code) == 8 and set(event.code) <= set(codes.ALPHABET)
    assert event.match_tolerance == pytest.approx(0.50)
    assert event.retention_days == 30

    typed = f"{event.code[:4].lower()}-{event.code[4:].lower()} "
    found = await stub.GetEventByCode(events_pb2.GetEventByCodeRequest(code=typed))
    assert found.found and found.event == event
    unknown = await stub.GetEventByCode(events_pb2.GetEventByCodeRequest(code="ZZZZZZZZ"))
    assert not unknown.found
    assert await refused(
        stub.GetEventByCode(events_pb2.GetEventByCodeRequest(code="O0O0O0O0"))
    ) == (grpc.StatusCode.INVALID_ARGUMENT, "invalid_event_code")
    assert await refused(
        stub.CreateEvent(events_pb2.CreateEventRequest(organizer_id=event.organizer_id, name=" "))
    ) == (grpc.StatusCode.INVALID_ARGUMENT, "invalid_event_name")
    assert await refused(
        stub.CreateEvent(events_pb2.CreateEventRequest(organizer_id=999999, name="x"))
    ) == (grpc.StatusCode.NOT_FOUND, "organizer_not_found")


async def test_availability(stub, event) -> None:  # type: ignore[no-untyped-def]
    def check(code: str, username: str) -> Any:
        return stub.CheckAvailability(
            events_pb2.CheckAvailabilityRequest(event_code=code, username=username)
        )

    assert not (await check(event.code, "alice")).username_taken
    await stub.CreateAttendee(
        events_pb2.CreateAttendeeRequest(event_code=event.code, username="Alice", password_hash="h")
    )
    assert (await check(event.code, "ALICE")).username_taken
    assert (await check(event.code.lower(), "Ａｌｉｃｅ")).username_taken  # noqa: RUF001
    assert not (await check(event.code, "bob")).username_taken
    assert await refused(check("ZZZZZZZZ", "alice")) == (
        grpc.StatusCode.NOT_FOUND,
        "event_not_found",
    )
    assert await refused(check(event.code, "a b")) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "invalid_username",
    )
    assert await refused(check("short", "alice")) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "invalid_event_code",
    )


async def test_username_variants_collide(stub, event) -> None:  # type: ignore[no-untyped-def]
    def create(username: str) -> Any:
        return stub.CreateAttendee(
            events_pb2.CreateAttendeeRequest(
                event_code=event.code, username=username, password_hash="h"
            )
        )

    attendee = await create("Alice")
    assert (attendee.event_id, attendee.username) == (event.id, "Alice")
    for variant in ("alice", "Ａｌｉｃｅ", " ALICE "):  # noqa: RUF001
        assert await refused(create(variant)) == (grpc.StatusCode.ALREADY_EXISTS, "username_taken")
    assert await refused(
        stub.CreateAttendee(
            events_pb2.CreateAttendeeRequest(
                event_code="ZZZZZZZZ", username="bob", password_hash="h"
            )
        )
    ) == (grpc.StatusCode.NOT_FOUND, "event_not_found")


async def test_racing_registrations_have_exactly_one_winner(stub, event) -> None:  # type: ignore[no-untyped-def]
    request = events_pb2.CreateAttendeeRequest(
        event_code=event.code, username="Racer", password_hash="h"
    )
    results = await asyncio.gather(
        *(stub.CreateAttendee(request) for _ in range(20)), return_exceptions=True
    )
    winners = [r for r in results if isinstance(r, events_pb2.Attendee)]
    losers = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(winners) == 1 and len(losers) == 19
    assert {(e.code(), error_reason(e)) for e in losers} == {
        (grpc.StatusCode.ALREADY_EXISTS, "username_taken")
    }


async def test_attendee_credentials(stub, event) -> None:  # type: ignore[no-untyped-def]
    attendee = await stub.CreateAttendee(
        events_pb2.CreateAttendeeRequest(event_code=event.code, username="Zoë", password_hash="h1")
    )

    def lookup(code: str, username: str) -> Any:
        return stub.GetAttendeeCredentials(
            events_pb2.GetAttendeeCredentialsRequest(event_code=code, username=username)
        )

    found = await lookup(event.code, "ZOË")
    assert (found.found, found.subject_id, found.event_id, found.password_hash, found.account) == (
        True,
        attendee.id,
        event.id,
        "h1",
        "zoë",
    )
    # Anything unusable is simply "not found": login must not reveal why.
    for code, username in (
        (event.code, "nobody"),
        (event.code, "x"),
        ("ZZZZZZZZ", "zoë"),
        ("bad", "zoë"),
    ):
        missing = await lookup(code, username)
        assert (missing.found, missing.password_hash, missing.subject_id) == (False, "", 0)
    await stub.UpdateAttendeePasswordHash(
        events_pb2.UpdatePasswordHashRequest(subject_id=attendee.id, password_hash="h2")
    )
    assert (await lookup(event.code, "zoë")).password_hash == "h2"
    assert await refused(
        stub.UpdateAttendeePasswordHash(
            events_pb2.UpdatePasswordHashRequest(subject_id=attendee.id + 99, password_hash="h")
        )
    ) == (grpc.StatusCode.NOT_FOUND, "attendee_not_found")


async def test_save_selfie_matches_event_photos(  # type: ignore[no-untyped-def]
    stub, event, engine: AsyncEngine
) -> None:
    rng = np.random.default_rng(3)
    me = rng.normal(size=128)
    me /= np.linalg.norm(me)
    near = me + 0.2 * np.eye(128)[0]
    far = me + 0.9 * np.eye(128)[1]
    async with engine.begin() as conn:
        for vector in (near, far):
            photo_id = (
                await conn.execute(
                    text(
                        "INSERT INTO photos (event_id, status, storage_key, content_hash) "
                        "VALUES (:e, 'done', 'k', md5(random()::text)) RETURNING id"
                    ),
                    {"e": event.id},
                )
            ).scalar_one()
            await conn.execute(
                text(
                    'INSERT INTO faces (photo_id, event_id, top, "right", bottom, "left", '
                    "encoding) VALUES (:p, :e, 0, 1, 1, 0, CAST(:v AS vector))"
                ),
                {"p": photo_id, "e": event.id, "v": str([float(x) for x in vector])},
            )
    attendee = await stub.CreateAttendee(
        events_pb2.CreateAttendeeRequest(
            event_code=event.code, username="snapper", password_hash="h"
        )
    )
    face = events_pb2.FaceBox(top=1, right=20, bottom=20, left=1)
    saved = await stub.SaveSelfie(
        events_pb2.SaveSelfieRequest(
            attendee_id=attendee.id, jpeg=b"\xff\xd8" + b"x" * 998, encoding=list(me), face=face
        )
    )
    assert (saved.matches, saved.stored_bytes) == (1, 1000)

    assert await refused(
        stub.SaveSelfie(
            events_pb2.SaveSelfieRequest(attendee_id=attendee.id, jpeg=b"j", encoding=[0.1] * 5)
        )
    ) == (grpc.StatusCode.INVALID_ARGUMENT, "invalid_encoding")
    assert await refused(
        stub.SaveSelfie(
            events_pb2.SaveSelfieRequest(attendee_id=424242, jpeg=b"j", encoding=list(me))
        )
    ) == (grpc.StatusCode.NOT_FOUND, "attendee_not_found")
    assert await refused(
        stub.SaveSelfie(
            events_pb2.SaveSelfieRequest(attendee_id=attendee.id, jpeg=b"", encoding=list(me))
        )
    ) == (grpc.StatusCode.INVALID_ARGUMENT, "invalid_selfie")


async def test_control_characters_are_refused_not_a_database_error(stub, event) -> None:  # type: ignore[no-untyped-def]
    # Found by schemathesis: a NUL byte reached PostgreSQL, which cannot store it.
    assert await refused(
        stub.CreateOrganizer(
            events_pb2.CreateOrganizerRequest(email="a\x00b@example.com", password_hash="h")
        )
    ) == (grpc.StatusCode.INVALID_ARGUMENT, "invalid_email")
    credentials = await stub.GetOrganizerCredentials(
        events_pb2.GetOrganizerCredentialsRequest(email="a\x00b@example.com")
    )
    assert (credentials.found, credentials.password_hash) == (False, "")
    assert await refused(
        stub.CreateEvent(
            events_pb2.CreateEventRequest(organizer_id=event.organizer_id, name="Gala\x00")
        )
    ) == (grpc.StatusCode.INVALID_ARGUMENT, "invalid_event_name")
    login = await stub.GetAttendeeCredentials(
        events_pb2.GetAttendeeCredentialsRequest(event_code=event.code, username="ann\x00")
    )
    assert login.found is False


async def test_suggestions_answers_and_missed_photos(  # type: ignore[no-untyped-def]
    stub, event, engine: AsyncEngine
) -> None:
    """Tolerance 0.50, maybe bound 0.55 (the defaults)."""
    rng = np.random.default_rng(5)
    me = rng.normal(size=128)
    me /= np.linalg.norm(me)
    vectors = {
        "sure": me + 0.2 * np.eye(128)[0],
        "maybe": me + 0.53 * np.eye(128)[1],
        "maybe_too": me + 0.53 * np.eye(128)[2],
        "far": me + 0.9 * np.eye(128)[3],
    }
    photo = {}
    async with engine.begin() as conn:
        for name, vector in vectors.items():
            photo[name] = (
                await conn.execute(
                    text(
                        "INSERT INTO photos (event_id, status, storage_key, content_hash) "
                        "VALUES (:e, 'done', 'k', :h) RETURNING id"
                    ),
                    {"e": event.id, "h": name},
                )
            ).scalar_one()
            await conn.execute(
                text(
                    'INSERT INTO faces (photo_id, event_id, top, "right", bottom, "left", '
                    "encoding) VALUES (:p, :e, 0, 1, 1, 0, CAST(:v AS vector))"
                ),
                {"p": photo[name], "e": event.id, "v": str([float(x) for x in vector])},
            )
    attendee = await stub.CreateAttendee(
        events_pb2.CreateAttendeeRequest(event_code=event.code, username="ann", password_hash="h")
    )
    face = events_pb2.FaceBox(top=1, right=20, bottom=20, left=1)
    selfie = events_pb2.SaveSelfieRequest(
        attendee_id=attendee.id, jpeg=b"j", encoding=list(me), face=face
    )
    saved = await stub.SaveSelfie(selfie)
    assert (saved.matches, saved.selfies) == (1, 1)

    first = await stub.ListSuggestions(
        events_pb2.ListSuggestionsRequest(attendee_id=attendee.id, limit=1)
    )
    second = await stub.ListSuggestions(
        events_pb2.ListSuggestionsRequest(
            attendee_id=attendee.id, cursor=first.next_cursor, limit=1
        )
    )
    offered = [item.photo_id for item in [*first.items, *second.items]]
    assert sorted(offered) == sorted([photo["maybe"], photo["maybe_too"]])
    assert second.next_cursor == ""
    assert first.items[0].distance == pytest.approx(0.53, abs=1e-4)
    assert first.items[0].suggested_at.endswith("+00:00")

    def answer(name: str, value: int) -> Any:
        return stub.AnswerSuggestion(
            events_pb2.AnswerSuggestionRequest(
                attendee_id=attendee.id, photo_id=photo[name], answer=value
            )
        )

    assert await refused(answer("maybe", events_pb2.ANSWER_UNSPECIFIED)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "invalid_answer",
    )
    assert await refused(answer("far", events_pb2.ANSWER_ME)) == (
        grpc.StatusCode.NOT_FOUND,
        "suggestion_not_found",
    )
    await answer("maybe", events_pb2.ANSWER_ME)
    mine = await stub.ListMyPhotos(events_pb2.ListMyPhotosRequest(attendee_id=attendee.id))
    assert {item.photo_id for item in mine.items} == {photo["sure"], photo["maybe"]}

    reject = events_pb2.RejectMatchRequest(attendee_id=attendee.id, photo_id=photo["sure"])
    await stub.RejectMatch(reject)
    assert await refused(stub.RejectMatch(reject)) == (
        grpc.StatusCode.NOT_FOUND,
        "photo_not_found",
    )
    mine = await stub.ListMyPhotos(events_pb2.ListMyPhotosRequest(attendee_id=attendee.id))
    assert [item.photo_id for item in mine.items] == [photo["maybe"]]

    selfie.add = True
    assert (await stub.SaveSelfie(selfie)).selfies == 2

    flag = events_pb2.MissedPhotoRef(attendee_id=attendee.id, photo_id=photo["far"])
    assert (await stub.FlagMissedPhoto(flag)).status == "pending"
    assert await stub.FlagMissedPhoto(flag) == await stub.GetMissedPhoto(flag)
    for missing in (photo["sure"], 424242):
        ref = events_pb2.MissedPhotoRef(attendee_id=attendee.id, photo_id=missing)
        assert await refused(stub.GetMissedPhoto(ref)) == (
            grpc.StatusCode.NOT_FOUND,
            "photo_not_found",
        )
    assert await refused(
        stub.FlagMissedPhoto(events_pb2.MissedPhotoRef(attendee_id=attendee.id, photo_id=424242))
    ) == (grpc.StatusCode.NOT_FOUND, "photo_not_found")

    stats = await stub.GetEventStats(
        events_pb2.EventRef(organizer_id=event.organizer_id, event_id=event.id)
    )
    assert (stats.matches, stats.suggestions, stats.missed_photos) == (1, 1, 1)
