"""The limiter against the real Redis, and its 429 through the app."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis
from findme_gateway.app import create_app
from findme_gateway.ratelimit import RateLimiter


@pytest.fixture
async def limiter(redis_url: str) -> AsyncIterator[RateLimiter]:
    client = redis.Redis.from_url(redis_url)
    yield RateLimiter(client, retry_after=2, prefix=f"test:{uuid.uuid4().hex}")
    await client.aclose()


async def test_allows_up_to_the_limit_then_refuses_with_retry_after(limiter) -> None:
    decisions = [await limiter.hit("login", "10.0.0.1", limit=3, window=60) for _ in range(4)]

    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert 1 <= decisions[-1].retry_after <= 120


async def test_clients_and_buckets_are_counted_apart(limiter) -> None:
    for _ in range(2):
        await limiter.hit("login", "10.0.0.1", limit=2, window=60)

    assert not (await limiter.hit("login", "10.0.0.1", limit=2, window=60)).allowed
    assert (await limiter.hit("login", "10.0.0.2", limit=2, window=60)).allowed
    assert (await limiter.hit("register", "10.0.0.1", limit=2, window=60)).allowed


async def test_counters_expire_in_redis(limiter, redis_url) -> None:
    await limiter.hit("upload", "10.0.0.3", limit=5, window=60)

    client = redis.Redis.from_url(redis_url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{limiter._prefix}:*")]
        ttls = [await client.ttl(key) for key in keys]
    finally:
        await client.aclose()
    assert len(keys) == 1
    assert all(0 < ttl <= 120 for ttl in ttls)


async def test_redis_down_allows_every_request(closed_port) -> None:
    client = redis.Redis.from_url(
        f"redis://127.0.0.1:{closed_port()}/0", socket_connect_timeout=0.25
    )
    limiter = RateLimiter(client, retry_after=60)
    try:
        decisions = [await limiter.hit("login", "10.0.0.1", limit=1, window=60) for _ in range(3)]
    finally:
        await client.aclose()

    assert all(decision.allowed for decision in decisions)
    # One timeout, then Redis is left alone instead of costing one per request.
    assert limiter.guard.stats == {"failed": 1, "skipped": 2}


async def test_login_past_the_limit_is_429_rate_limited(make_settings, open_client, redis_url):
    app = create_app(make_settings(redis_url=redis_url, login_rate_limit=2))
    body = {"event_code": "ABC123", "username": "ada", "password": "pw"}

    async with open_client(app) as client:
        # The backends are closed ports: allowed requests end as 503, refused ones as 429.
        statuses = [(await client.post("/api/login", json=body)).status_code for _ in range(3)]
        refused = await client.post("/api/login", json=body)

    assert statuses == [503, 503, 429]
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert int(refused.headers["retry-after"]) >= 1


async def test_limits_are_per_client_address(make_settings, open_client, redis_url) -> None:
    app = create_app(make_settings(redis_url=redis_url, register_rate_limit=1))
    body = {"event_code": "ABC123", "username": "ada", "password": "long enough"}

    async with open_client(app, "10.9.9.1") as first, open_client(app, "10.9.9.2") as second:
        await first.post("/api/register-with-event-code", json=body)
        first_again = await first.post("/api/register-with-event-code", json=body)
        other = await second.post("/api/register-with-event-code", json=body)

    assert first_again.status_code == 429
    assert other.status_code == 503


async def test_disabled_rate_limit_never_refuses(make_settings, open_client, redis_url) -> None:
    app = create_app(
        make_settings(redis_url=redis_url, login_rate_limit=1, rate_limit_enabled=False)
    )
    body = {"event_code": "ABC123", "username": "ada", "password": "pw"}

    async with open_client(app) as client:
        statuses = {(await client.post("/api/login", json=body)).status_code for _ in range(3)}

    assert statuses == {503}


async def test_the_lookups_share_one_limit_sized_for_a_venue(
    make_settings, open_client, redis_url
) -> None:
    assert make_settings().lookup_rate_limit >= 1000  # a venue typing behind one NAT
    app = create_app(make_settings(redis_url=redis_url, lookup_rate_limit=3))
    code = {"event_code": "ABCD2345"}
    name = {"event_code": "ABCD2345", "username": "ada"}

    async with open_client(app) as client:
        statuses = [
            (await client.post("/api/check-event-code", json=code)).status_code,
            (await client.post("/api/check-user-availability", json=name)).status_code,
            (await client.post("/api/check-event-code", json=code)).status_code,
        ]
        refused = await client.post("/api/check-user-availability", json=name)

    assert statuses == [503, 503, 503]
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
