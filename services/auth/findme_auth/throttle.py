"""Login throttling: failed attempts counted in Redis per account and per address.

Each attempt is charged *before* bcrypt runs and refunded when it succeeds (or was
never evaluated). Charging up front closes the race where a burst of parallel
guesses all pass the check before the first failure is recorded.

Per subject (an account within its scope, or a client address) two keys live in
Redis: a counter that expires ``window`` after the last attempt, and a lock. The
attempt that brings the counter to ``free`` sets a 2 s lock, the next one 4 s, and
so on, capped at ``max_lock``. A success resets the account; the address only gets
that one attempt back, so an attacker cannot clear it with an account of their own.

Redis being down must not stop logins: throttling is then skipped (one warning per
outage, ``findme_common.redis_guard``) and Redis retried after ``retry_after``.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from findme_common.redis_guard import RedisGuard, open_redis
from findme_common.refusals import Reason, Refusal
from redis.asyncio import Redis

KEY_PREFIX = "findme:auth:throttle"

# KEYS: (counter, lock) per subject. ARGV: window_ms, max_lock_ms, free attempts per subject.
# Returns 0 when the attempt was charged, else the milliseconds until it may be retried.
_CHARGE = """
local window = tonumber(ARGV[1])
local cap = tonumber(ARGV[2])
local wait = 0
for i = 1, #KEYS, 2 do
  local ttl = redis.call('PTTL', KEYS[i + 1])
  if ttl > wait then wait = ttl end
end
if wait > 0 then return wait end
for i = 1, #KEYS, 2 do
  local free = tonumber(ARGV[2 + (i + 1) / 2])
  local count = redis.call('INCR', KEYS[i])
  local lock = 0
  if count >= free then
    lock = math.floor(math.min(2 ^ math.min(count - free + 1, 40) * 1000, cap))
    redis.call('SET', KEYS[i + 1], '1', 'PX', lock)
  end
  redis.call('PEXPIRE', KEYS[i], math.max(window, lock))
end
return 0
"""

# KEYS: (counter, lock) per subject. ARGV per subject: "reset", or its free attempts to
# give one attempt back (dropping a lock that attempt alone caused).
_SETTLE = """
for i = 1, #KEYS, 2 do
  local mode = ARGV[(i + 1) / 2]
  if mode == 'reset' then
    redis.call('DEL', KEYS[i], KEYS[i + 1])
  elseif redis.call('EXISTS', KEYS[i]) == 1 then
    if redis.call('DECR', KEYS[i]) < tonumber(mode) then
      redis.call('DEL', KEYS[i + 1])
    end
  end
end
return 0
"""


@dataclass(frozen=True)
class ThrottleKey:
    scope: str
    account: str
    client_address: str = ""


@dataclass(frozen=True)
class ThrottlePolicy:
    account_free_attempts: int = 5
    address_free_attempts: int = 100
    window_seconds: int = 15 * 60
    max_lock_seconds: int = 15 * 60


@dataclass(frozen=True)
class _Subject:
    counter: str
    lock: str
    free: int
    is_account: bool


def _digest(*parts: str) -> str:
    # Hashed so Redis holds no usernames, e-mails or IP addresses, and so a ":" in a
    # name cannot make two different (scope, account) pairs collide.
    return hashlib.blake2b("\x00".join(parts).encode(), digest_size=16).hexdigest()


class LoginThrottle:
    def __init__(self, redis: Redis, policy: ThrottlePolicy, *, retry_after: float = 2.0):
        self._redis = redis
        self.policy = policy
        self.guard = RedisGuard("login throttling", retry_after=retry_after)
        self._charge = redis.register_script(_CHARGE)
        self._settle = redis.register_script(_SETTLE)

    @classmethod
    def from_url(
        cls, url: str, policy: ThrottlePolicy, *, timeout: float, retry_after: float
    ) -> LoginThrottle:
        return cls(open_redis(url, timeout=timeout), policy, retry_after=retry_after)

    def _subjects(self, key: ThrottleKey) -> list[_Subject]:
        subjects = []
        if key.account:
            name = f"{KEY_PREFIX}:account:{_digest(key.scope, key.account)}"
            subjects.append(
                _Subject(f"{name}:n", f"{name}:lock", self.policy.account_free_attempts, True)
            )
        if key.client_address:
            name = f"{KEY_PREFIX}:address:{_digest(key.client_address)}"
            subjects.append(
                _Subject(f"{name}:n", f"{name}:lock", self.policy.address_free_attempts, False)
            )
        return subjects

    async def charge(self, key: ThrottleKey) -> bool:
        """Count one attempt; ``Refusal(too_many_attempts)`` when a lock is running.

        Returns False when nothing was charged (no subject, or Redis unavailable).
        """
        subjects = self._subjects(key)
        if not subjects:
            return False
        keys = [name for s in subjects for name in (s.counter, s.lock)]
        args = [
            self.policy.window_seconds * 1000,
            self.policy.max_lock_seconds * 1000,
            *(s.free for s in subjects),
        ]
        wait_ms = await self.guard.run(lambda: self._charge(keys=keys, args=args), None)
        if wait_ms is None:
            return False
        if int(wait_ms) > 0:
            raise Refusal(
                Reason.TOO_MANY_ATTEMPTS,
                "too many failed attempts; retry later",
                math.ceil(int(wait_ms) / 1000),
            )
        return True

    async def succeeded(self, key: ThrottleKey) -> None:
        """The charged attempt was right: reset the account, refund the address."""
        await self._settle_subjects(key, reset_account=True)

    async def refund(self, key: ThrottleKey) -> None:
        """The charged attempt was never evaluated (e.g. overloaded): give it back."""
        await self._settle_subjects(key, reset_account=False)

    async def _settle_subjects(self, key: ThrottleKey, *, reset_account: bool) -> None:
        subjects = self._subjects(key)
        if not subjects:
            return
        keys = [name for s in subjects for name in (s.counter, s.lock)]
        args = ["reset" if s.is_account and reset_account else str(s.free) for s in subjects]
        await self.guard.run(lambda: self._settle(keys=keys, args=args), None)

    async def ping(self) -> bool:
        return await self.guard.probe(self._redis.ping)

    async def close(self) -> None:
        await self._redis.aclose()
