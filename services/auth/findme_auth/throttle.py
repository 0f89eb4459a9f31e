"""Login throttling that a venue cannot trip by typos and an attacker cannot turn
against a person.

Failed attempts are counted for three subjects, each a leaky bucket: its level
rises by one per attempt and drains continuously at ``free / window`` (a true
sliding window: old failures stop counting, however often someone retries).

- **pair** (account, address): ``pair_free`` failures (5), then that address is
  locked out of that account for 2 s, 4 s, 8 s ... up to ``max_lock``. A success
  from the address clears its pair.
- **account** (across addresses): past ``account_free`` (10) the account is under
  attack, and every address that has failed for it recently (its pair level above
  zero) waits until the account's level drains. An address that has not been
  failing for the account may still try: the owner's right password works while
  strangers guess, and a lock can only be earned, never imposed on someone else.
- **address** (across accounts): past ``address_free`` (300) failures in a window,
  the address waits one drain step per attempt. High, because a venue shares one
  NAT address: a hundred typos there leave everyone else's logins alone.

Each attempt is charged *before* bcrypt runs and given back when it succeeds or was
never evaluated, so a parallel burst gets no more guesses than the allowance; a
success gives the account and address their attempt back and clears the pair.

The counters live in Redis (one Lua script per attempt, Redis's clock). While Redis
is down, each instance counts in its own memory instead (``MemoryCounters``, the
same rules; logged once per outage by ``findme_common.redis_guard`` and counted in
``stats["memory"]``), so throttling never switches off.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from findme_common.redis_guard import RedisGuard, open_redis
from findme_common.refusals import Reason, Refusal
from redis.asyncio import Redis

log = logging.getLogger(__name__)

KEY_PREFIX: Final = "findme:auth:throttle"
CHARGE, SUCCESS, REFUND = "charge", "success", "refund"

# KEYS: pair, account, address (hashes: l = level, t = ms of l, u = lock until ms).
# ARGV: mode, has_account, has_address, pair_free, account_free, address_free,
#       window_ms, max_lock_ms.
# A subject is full once its level exceeds free - 0.5 (half an attempt of slack for
# the drain between attempts). Charge returns 0, or the ms to wait before retrying.
_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local mode = ARGV[1]
local has_account, has_address = ARGV[2] == '1', ARGV[3] == '1'
local pair_free, account_free = tonumber(ARGV[4]), tonumber(ARGV[5])
local address_free = tonumber(ARGV[6])
local window, cap = tonumber(ARGV[7]), tonumber(ARGV[8])

local function load(key, free)
  local v = redis.call('HMGET', key, 'l', 't', 'u')
  local level = tonumber(v[1]) or 0
  local at = tonumber(v[2]) or now
  return math.max(0, level - (now - at) * free / window), tonumber(v[3]) or 0
end
local function save(key, free, level, lock)
  level = math.max(0, level)
  if level <= 0 and lock <= now then
    redis.call('DEL', key)
    return
  end
  redis.call('HSET', key, 'l', tostring(level), 't', now, 'u', lock)
  redis.call('PEXPIRE', key, math.max(math.ceil(level * window / free), lock - now) + 1000)
end
local function drain_ms(level, free)
  return (level - (free - 0.5)) * window / free
end

local pl, plock, al, dl = 0, 0, 0, 0
if has_account then
  pl, plock = load(KEYS[1], pair_free)
  al = load(KEYS[2], account_free)
end
if has_address then dl = load(KEYS[3], address_free) end

if mode == 'charge' then
  local wait = 0
  if plock > now then wait = plock - now end
  if pl > 0 and al > account_free - 0.5 then wait = math.max(wait, drain_ms(al, account_free)) end
  if dl > address_free - 0.5 then wait = math.max(wait, drain_ms(dl, address_free)) end
  if wait > 0 then return math.max(1, math.ceil(wait)) end
  pl, al, dl = pl + 1, al + 1, dl + 1
  if pl > pair_free - 0.5 then
    local step = math.min(math.floor(pl - pair_free + 0.5) + 1, 40)
    plock = now + math.min(2 ^ step * 1000, cap)
  end
elseif mode == 'success' then
  pl, plock, al, dl = 0, 0, al - 1, dl - 1
else
  pl, al, dl = pl - 1, al - 1, dl - 1
  if pl <= pair_free - 0.5 then plock = 0 end
end
if has_account then
  save(KEYS[1], pair_free, pl, plock)
  save(KEYS[2], account_free, al, 0)
end
if has_address then save(KEYS[3], address_free, dl, 0) end
return 0
"""


@dataclass(frozen=True)
class ThrottleKey:
    scope: str
    account: str
    client_address: str = ""


@dataclass(frozen=True)
class ThrottlePolicy:
    pair_free_attempts: int = 5
    account_free_attempts: int = 10
    address_free_attempts: int = 300
    window_seconds: int = 15 * 60
    max_lock_seconds: int = 15 * 60


@dataclass(frozen=True)
class Charge:
    """One charged attempt, to be settled by ``succeeded`` or ``refund``."""

    key: ThrottleKey
    in_memory: bool


def _digest(*parts: str) -> str:
    # Hashed so Redis holds no usernames, e-mails or IP addresses, and so a ":" in a
    # name cannot make two different (scope, account) pairs collide.
    return hashlib.blake2b("\x00".join(parts).encode(), digest_size=16).hexdigest()


def subject_keys(key: ThrottleKey) -> tuple[str, str, str]:
    """The pair, account and address subjects of ``key``."""
    return (
        f"{KEY_PREFIX}:pair:{_digest(key.scope, key.account, key.client_address)}",
        f"{KEY_PREFIX}:account:{_digest(key.scope, key.account)}",
        f"{KEY_PREFIX}:address:{_digest(key.client_address)}",
    )


@dataclass
class _Bucket:
    level: float = 0.0
    at: float = 0.0
    lock_until: float = 0.0


@dataclass
class MemoryCounters:
    """The same rules as the Lua script, in this process's memory: the fallback
    while Redis is down. Holds at most ``max_subjects`` (least recently used go)."""

    policy: ThrottlePolicy
    clock: Callable[[], float] = time.monotonic
    max_subjects: int = 100_000
    _buckets: OrderedDict[str, _Bucket] = field(default_factory=OrderedDict)

    def _load(self, name: str, free: int, now: float) -> _Bucket:
        bucket = self._buckets.pop(name, None) or _Bucket(at=now)
        drained = (now - bucket.at) * free / self.policy.window_seconds
        self._buckets[name] = bucket
        bucket.level, bucket.at = max(0.0, bucket.level - drained), now
        while len(self._buckets) > self.max_subjects:
            self._buckets.popitem(last=False)
        return bucket

    def _drain_seconds(self, level: float, free: int) -> float:
        return (level - (free - 0.5)) * self.policy.window_seconds / free

    def apply(self, mode: str, key: ThrottleKey) -> float:
        """Like the script: seconds to wait (charge refused), else 0."""
        policy, now = self.policy, self.clock()
        pair_name, account_name, address_name = subject_keys(key)
        has_account, has_address = bool(key.account), bool(key.client_address)
        pair = self._load(pair_name, policy.pair_free_attempts, now) if has_account else _Bucket()
        account = (
            self._load(account_name, policy.account_free_attempts, now)
            if has_account
            else _Bucket()
        )
        address = (
            self._load(address_name, policy.address_free_attempts, now)
            if has_address
            else _Bucket()
        )
        if mode == CHARGE:
            wait = max(0.0, pair.lock_until - now)
            if pair.level > 0 and account.level > policy.account_free_attempts - 0.5:
                wait = max(wait, self._drain_seconds(account.level, policy.account_free_attempts))
            if address.level > policy.address_free_attempts - 0.5:
                wait = max(wait, self._drain_seconds(address.level, policy.address_free_attempts))
            if wait > 0:
                return wait
            pair.level, account.level, address.level = (
                pair.level + 1,
                account.level + 1,
                address.level + 1,
            )
            if pair.level > policy.pair_free_attempts - 0.5:
                step = min(math.floor(pair.level - policy.pair_free_attempts + 0.5) + 1, 40)
                pair.lock_until = now + min(2.0**step, policy.max_lock_seconds)
            return 0.0
        account.level, address.level = max(0.0, account.level - 1), max(0.0, address.level - 1)
        if mode == SUCCESS:
            pair.level, pair.lock_until = 0.0, 0.0
        else:
            pair.level = max(0.0, pair.level - 1)
            if pair.level <= policy.pair_free_attempts - 0.5:
                pair.lock_until = 0.0
        return 0.0


class LoginThrottle:
    def __init__(self, redis: Redis, policy: ThrottlePolicy, *, retry_after: float = 2.0):
        self._redis = redis
        self.policy = policy
        self.guard = RedisGuard("login throttling", retry_after=retry_after)
        self.memory = MemoryCounters(policy)
        # "memory": attempts counted in this process because Redis was unavailable.
        self.stats: Counter[str] = Counter()
        self._counting_in_memory = False
        self._script = redis.register_script(_SCRIPT)

    @classmethod
    def from_url(
        cls, url: str, policy: ThrottlePolicy, *, timeout: float, retry_after: float
    ) -> LoginThrottle:
        return cls(open_redis(url, timeout=timeout), policy, retry_after=retry_after)

    async def _apply(self, mode: str, key: ThrottleKey, in_memory: bool) -> tuple[float, bool]:
        """(seconds to wait, counted in memory) for ``mode`` on ``key``'s subjects."""
        if not in_memory:
            policy = self.policy
            args: list[str | int] = [
                mode,
                int(bool(key.account)),
                int(bool(key.client_address)),
                policy.pair_free_attempts,
                policy.account_free_attempts,
                policy.address_free_attempts,
                policy.window_seconds * 1000,
                policy.max_lock_seconds * 1000,
            ]
            keys = list(subject_keys(key))
            wait_ms = await self.guard.run(lambda: self._script(keys=keys, args=args), None)
            if wait_ms is not None:
                self._counting_in_memory = False
                return int(wait_ms) / 1000, False
            if not self._counting_in_memory:
                self._counting_in_memory = True
                log.warning("login throttling counts in this process's memory until Redis is back")
        self.stats["memory"] += 1
        return self.memory.apply(mode, key), True

    async def charge(self, key: ThrottleKey) -> Charge | None:
        """Count one attempt; ``Refusal(too_many_attempts)`` while one of its subjects
        must wait. None when there is nothing to count (no account, no address)."""
        if not key.account and not key.client_address:
            return None
        wait, in_memory = await self._apply(CHARGE, key, in_memory=False)
        if wait > 0:
            raise Refusal(
                Reason.TOO_MANY_ATTEMPTS,
                "too many failed attempts; retry later",
                max(1, math.ceil(wait)),
            )
        return Charge(key, in_memory)

    async def succeeded(self, charge: Charge) -> None:
        """The charged attempt was right: clear its pair, give the attempt back."""
        await self._apply(SUCCESS, charge.key, charge.in_memory)

    async def refund(self, charge: Charge) -> None:
        """The charged attempt was never evaluated (e.g. overloaded): give it back."""
        await self._apply(REFUND, charge.key, charge.in_memory)

    async def ping(self) -> bool:
        return await self.guard.probe(self._redis.ping)

    async def close(self) -> None:
        await self._redis.aclose()
