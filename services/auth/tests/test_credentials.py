from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator

import pytest
from findme_auth.credentials import Credentials
from findme_auth.passwords import PasswordHasher
from findme_auth.pool import BcryptPool
from findme_auth.throttle import LoginThrottle, ThrottleKey, ThrottlePolicy
from findme_common.refusals import Refusal


@pytest.fixture(scope="module")
def hasher() -> PasswordHasher:
    return PasswordHasher(rounds=4)


@pytest.fixture
async def throttle(redis_url: str) -> AsyncIterator[LoginThrottle]:
    throttle = LoginThrottle.from_url(redis_url, ThrottlePolicy(), timeout=0.5, retry_after=5)
    yield throttle
    await throttle.close()


@pytest.fixture
async def pool() -> AsyncIterator[BcryptPool]:
    pool = BcryptPool(workers=1, queue_limit=0)
    yield pool
    await asyncio.to_thread(pool.shutdown)


def new_key() -> ThrottleKey:
    return ThrottleKey("organizers", f"{uuid.uuid4().hex}@example.org", "")


class BlockedPool:
    """Occupies every slot of ``pool`` until the context exits."""

    def __init__(self, pool: BcryptPool) -> None:
        self.pool = pool
        self.release = threading.Event()

    async def __aenter__(self) -> BlockedPool:
        started = threading.Event()

        def hold() -> None:
            started.set()
            self.release.wait(10)

        self.job = asyncio.ensure_future(self.pool.run(hold))
        await asyncio.to_thread(started.wait, 10)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release.set()
        await self.job


async def test_lock_is_checked_before_any_bcrypt_work(
    hasher: PasswordHasher, pool: BcryptPool, throttle: LoginThrottle
) -> None:
    credentials = Credentials(hasher=hasher, pool=pool, throttle=throttle)
    stored = hasher.hash("correct horse")
    key = new_key()
    for _ in range(5):
        assert not (await credentials.verify_password("wrong horse", stored, key)).valid
    async with BlockedPool(pool):
        # The pool is full, yet the answer is the lock, not "overloaded": no bcrypt queued.
        with pytest.raises(Refusal, match=r"^too_many_attempts:"):
            await credentials.verify_password("correct horse", stored, key)


async def test_overloaded_attempt_is_not_counted(
    hasher: PasswordHasher, pool: BcryptPool, throttle: LoginThrottle
) -> None:
    credentials = Credentials(hasher=hasher, pool=pool, throttle=throttle)
    stored = hasher.hash("correct horse")
    key = new_key()
    async with BlockedPool(pool):
        for _ in range(10):
            with pytest.raises(Refusal, match=r"^overloaded:"):
                await credentials.verify_password("wrong horse", stored, key)
    for _ in range(5):
        assert not (await credentials.verify_password("wrong horse", stored, key)).valid
    with pytest.raises(Refusal, match=r"^too_many_attempts:"):
        await credentials.verify_password("wrong horse", stored, key)


async def test_unknown_accounts_are_counted_like_known_ones(
    hasher: PasswordHasher, pool: BcryptPool, throttle: LoginThrottle
) -> None:
    credentials = Credentials(hasher=hasher, pool=pool, throttle=throttle)
    key = new_key()
    for _ in range(5):
        assert not (await credentials.verify_password("guess", "", key)).valid
    with pytest.raises(Refusal, match=r"^too_many_attempts:"):
        await credentials.verify_password("guess", "", key)


async def test_hash_refuses_policy_violations_without_using_the_pool(
    hasher: PasswordHasher, pool: BcryptPool
) -> None:
    credentials = Credentials(hasher=hasher, pool=pool, throttle=None)
    async with BlockedPool(pool):
        with pytest.raises(Refusal) as refused:
            await credentials.hash_password("x" * 73)
        assert refused.value.reason == "password_too_long"
        with pytest.raises(Refusal, match=r"^overloaded:"):
            await credentials.hash_password("long enough password")
    stored = await credentials.hash_password("long enough password")
    assert (await credentials.verify_password("long enough password", stored)).valid
