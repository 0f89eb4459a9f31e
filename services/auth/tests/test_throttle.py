from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from findme_auth.throttle import LoginThrottle, ThrottleKey, ThrottlePolicy
from findme_common.refusals import Refusal
from findme_devstack.embedded import free_port, start_redis

POLICY = ThrottlePolicy(account_free_attempts=5, address_free_attempts=20)


def new_key(address: str | None = None) -> ThrottleKey:
    """A key no other test uses: every test shares the session's Redis."""
    return ThrottleKey(
        scope=f"event:{uuid.uuid4().int % 10**6}",
        account=f"user-{uuid.uuid4().hex[:8]}",
        client_address=address if address is not None else f"10.{uuid.uuid4().int % 250}.0.1",
    )


@pytest.fixture
async def open_throttle() -> AsyncIterator[Callable[..., LoginThrottle]]:
    opened: list[LoginThrottle] = []

    def open_(url: str, policy: ThrottlePolicy = POLICY, retry_seconds: float = 5.0):
        throttle = LoginThrottle.from_url(url, policy, timeout=0.5, retry_after=retry_seconds)
        opened.append(throttle)
        return throttle

    yield open_
    for throttle in opened:
        await throttle.close()


@pytest.fixture
def throttle(open_throttle: Callable[..., LoginThrottle], redis_url: str) -> LoginThrottle:
    return open_throttle(redis_url)


async def fail(throttle: LoginThrottle, key: ThrottleKey, times: int) -> None:
    for _ in range(times):
        assert await throttle.charge(key)  # each charge stands: a failed attempt


async def expire_locks(throttle: LoginThrottle, key: ThrottleKey) -> None:
    """Let the running lock run out without waiting for it."""
    for subject in throttle._subjects(key):
        await throttle._redis.delete(subject.lock)


async def test_account_locks_after_free_attempts_with_growing_backoff(
    throttle: LoginThrottle,
) -> None:
    key = new_key()
    await fail(throttle, key, 5)
    with pytest.raises(Refusal, match=r"^too_many_attempts:") as refused:
        await throttle.charge(key)
    assert refused.value.reason == "too_many_attempts"
    assert refused.value.retry_after == 2

    await expire_locks(throttle, key)
    await fail(throttle, key, 1)
    with pytest.raises(Refusal, match=r"^too_many_attempts:") as refused:
        await throttle.charge(key)
    assert refused.value.retry_after == 4

    # Another account in the same scope is not affected.
    other = ThrottleKey(key.scope, key.account + "x", "")
    assert await throttle.charge(other)


async def test_lock_is_capped(open_throttle: Callable[..., LoginThrottle], redis_url: str) -> None:
    throttle = open_throttle(redis_url, ThrottlePolicy(account_free_attempts=1, max_lock_seconds=5))
    key = new_key(address="")
    for expected in (2, 4, 5, 5):
        await fail(throttle, key, 1)
        with pytest.raises(Refusal, match=r"^too_many_attempts:") as refused:
            await throttle.charge(key)
        assert refused.value.retry_after == expected
        await expire_locks(throttle, key)


async def test_success_resets_the_account(throttle: LoginThrottle) -> None:
    key = new_key()
    await fail(throttle, key, 4)
    assert await throttle.charge(key)
    await throttle.succeeded(key)
    # The full allowance is back.
    await fail(throttle, key, 5)
    with pytest.raises(Refusal, match=r"^too_many_attempts:"):
        await throttle.charge(key)


async def test_refund_gives_one_attempt_back(throttle: LoginThrottle) -> None:
    key = new_key()
    await fail(throttle, key, 4)
    assert await throttle.charge(key)  # the fifth charge sets a lock...
    await throttle.refund(key)  # ...which goes with the refund
    await fail(throttle, key, 1)
    with pytest.raises(Refusal, match=r"^too_many_attempts:"):
        await throttle.charge(key)


async def test_per_address_limit_across_accounts(throttle: LoginThrottle) -> None:
    address = f"192.0.2.{uuid.uuid4().int % 250}-{uuid.uuid4().hex[:6]}"
    for _ in range(20):
        await fail(throttle, new_key(address), 1)
    with pytest.raises(Refusal, match=r"^too_many_attempts:") as refused:
        await throttle.charge(new_key(address))
    assert refused.value.retry_after == 2
    # The same accounts from elsewhere are fine.
    assert await throttle.charge(new_key())


async def test_success_does_not_reset_the_address(throttle: LoginThrottle) -> None:
    address = f"198.51.100.{uuid.uuid4().hex[:8]}"
    for _ in range(19):
        await fail(throttle, new_key(address), 1)
    mine = new_key(address)
    assert await throttle.charge(mine)
    await throttle.succeeded(mine)
    # The attacker's own successful login bought back one attempt, not twenty.
    await fail(throttle, new_key(address), 1)
    with pytest.raises(Refusal, match=r"^too_many_attempts:"):
        await throttle.charge(new_key(address))


async def test_parallel_burst_cannot_exceed_the_allowance(throttle: LoginThrottle) -> None:
    key = new_key()
    outcomes = await asyncio.gather(
        *(throttle.charge(key) for _ in range(30)), return_exceptions=True
    )
    assert sum(outcome is True for outcome in outcomes) == 5
    assert (
        sum(
            isinstance(outcome, Refusal) and outcome.reason == "too_many_attempts"
            for outcome in outcomes
        )
        == 25
    )


async def test_empty_key_is_not_throttled(throttle: LoginThrottle) -> None:
    assert not await throttle.charge(ThrottleKey(scope="", account="", client_address=""))


async def test_redis_down_skips_throttling_with_one_warning(
    open_throttle: Callable[..., LoginThrottle], caplog: pytest.LogCaptureFixture
) -> None:
    throttle = open_throttle(f"redis://127.0.0.1:{free_port()}/0", retry_seconds=0)
    key = new_key()
    with caplog.at_level(logging.WARNING, logger="findme_auth.throttle"):
        for _ in range(10):
            assert await throttle.charge(key) is False
        await throttle.succeeded(key)
        assert not await throttle.ping()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "redis unavailable" in warnings[0].getMessage()


async def test_throttling_recovers_when_redis_returns(
    open_throttle: Callable[..., LoginThrottle], tmp_path: Path
) -> None:
    port = free_port()
    redis = start_redis(tmp_path / "r1", port=port)
    throttle = open_throttle(redis.url, retry_seconds=0)
    key = new_key()
    try:
        await fail(throttle, key, 2)
        redis.stop()
        assert await throttle.charge(key) is False
        redis = start_redis(tmp_path / "r2", port=port)
        # A fresh server has no counters, but counting resumes at once.
        await fail(throttle, key, 5)
        with pytest.raises(Refusal, match=r"^too_many_attempts:"):
            await throttle.charge(key)
    finally:
        redis.stop()


async def test_after_a_failure_redis_is_left_alone_until_retry_time(
    open_throttle: Callable[..., LoginThrottle], tmp_path: Path
) -> None:
    port = free_port()
    throttle = open_throttle(f"redis://127.0.0.1:{port}/0", retry_seconds=3600)
    key = new_key()
    assert await throttle.charge(key) is False  # down: marks it for an hour
    redis = start_redis(tmp_path / "r", port=port)
    try:
        # A login does not pay a Redis timeout per attempt during an outage.
        assert await throttle.charge(key) is False
        assert await throttle.ping()  # the start-up/health probe always tries
        assert await throttle.charge(key) is True
    finally:
        redis.stop()
