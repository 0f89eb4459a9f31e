"""Attendees: is a name free, sign up with an event code, the credentials a login
checks, password rehash, and "delete my data"."""

from __future__ import annotations

import logging

from findme_common.refusals import Refusal

from findme_events import codes, matching, usernames, validation
from findme_events.schemas import AttendeeRecord, CredentialsRecord
from findme_events.store import attendees
from findme_events.usecases.events import existing_event
from findme_events.usecases.resources import Resources
from findme_events.usecases.selfies import lock_attendee_event

log = logging.getLogger(__name__)


async def username_taken(r: Resources, *, event_code: str, username: str) -> bool:
    event = await existing_event(r, code=event_code)
    key = usernames.normalize(username)
    async with r.engine.connect() as conn:
        return await attendees.username_taken(conn=conn, event_id=event.id, username_key=key)


async def create_attendee(
    r: Resources, *, event_code: str, username: str, password_hash: str
) -> AttendeeRecord:
    event = await existing_event(r, code=event_code)
    key = usernames.normalize(username)
    password_hash = validation.password_hash(password_hash)
    async with r.engine.begin() as conn:
        return await attendees.create_attendee(
            conn=conn,
            event_id=event.id,
            username=usernames.display_name(username),
            username_key=key,
            password_hash=password_hash,
        )


async def attendee_credentials(
    r: Resources, *, event_code: str, username: str
) -> CredentialsRecord:
    # Login answers "not found" for anything unusable, so it cannot reveal why.
    account = usernames.canonical(username)
    code = codes.try_normalize(event_code)
    event = None if code is None else await r.cache.get(code)
    if event is None:
        return CredentialsRecord(found=False, account=account)
    try:
        key = usernames.normalize(username)
    except Refusal:
        return CredentialsRecord(found=False, event_id=event.id, account=account)
    async with r.engine.connect() as conn:
        return await attendees.attendee_credentials(conn=conn, event_id=event.id, username_key=key)


async def delete_attendee(r: Resources, *, attendee_id: int) -> None:
    """The attendee row goes; selfies, references, matches, suggestions, answers and
    flags cascade. Faces they claimed go to whoever is next (one face, one person)."""
    async with r.engine.begin() as conn:
        try:
            _, bounds = await lock_attendee_event(conn, attendee_id)
        except Refusal:
            return  # deleted already: not an error
        async with matching.attendee_change(conn, attendee_id=attendee_id, bounds=bounds):
            deleted = await attendees.delete_attendee(conn=conn, attendee_id=attendee_id)
    if deleted:
        log.info("attendee deleted", extra={"attendee_id": attendee_id})
