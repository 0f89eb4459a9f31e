"""What organizer and attendee accounts share: saving an upgraded password hash
(auth rehashes when a stored cost is below policy)."""

from __future__ import annotations

from findme_events import validation
from findme_events.store import accounts
from findme_events.store.accounts import Account
from findme_events.usecases.resources import Resources


async def update_password_hash(
    r: Resources, *, account: Account, account_id: int, password_hash: str
) -> None:
    password_hash = validation.password_hash(password_hash)
    async with r.engine.begin() as conn:
        await accounts.update_password_hash(
            conn=conn, account=account, account_id=account_id, password_hash=password_hash
        )
