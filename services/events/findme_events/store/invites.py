"""The invites table: single-use invite links. The token is shown once; only its
SHA-256 is stored, so a database leak does not leak usable links."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from findme_common.refusals import Reason, Refusal
from sqlalchemy import Select, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from findme_events.models import Invite

# 32 random bytes, URL-safe: unguessable, fits in a path segment.
TOKEN_BYTES = 32
MAX_TOKEN_LENGTH = 128


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite_not_found() -> Refusal:
    # Unknown, used and expired look the same: a link either works or it does not.
    return Refusal(Reason.INVITE_NOT_FOUND, "this invite link is not valid")


async def create_invite(
    *, conn: AsyncConnection, event_id: int, valid_for: float
) -> tuple[str, datetime]:
    token = new_token()
    expires_at = (
        await conn.execute(
            insert(Invite)
            .values(
                event_id=event_id,
                token_hash=token_hash(token),
                expires_at=func.now() + func.make_interval(0, 0, 0, 0, 0, 0, valid_for),
            )
            .returning(Invite.expires_at)
        )
    ).scalar_one()
    return token, expires_at


def usable_invite_query(token: str) -> Select[int, int]:
    return select(Invite.id, Invite.event_id).where(
        Invite.token_hash == token_hash(token),
        Invite.used_at.is_(None),
        Invite.expires_at > func.now(),
    )


async def usable_invite_event(*, conn: AsyncConnection, token: str) -> int | None:
    """The event of a usable invite, or None; consumes nothing."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    row = (await conn.execute(usable_invite_query(token))).one_or_none()
    return None if row is None else int(row.event_id)


async def consume_invite(*, conn: AsyncConnection, token: str) -> tuple[int, int]:
    """Mark the invite used; (invite id, event id). A concurrent use of the same
    token waits on the row lock, then finds it used."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise invite_not_found()
    row = (
        await conn.execute(
            update(Invite)
            .where(
                Invite.token_hash == token_hash(token),
                Invite.used_at.is_(None),
                Invite.expires_at > func.now(),
            )
            .values(used_at=func.now())
            .returning(Invite.id, Invite.event_id)
        )
    ).one_or_none()
    if row is None:
        raise invite_not_found()
    return int(row.id), int(row.event_id)


async def link_attendee(*, conn: AsyncConnection, invite_id: int, attendee_id: int) -> None:
    await conn.execute(update(Invite).where(Invite.id == invite_id).values(attendee_id=attendee_id))
