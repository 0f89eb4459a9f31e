"""What organizer and attendee accounts share: a bcrypt hash that may be upgraded."""

from __future__ import annotations

from typing import Literal

from findme_common.refusals import Reason, Refusal
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from findme_events.models import Attendee, Organizer

Account = Literal["organizer", "attendee"]
_TABLES: dict[str, type[Organizer] | type[Attendee]] = {
    "organizer": Organizer,
    "attendee": Attendee,
}
_MISSING = {"organizer": Reason.ORGANIZER_NOT_FOUND, "attendee": Reason.ATTENDEE_NOT_FOUND}


async def update_password_hash(
    *, conn: AsyncConnection, account: Account, account_id: int, password_hash: str
) -> None:
    table = _TABLES[account]
    result = await conn.execute(
        update(table).where(table.id == account_id).values(password_hash=password_hash)
    )
    if result.rowcount == 0:
        raise Refusal(_MISSING[account], f"no such {account}")
