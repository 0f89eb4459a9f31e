"""Login throttling against real Redis, and the same rules in memory while Redis is
down (every rule test runs on both)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from findme_auth.throttle import (
    Charge,
    LoginThrottle,
    ThrottleKey,
    ThrottlePolicy,
    subject_keys,
)
from findme_common.refusals import Refusal
from findme_devstack.embedded import free_port, start_redis

POLICY = ThrottlePolicy(pair_free_attempts=5, account_free_attempts=10, address_free_attempts=20)


def new_address() -> str:
    return f"198.51.{uuid.uuid4().int % 250}.{uuid.uuid4().hex[:6]}"


def new_key(address: str | None = None, account: str | None = None) -> ThrottleKey:
    """A key no other test uses: every test shares the session's Redis."""
    return ThrottleKey(
        scope=f"event:{uuid.uuid4().int % 10**6}" if account is None else "event:shared",
        account=account or f"user-{uuid.uuid4().hex[:8]}",
        client_address=new_address() if address is None else address,
    )


@dataclass
class Throttles:
    """Opens throttles on one backend and lets time pass for them."""

    backend: str
    redis_url: str
    opened: list[LoginThrottle]
    clock: list[float]

    def open(self, policy: ThrottlePolicy = POLICY) -> LoginThrottle:
        if self.backend == "redis":
            # A generous timeout: on a loaded machine a slow answer must not send some
            # of a burst's charges to the memory fallback (its own allowance).
            throttle = LoginThrottle.from_url(self.redis_url, policy, timeout=5.0, retry_after=5)
        else:
            # Nothing listens there: every call falls back to memory, on our clock.
            down = f"redis://127.0.0.1:{free_port()}/0"
            throttle = LoginThrottle.from_url(down, policy, timeout=0.2, retry_after=3600)
            throttle.memory.clock = lambda: self.clock[0]
        self.opened.append(throttle)
        return throttle

    async def wait(self, throttle: LoginThrottle, keys: list[ThrottleKey], seconds: float) -> None:
        """Let ``seconds`` pass for ``keys``' subjects without waiting for them."""
        if self.backend == "memory":
            self.clock[0] += seconds
            return
        shift = int(seconds * 1000)
        redis = throttle._redis
        for name in {name for key in keys for name in subject_keys(key)}:
            stored = await redis.hmget(name, "t", "u")
            if stored[0] is not None:
                await redis.hset(name, mapping={"t": int(stored[0]) - shift})
            if stored[1] is not None:
                await redis.hset(name, mapping={"u": int(float(stored[1])) - shift})


@pytest.fixture(params=["redis", "memory"])
async def throttles(request: pytest.FixtureRequest, redis_url: str) -> AsyncIterator[Throttles]:
    made = Throttles(request.param, redis_url, [], [1000.0])
    yield made
    for throttle in made.opened:
        await throttle.close()


async def fail(throttle: LoginThrottle, key: ThrottleKey, times: int = 1) -> None:
    for _ in range(times):
        assert await throttle.charge(key) is not None  # each charge stands: a failure


async def refused(attempt: Awaitable[object]) -> int:
    """The Retry-After of a refused attempt."""
    with pytest.raises(Refusal, match=r"^too_many_attempts:") as caught:
        await attempt
    assert caught.value.retry_after is not None
    return int(caught.value.retry_after)


async def test_a_pair_locks_after_its_free_attempts_with_growing_waits(
    throttles: Throttles,
) -> None:
    throttle = throttles.open()
    key = new_key()
    await fail(throttle, key, 5)
    assert await refused(throttle.charge(key)) == 2

    await throttles.wait(throttle, [key], 2)
    await fail(throttle, key)
    assert await refused(throttle.charge(key)) == 4

    # The same account from another address, and another account, are not affected.
    assert await throttle.charge(ThrottleKey(key.scope, key.account, new_address()))
    assert await throttle.charge(new_key(key.client_address))


async def test_locks_are_capped(throttles: Throttles) -> None:
    throttle = throttles.open(ThrottlePolicy(pair_free_attempts=1, max_lock_seconds=5))
    key = new_key()
    for expected in (2, 4, 5, 5):
        await fail(throttle, key)
        assert await refused(throttle.charge(key)) == expected
        await throttles.wait(throttle, [key], expected)


async def test_success_clears_the_pair(throttles: Throttles) -> None:
    throttle = throttles.open()
    key = new_key()
    await fail(throttle, key, 4)
    charge = await throttle.charge(key)
    assert charge is not None
    await throttle.succeeded(charge)
    await fail(throttle, key, 5)  # the full allowance is back
    await refused(throttle.charge(key))


async def test_refund_gives_one_attempt_back_and_the_lock_it_caused(
    throttles: Throttles,
) -> None:
    throttle = throttles.open()
    key = new_key()
    await fail(throttle, key, 4)
    fifth = await throttle.charge(key)  # sets a lock...
    assert fifth is not None
    await throttle.refund(fifth)  # ...which goes with the refund
    await fail(throttle, key)
    await refused(throttle.charge(key))


async def test_failures_drain_so_a_patient_retry_is_never_locked(throttles: Throttles) -> None:
    # One failure every three minutes is the pair's drain rate (5 per 15 minutes):
    # however long it goes on, the pair never fills (the old window was extended by
    # every attempt and locked after the fifth).
    throttle = throttles.open()
    key = new_key()
    for _ in range(12):
        await fail(throttle, key)
        await throttles.wait(throttle, [key], 180)


async def test_an_address_is_limited_across_accounts_and_drains(throttles: Throttles) -> None:
    throttle = throttles.open()
    address = new_address()
    keys = [new_key(address) for _ in range(21)]
    for key in keys[:20]:
        await fail(throttle, key)
    # Full: the next attempt waits about half a drain step (900 s / 20 = 45 s).
    assert 15 <= await refused(throttle.charge(keys[20])) <= 25
    # The same accounts from elsewhere are fine.
    assert await throttle.charge(ThrottleKey(keys[20].scope, keys[20].account, new_address()))

    await throttles.wait(throttle, keys, 45)
    await fail(throttle, keys[20])


async def test_the_owner_logs_in_while_an_attacker_fails_against_the_account(
    throttles: Throttles,
) -> None:
    throttle = throttles.open()
    account = f"victim-{uuid.uuid4().hex[:8]}"
    attacker = new_key(new_address(), account)
    await fail(throttle, attacker, 5)
    await refused(throttle.charge(attacker))

    # Every time the attacker's lock runs out it guesses again; the owner, from
    # another address, is never refused.
    owner = ThrottleKey(attacker.scope, account, new_address())
    for _ in range(5):
        await throttles.wait(throttle, [attacker], 1000)
        await throttle.charge(attacker)
        charge = await throttle.charge(owner)
        assert charge is not None
        await throttle.succeeded(charge)


async def test_an_account_under_attack_holds_back_every_failing_address_only(
    throttles: Throttles,
) -> None:
    throttle = throttles.open()
    account = f"victim-{uuid.uuid4().hex[:8]}"
    attackers = [new_key(new_address(), account) for _ in range(3)]
    for attacker in attackers[:2]:
        await fail(throttle, attacker, 5)  # ten failures: the account is under attack
    await throttles.wait(throttle, attackers, 10)  # past the 2 s locks
    # A failing address waits for the account to drain (10 per 15 min: ~90 s a step).
    assert 30 <= await refused(throttle.charge(attackers[0])) <= 90
    # A fresh address gets its try (and, failing, is held back too).
    await fail(throttle, attackers[2])
    await refused(throttle.charge(attackers[2]))
    # The owner, from an address that has not been failing, gets in.
    owner = await throttle.charge(ThrottleKey(attackers[0].scope, account, new_address()))
    assert owner is not None


async def test_a_success_gives_the_address_back_one_attempt_only(throttles: Throttles) -> None:
    throttle = throttles.open()
    address = new_address()
    for _ in range(19):
        await fail(throttle, new_key(address))
    mine = await throttle.charge(new_key(address))
    assert mine is not None
    await throttle.succeeded(mine)
    # The attacker's own successful login bought back one attempt, not twenty.
    await fail(throttle, new_key(address))
    await refused(throttle.charge(new_key(address)))


async def test_a_venue_behind_one_address_is_not_throttled_by_typos(
    throttles: Throttles,
) -> None:
    throttle = throttles.open(ThrottlePolicy())  # the defaults
    venue = new_address()
    # 100 failed logins: typos of 20 people, five each.
    people = [new_key(venue) for _ in range(20)]
    for person in people:
        await fail(throttle, person, 5)
    # Then 50 other attendees log in right, one after another.
    for _ in range(50):
        charge = await throttle.charge(new_key(venue))
        assert charge is not None
        await throttle.succeeded(charge)


async def test_a_parallel_burst_cannot_exceed_the_allowance(throttles: Throttles) -> None:
    throttle = throttles.open()
    key = new_key()
    outcomes = await asyncio.gather(
        *(throttle.charge(key) for _ in range(30)), return_exceptions=True
    )
    assert sum(isinstance(outcome, Charge) for outcome in outcomes) == 5
    assert sum(isinstance(outcome, Refusal) for outcome in outcomes) == 25


async def test_an_empty_key_is_not_throttled(throttles: Throttles) -> None:
    throttle = throttles.open()
    assert await throttle.charge(ThrottleKey(scope="", account="", client_address="")) is None


async def test_memory_keeps_a_bounded_number_of_subjects(throttles: Throttles) -> None:
    throttle = throttles.open()
    throttle.memory.max_subjects = 10
    for _ in range(20):
        throttle.memory.apply("charge", new_key())
    assert len(throttle.memory._buckets) == 10


# -- Redis down and back ---------------------------------------------------------------


@pytest.fixture
async def open_throttle() -> AsyncIterator[Callable[..., LoginThrottle]]:
    opened: list[LoginThrottle] = []

    def open_(url: str, retry_seconds: float = 5.0) -> LoginThrottle:
        throttle = LoginThrottle.from_url(url, POLICY, timeout=0.5, retry_after=retry_seconds)
        opened.append(throttle)
        return throttle

    yield open_
    for throttle in opened:
        await throttle.close()


async def test_with_redis_down_wrong_passwords_still_lock_logged_once_and_counted(
    open_throttle: Callable[..., LoginThrottle], caplog: pytest.LogCaptureFixture
) -> None:
    throttle = open_throttle(f"redis://127.0.0.1:{free_port()}/0", retry_seconds=0)
    key = new_key()
    with caplog.at_level(logging.WARNING):
        await fail(throttle, key, 5)
        for _ in range(10):
            await refused(throttle.charge(key))
        assert not await throttle.ping()
    assert throttle.stats["memory"] == 15
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert sum("redis unavailable" in message for message in warnings) == 1
    assert sum("memory" in message for message in warnings) == 1


async def test_counting_returns_to_redis_when_it_is_back(
    open_throttle: Callable[..., LoginThrottle], tmp_path: Path
) -> None:
    port = free_port()
    redis = start_redis(tmp_path / "r1", port=port)
    throttle = open_throttle(redis.url, retry_seconds=0)
    key = new_key()
    try:
        await fail(throttle, key, 2)
        redis.stop()
        charge = await throttle.charge(key)
        assert charge is not None and charge.in_memory
        redis = start_redis(tmp_path / "r2", port=port)
        # A fresh server has no counters, but counting resumes there at once.
        await fail(throttle, key, 5)
        await refused(throttle.charge(key))
        assert throttle.stats["memory"] == 1
    finally:
        redis.stop()


async def test_after_a_failure_redis_is_left_alone_until_retry_time(
    open_throttle: Callable[..., LoginThrottle], tmp_path: Path
) -> None:
    port = free_port()
    throttle = open_throttle(f"redis://127.0.0.1:{port}/0", retry_seconds=3600)
    key = new_key()
    assert (await throttle.charge(key)).in_memory  # type: ignore[union-attr]
    redis = start_redis(tmp_path / "r", port=port)
    try:
        # A login does not pay a Redis timeout per attempt during an outage.
        assert (await throttle.charge(key)).in_memory  # type: ignore[union-attr]
        assert await throttle.ping()  # the start-up/health probe always tries
        assert not (await throttle.charge(key)).in_memory  # type: ignore[union-attr]
    finally:
        redis.stop()
