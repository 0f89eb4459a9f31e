"""Password hashing and checking: policy, the bcrypt pool and throttling together."""

from __future__ import annotations

from findme_common.refusals import Refusal

from findme_auth.passwords import PasswordHasher, Verification, check_new_password
from findme_auth.pool import BcryptPool
from findme_auth.throttle import LoginThrottle, ThrottleKey


class Credentials:
    def __init__(
        self, *, hasher: PasswordHasher, pool: BcryptPool, throttle: LoginThrottle | None
    ) -> None:
        self._hasher = hasher
        self._pool = pool
        self._throttle = throttle

    async def hash_password(self, password: str) -> str:
        # Refuse bad input here, not on a bcrypt thread: it costs no queue slot.
        check_new_password(password)
        return await self._pool.run(self._hasher.hash, password)

    async def verify_password(
        self, password: str, stored_hash: str, throttle_key: ThrottleKey | None = None
    ) -> Verification:
        """Check ``password``; an empty ``stored_hash`` means the account does not exist.

        With a throttle key the lock is checked (and the attempt charged) before any
        bcrypt time is spent.
        """
        if throttle_key is None or self._throttle is None:
            return await self._pool.run(self._hasher.verify, password, stored_hash)
        throttle = self._throttle
        charge = await throttle.charge(throttle_key)
        try:
            result = await self._pool.run(self._hasher.verify, password, stored_hash)
        except Refusal:
            # Overloaded, or a stored hash that is not bcrypt: the password was never
            # judged, so the attempt is given back.
            if charge is not None:
                await throttle.refund(charge)
            raise
        if charge is not None and result.valid:
            await throttle.succeeded(charge)
        return result
