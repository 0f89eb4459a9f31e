"""The embedded Redis: a port taken by another server is never mistaken for ours,
and a restart comes back on the same port."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from findme_devstack.embedded import start_redis


def _ping(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
        conn.sendall(b"PING\r\n")
        return conn.recv(16)


def test_a_port_another_redis_holds_is_refused_not_shared(tmp_path: Path) -> None:
    first = start_redis(tmp_path / "a")
    try:
        with pytest.raises(RuntimeError, match="exited"):
            start_redis(tmp_path / "b", port=first.port)
    finally:
        first.stop()


def test_a_killed_redis_restarts_on_its_port(tmp_path: Path) -> None:
    redis = start_redis(tmp_path / "r")
    try:
        redis.process.kill()
        redis.process.wait()
        redis.restart()
        assert _ping(redis.port).startswith(b"+PONG")
    finally:
        redis.stop()
