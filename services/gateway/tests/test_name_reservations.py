"""Username reservations against a real Redis."""

from __future__ import annotations

import asyncio
import socket
import uuid

import redis.asyncio as redis
from findme_gateway.name_reservations import NameReservations


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_one_claim_at_a_time_and_released_after(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    claims = NameReservations(client, ttl_seconds=30, retry_after=2, prefix=f"t:{uuid.uuid4().hex}")
    async with claims.reserve("EVENT1", "alice") as first:
        assert first is True
        async with claims.reserve("EVENT1", "alice") as second:
            assert second is False
        async with claims.reserve("EVENT1", "bob") as other_name:
            assert other_name is True
        async with claims.reserve("EVENT2", "alice") as other_event:
            assert other_event is True
    async with claims.reserve("EVENT1", "alice") as again:
        assert again is True
    await client.aclose()


async def test_fifty_racers_one_winner(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    claims = NameReservations(client, ttl_seconds=30, retry_after=2, prefix=f"t:{uuid.uuid4().hex}")
    release = asyncio.Event()

    async def racer() -> bool:
        async with claims.reserve("EVENT", "same") as ours:
            await release.wait()
            return ours

    tasks = [asyncio.ensure_future(racer()) for _ in range(50)]
    await asyncio.sleep(0.2)
    release.set()
    assert sorted(await asyncio.gather(*tasks)) == [False] * 49 + [True]
    await client.aclose()


async def test_an_expired_claim_taken_by_another_is_not_released_by_the_first(
    redis_url: str,
) -> None:
    client = redis.Redis.from_url(redis_url)
    claims = NameReservations(client, ttl_seconds=1, retry_after=2, prefix=f"t:{uuid.uuid4().hex}")
    first = claims.reserve("E", "slow")
    assert await first.__aenter__()
    await asyncio.sleep(1.3)  # the claim expires while its holder still works
    second = claims.reserve("E", "slow")
    assert await second.__aenter__()
    await first.__aexit__(None, None, None)  # the first holder finishes late
    async with claims.reserve("E", "slow") as third:
        assert third is False  # the second's claim survived the first's release
    await second.__aexit__(None, None, None)
    async with claims.reserve("E", "slow") as fourth:
        assert fourth is True
    await client.aclose()


async def test_redis_down_lets_everyone_through() -> None:
    client = redis.Redis.from_url(
        f"redis://127.0.0.1:{closed_port()}/0", socket_connect_timeout=0.2
    )
    claims = NameReservations(client, ttl_seconds=30, retry_after=2)
    async with claims.reserve("E", "x") as first, claims.reserve("E", "x") as second:
        assert first and second
    await client.aclose()
