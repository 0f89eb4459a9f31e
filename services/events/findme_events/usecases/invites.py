"""Invite links: create one for an event, check it before the gateway pays for a
hash, and register through it with a selfie in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from findme_events import usernames, validation
from findme_events.schemas import AttendeeRecord, FaceBox
from findme_events.store import attendees, events, invites
from findme_events.usecases.resources import Resources
from findme_events.usecases.selfies import store_and_match


async def create_invite(
    r: Resources, *, organizer_id: int, event_id: int, valid_for: float = 0
) -> tuple[str, datetime]:
    seconds = validation.invite_validity(valid_for, default=r.settings.invite_ttl)
    async with r.engine.begin() as conn:
        await events.owned_event(conn=conn, organizer_id=organizer_id, event_id=event_id)
        return await invites.create_invite(conn=conn, event_id=event_id, valid_for=seconds)


async def check_invite(r: Resources, *, token: str, username: str) -> tuple[int | None, bool]:
    """(event id or None when the invite is unusable, whether the name is taken)."""
    async with r.engine.connect() as conn:
        event_id = await invites.usable_invite_event(conn=conn, token=token)
        if event_id is None:
            return None, False
        key = usernames.normalize(username)
        taken = await attendees.username_taken(conn=conn, event_id=event_id, username_key=key)
        return event_id, taken


async def register_with_invite(
    r: Resources,
    *,
    token: str,
    username: str,
    password_hash: str,
    jpeg: bytes,
    encoding: Sequence[float],
    face: FaceBox,
) -> tuple[AttendeeRecord, int]:
    """Consume the invite, create the attendee, store the selfie and its matches,
    all or nothing: a taken username leaves the invite unused."""
    key = usernames.normalize(username)
    password_hash = validation.password_hash(password_hash)
    jpeg = validation.selfie_jpeg(jpeg, max_bytes=r.settings.max_selfie_bytes)
    vector = validation.encoding(encoding)
    async with r.engine.begin() as conn:
        invite_id, event_id = await invites.consume_invite(conn=conn, token=token)
        attendee = await attendees.create_attendee(
            conn=conn,
            event_id=event_id,
            username=usernames.display_name(username),
            username_key=key,
            password_hash=password_hash,
        )
        await invites.link_attendee(conn=conn, invite_id=invite_id, attendee_id=attendee.id)
        saved = await store_and_match(
            conn,
            attendee_id=attendee.id,
            jpeg=jpeg,
            encoding=vector,
            face=face,
            max_selfies=r.settings.max_selfies,
        )
    return attendee, saved.matches
