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
outage) and retried after ``retry_seconds``.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from findme_auth.errors import TooManyAttempts

log = logging.getLogger(__name__)

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
    def __init__(self, redis: Redis, policy: ThrottlePolicy, *, retry_seconds: float = 5.0):
        self._redis = redis
        self.policy = policy
        self._retry_seconds = retry_seconds
        self._charge = redis.register_script(_CHARGE)
        self._settle = redis.register_script(_SETTLE)
        self._down_until: float | None = None

    @classmethod
    def from_url(
        cls, url: str, policy: ThrottlePolicy, *, timeout: float, retry_seconds: float
    ) -> LoginThrottle:
        # No client-side retries: a slow or absent Redis must cost one short timeout.
        redis = Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
        )
        return cls(redis, policy, retry_seconds=retry_seconds)

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
        """Count one attempt; raise TooManyAttempts when a lock is running.

        Returns False when nothing was charged (no subject, or Redis unavailable).
        """
        subjects = self._subjects(key)
        if not subjects or not self._available():
            return False
        keys = [name for s in subjects for name in (s.counter, s.lock)]
        args = [
            self.policy.window_seconds * 1000,
            self.policy.max_lock_seconds * 1000,
            *(s.free for s in subjects),
        ]
        try:
            wait_ms = int(await self._charge(keys=keys, args=args))
        except (RedisError, OSError) as exc:
            self._mark_down(exc)
            return False
        self._mark_up()
        if wait_ms > 0:
            raise TooManyAttempts(retry_after=math.ceil(wait_ms / 1000))
        return True

    async def succeeded(self, key: ThrottleKey) -> None:
        """The charged attempt was right: reset the account, refund the address."""
        await self._settle_subjects(key, reset_account=True)

    async def refund(self, key: ThrottleKey) -> None:
        """The charged attempt was never evaluated (e.g. overloaded): give it back."""
        await self._settle_subjects(key, reset_account=False)

    async def _settle_subjects(self, key: ThrottleKey, *, reset_account: bool) -> None:
        subjects = self._subjects(key)
        if not subjects or not self._available():
            return
        keys = [name for s in subjects for name in (s.counter, s.lock)]
        args = ["reset" if s.is_account and reset_account else str(s.free) for s in subjects]
        try:
            await self._settle(keys=keys, args=args)
        except (RedisError, OSError) as exc:
            self._mark_down(exc)
            return
        self._mark_up()

    async def ping(self) -> bool:
        try:
            await self._redis.ping()
        except (RedisError, OSError) as exc:
            self._mark_down(exc)
            return False
        self._mark_up()
        return True

    async def close(self) -> None:
        await self._redis.aclose()

    def _available(self) -> bool:
        return self._down_until is None or time.monotonic() >= self._down_until

    def _mark_down(self, exc: BaseException) -> None:
        if self._down_until is None:
            log.warning(
                "redis unavailable: login throttling skipped until it is back",
                extra={"error": f"{type(exc).__name__}: {exc}"},
            )
        self._down_until = time.monotonic() + self._retry_seconds

    def _mark_up(self) -> None:
        if self._down_until is not None:
            log.info("redis is back: login throttling resumed")
            self._down_until = None
