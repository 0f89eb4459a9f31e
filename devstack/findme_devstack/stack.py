"""The whole system as local processes: embedded (or external) PostgreSQL and Redis,
migrations, then auth, events, selfie and the gateway, health-gated.

`make run` and the integration tests both boot the system through ``Stack``; `make
run` also keeps it running (``findme_devstack.supervisor`` restarts what dies).

Ports come from the binds themselves: each server binds port 0 (or the gateway's
chosen port) and writes the port it got to a file under ``<data>/run``; the stack
reads it there and gives it to the services that call that one. A restart binds the
same port again. Two stacks starting at the same moment therefore never share a
port, and one data folder serves one stack at a time (a lock file says so).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from findme_devstack import keys
from findme_devstack.embedded import (
    EmbeddedPostgres,
    EmbeddedRedis,
    free_port,
    start_postgres,
    start_redis,
)

log = logging.getLogger("findme.devstack")

SERVICES = ("auth", "events", "worker", "selfie", "gateway")
# gRPC servers the others call: started first, their ports read from their binds.
GRPC_SERVICES = ("auth", "events", "selfie")
# Started once the gRPC ports are known (their settings name them).
CLIENT_SERVICES = ("worker", "gateway")
# The services that serve Prometheus metrics on a port of their own (the gateway
# serves /metrics on its public port, to private peers only).
METRICS_PORTS = ("auth", "events", "selfie", "worker")
# Where the stack records its addresses in the data folder, for findme-admin.
STACK_FILE = "stack.json"
# The photo worker ships with the events service but is a package of its own.
MODULES = {"worker": "findme_photo_worker"}
# Servers whose port the stack learns from their bind.
SERVER_PORTS = (*GRPC_SERVICES, "gateway")


class StackError(RuntimeError):
    """The system could not be started; the message says which part and why."""


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a server could listen on ``port`` now. With SO_REUSEADDR, as the
    servers themselves bind: connections of a stopped server still in TIME_WAIT do
    not count, only a live listener does."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


@dataclass
class StackConfig:
    data_dir: Path
    # The public port; None or 0: any free port (the gateway's bind picks it).
    gateway_port: int | None = 8000
    # External servers; None means the embedded ones under data_dir.
    database_url: str | None = None
    redis_url: str | None = None
    # Extra environment for every service (e.g. worker counts).
    env: dict[str, str] = field(default_factory=dict)
    startup_timeout: float = 240.0
    # Seconds a restarted server gets to bind (``restart``).
    bind_timeout: float = 60.0


@dataclass
class Stack:
    config: StackConfig
    ports: dict[str, int] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    database_url: str = ""
    redis_url: str = ""
    _postgres: EmbeddedPostgres | None = None
    _redis: EmbeddedRedis | None = None
    _lock: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports['gateway']}"

    @property
    def log_dir(self) -> Path:
        return self.config.data_dir / "logs"

    @property
    def run_dir(self) -> Path:
        return self.config.data_dir / "run"

    def target(self, service: str) -> str:
        return f"dns:///127.0.0.1:{self.ports[service]}"

    # --- start -----------------------------------------------------------------
    def start(self) -> Stack:
        try:
            self._lock_data_dir()
            self._check_gateway_port()
            self._start_stores()
            self._pick_metrics_ports()
            self._record_addresses()
            self._migrate()
            # The gRPC servers bind first; the worker and gateway are told their ports.
            self._spawn_and_bind(GRPC_SERVICES)
            self._spawn_and_bind(CLIENT_SERVICES)
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def _lock_data_dir(self) -> None:
        self.config.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.config.data_dir / "stack.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StackError(
                f"another findme stack is running with data in {self.config.data_dir} "
                "(set FINDME_DATA_DIR)"
            ) from None
        self._lock = fd

    def _check_gateway_port(self) -> None:
        port = self.config.gateway_port
        if port and not port_is_free(port):
            raise StackError(f"gateway port {port} is in use (set FINDME_GATEWAY_PORT)")

    def _start_stores(self) -> None:
        cfg = self.config
        if cfg.database_url:
            self.database_url = cfg.database_url
        else:
            log.info("starting embedded PostgreSQL in %s", cfg.data_dir / "postgres")
            self._postgres = start_postgres(cfg.data_dir / "postgres")
            self.database_url = self._postgres.url("findme")
        if cfg.redis_url:
            self.redis_url = cfg.redis_url
        else:
            log.info("starting embedded Redis")
            self._redis = start_redis(cfg.data_dir / "redis")
            self.redis_url = self._redis.url

    def _pick_metrics_ports(self) -> None:
        # Each service serves its Prometheus metrics on a port of its own; any free one
        # here (the gateway's dashboard is told where they are).
        for service in METRICS_PORTS:
            self.ports[f"{service}_metrics"] = free_port()

    def metrics_url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[f'{service}_metrics']}/metrics"

    def _record_addresses(self) -> None:
        record = {
            "database_url": self.database_url,
            "redis_url": self.redis_url,
            "blob_dir": str(self.config.data_dir / "blobs"),
        }
        self.config.data_dir.mkdir(parents=True, exist_ok=True)
        (self.config.data_dir / STACK_FILE).write_text(json.dumps(record, indent=2))

    def service_env(self) -> dict[str, str]:
        private_key, public_key = keys.load_or_create(self.config.data_dir / "keys")
        # The caller's FINDME_* settings pass through (worker counts, limits...);
        # addresses, ports and keys are the stack's own. A server not started yet
        # binds port 0 and reports the port it got in its port file.
        env = dict(os.environ)
        for service in GRPC_SERVICES:
            prefix = f"FINDME_{service.upper()}"
            env[f"{prefix}_PORT"] = str(self.ports.get(service, 0))
            env[f"{prefix}_PORT_FILE"] = str(self.port_file(service))
        env.update(
            {
                "FINDME_AUTH_REDIS_URL": self.redis_url,
                "FINDME_AUTH_TOKEN_PRIVATE_KEY": private_key,
                "FINDME_EVENTS_DATABASE_URL": self.database_url,
                "FINDME_EVENTS_REDIS_URL": self.redis_url,
                "FINDME_EVENTS_BLOB_DIR": str(self.config.data_dir / "blobs"),
                "FINDME_GATEWAY_PORT": str(
                    self.ports.get("gateway", self.config.gateway_port or 0)
                ),
                "FINDME_GATEWAY_PORT_FILE": str(self.port_file("gateway")),
                "FINDME_GATEWAY_REDIS_URL": self.redis_url,
                "FINDME_GATEWAY_TOKEN_PUBLIC_KEY": public_key,
                "FINDME_WORKER_DATABASE_URL": self.database_url,
                "FINDME_WORKER_BLOB_DIR": str(self.config.data_dir / "blobs"),
            }
        )
        if all(service in self.ports for service in GRPC_SERVICES):
            env.update(
                {
                    "FINDME_WORKER_SELFIE_TARGET": self.target("selfie"),
                    "FINDME_GATEWAY_AUTH_TARGET": self.target("auth"),
                    "FINDME_GATEWAY_EVENTS_TARGET": self.target("events"),
                    "FINDME_GATEWAY_SELFIE_TARGET": self.target("selfie"),
                }
            )
        for service in METRICS_PORTS:
            prefix = "FINDME_" + service.upper()
            env[f"{prefix}_METRICS_PORT"] = str(self.ports[f"{service}_metrics"])
            env[f"FINDME_GATEWAY_{service.upper()}_METRICS_URL"] = self.metrics_url(service)
        env.update(self.config.env)
        return env

    def port_file(self, service: str) -> Path:
        return self.run_dir / f"{service}.port"

    def _migrate(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / "migrate.log"
        with log_path.open("wb") as out:
            result = subprocess.run(
                [sys.executable, "-m", "findme_events.migrate"],
                env=self.service_env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=120,
                check=False,
            )
        if result.returncode != 0:
            raise StackError(f"migrations failed:\n{tail(log_path)}")

    def _spawn(self, service: str) -> None:
        log_path = self.log_dir / f"{service}.log"
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.port_file(service).unlink(missing_ok=True)
        out = log_path.open("ab")
        # Own session per service: stop() can signal the whole group, pool workers included.
        module = MODULES.get(service, f"findme_{service}")
        self.processes[service] = subprocess.Popen(
            [sys.executable, "-m", module],
            env=self.service_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        out.close()

    def _spawn_and_bind(self, services: tuple[str, ...], timeout: float | None = None) -> None:
        """Start ``services`` and learn each server's port from its own bind."""
        for service in services:
            self._spawn(service)
        deadline = time.monotonic() + (timeout or self.config.startup_timeout)
        for service in services:
            if service in SERVER_PORTS:
                self.ports[service] = self._bound_port(service, deadline)

    def _bound_port(self, service: str, deadline: float) -> int:
        path, process = self.port_file(service), self.processes[service]
        while time.monotonic() < deadline:
            with contextlib.suppress(FileNotFoundError, ValueError):
                return int(path.read_text())
            if process.poll() is not None:
                raise StackError(
                    f"{service} exited with code {process.returncode}:\n"
                    f"{tail(self.log_dir / f'{service}.log')}"
                )
            time.sleep(0.1)
        raise StackError(f"{service} did not bind a port in time; see {self.log_dir}")

    def restart(self, part: str) -> None:
        """Start ``part`` again after it stopped: a service on the port it had, or an
        embedded store in its data folder (tests kill parts on purpose; `make run`'s
        supervisor restarts what dies). Leftovers of a service (its pool workers)
        are killed first."""
        if part == "postgres" and self._postgres is not None:
            self._postgres.restart()
            return
        if part == "redis" and self._redis is not None:
            self._redis.restart()
            return
        process = self.processes.get(part)
        if process is None:
            raise StackError(f"{part} is not a part of this stack")
        if process.poll() is None:
            raise StackError(f"{part} is still running")
        _signal_group(process, signal.SIGKILL)
        try:
            self._spawn_and_bind((part,), timeout=self.config.bind_timeout)
        except StackError:
            _signal_group(self.processes[part], signal.SIGKILL)
            raise

    def alive(self, part: str) -> bool:
        """Whether ``part`` (a service, or an embedded store) is running."""
        if part == "postgres":
            return self._postgres is None or self._postgres.running()
        if part == "redis":
            return self._redis is None or self._redis.process.poll() is None
        return self.processes[part].poll() is None

    def parts(self) -> list[str]:
        """Every part this stack runs: embedded stores first, then the services."""
        stores = [
            name
            for name, store in (("postgres", self._postgres), ("redis", self._redis))
            if store is not None
        ]
        return [*stores, *self.processes]

    def exit_code(self, part: str) -> int | None:
        process = self.processes.get(part)
        if process is not None:
            return process.returncode
        if part == "redis" and self._redis is not None:
            return self._redis.process.returncode
        return None

    def pids(self) -> dict[str, list[int]]:
        """Process ids of each running part: the services, and the stores when embedded."""
        parts = {name: [process.pid] for name, process in self.processes.items()}
        if self._postgres is not None:
            pid = self._postgres.pid()
            if pid:
                parts["postgres"] = [pid]
        if self._redis is not None:
            parts["redis"] = [self._redis.process.pid]
        return parts

    def health(self, timeout: float = 3.0) -> httpx.Response:
        return httpx.get(f"{self.url}/health", timeout=timeout)

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.config.startup_timeout
        last = "no answer"
        while time.monotonic() < deadline:
            for service, process in self.processes.items():
                if process.poll() is not None:
                    raise StackError(
                        f"{service} exited with code {process.returncode}:\n"
                        f"{tail(self.log_dir / f'{service}.log')}"
                    )
            try:
                response = self.health()
                if response.status_code == 200:
                    return
                last = response.text
            except httpx.HTTPError as exc:
                last = repr(exc)
            time.sleep(0.5)
        raise StackError(f"not healthy after {self.config.startup_timeout:.0f} s: {last}")

    # --- stop ------------------------------------------------------------------
    def stop(self, grace: float = 15.0) -> None:
        """SIGTERM every service (they drain in-flight calls), then kill leftovers."""
        for process in self.processes.values():
            if process.poll() is None:
                _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            # Whatever is left in the group (e.g. pool workers) goes too.
            _signal_group(process, signal.SIGKILL)
            if process.poll() is None:
                process.wait()
        self.processes.clear()
        if self._redis is not None:
            self._redis.stop()
            self._redis = None
        if self._postgres is not None:
            self._postgres.stop()
            self._postgres = None
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None


@contextmanager
def temporary_stack(
    env: dict[str, str] | None = None,
    *,
    database_url: str | None = None,
    redis_url: str | None = None,
) -> Iterator[Stack]:
    """The whole system on free ports, its data in a throwaway folder, for tests and
    benchmarks. ``env`` adds settings (e.g. worker counts) to every service."""
    # Run as root, pgserver starts PostgreSQL as an unprivileged user: it must enter here.
    with tempfile.TemporaryDirectory(prefix="findme-stack-") as tmp:
        Path(tmp).chmod(0o755)
        config = StackConfig(
            data_dir=Path(tmp),
            gateway_port=None,
            database_url=database_url,
            redis_url=redis_url,
            env=dict(env or {}),
        )
        stack = Stack(config).start()
        try:
            yield stack
        finally:
            stack.stop()


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return f"(no log at {path})"
