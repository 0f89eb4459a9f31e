"""The Redis failure guard against a real Redis that goes away and comes back."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from findme_common.redis_guard import RedisGuard, open_redis
from findme_devstack.embedded import free_port, start_redis
from prometheus_client import REGISTRY


def metric(name: str, purpose: str) -> float | None:
    return REGISTRY.get_sample_value(name, {"purpose": purpose})


async def test_a_failure_leaves_redis_alone_until_retry_after(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    client = open_redis(f"redis://127.0.0.1:{port}/0", timeout=0.25)
    clock = [100.0]
    guard = RedisGuard("guard-test", retry_after=5, clock=lambda: clock[0])
    try:
        assert metric("findme_redis_up", "guard-test") == 1
        with caplog.at_level(logging.INFO, logger="findme_common.redis_guard"):
            assert await guard.run(client.ping, "fallback") == "fallback"  # nothing listens
            assert metric("findme_redis_up", "guard-test") == 0
            server = start_redis(tmp_path / "redis", port=port)
            try:
                # Up again, but within retry_after: not even tried.
                assert await guard.run(client.ping, "fallback") == "fallback"
                assert guard.stats == {"failed": 1, "skipped": 1} and guard.failing
                assert metric("findme_redis_failures_total", "guard-test") == 1
                assert metric("findme_redis_skipped_total", "guard-test") == 1
                clock[0] += 5
                assert await guard.run(client.ping, "fallback") is True
                assert not guard.failing
                assert metric("findme_redis_up", "guard-test") == 1
            finally:
                server.stop()
        messages = [record.getMessage() for record in caplog.records]
        assert messages == ["redis unavailable, going on without it", "redis reachable again"]
    finally:
        await client.aclose()


async def test_a_probe_always_tries(tmp_path: Path) -> None:
    port = free_port()
    client = open_redis(f"redis://127.0.0.1:{port}/0", timeout=0.25)
    guard = RedisGuard("tests", retry_after=3600)
    try:
        assert await guard.probe(client.ping) is False
        server = start_redis(tmp_path / "redis", port=port)
        try:
            assert await guard.run(client.ping, False) is False  # left alone for an hour
            assert await guard.probe(client.ping) is True  # health checks still look
            assert await guard.run(client.ping, False) is True  # and clear the wait
        finally:
            server.stop()
    finally:
        await client.aclose()
