"""The whole system as local processes: embedded (or external) PostgreSQL and Redis,
migrations, then auth, events, selfie and the gateway, health-gated.

`make run` and the integration tests both boot the system through ``Stack``.
"""

from __future__ import annotations

import contextlib
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
# Each service's Prometheus metrics port under `make run` (its settings' default).
METRICS_PORTS = {"auth": 9101, "events": 9102, "selfie": 9103, "worker": 9104}
# Where the stack records its addresses in the data folder, for findme-admin.
STACK_FILE = "stack.json"
# The photo worker ships with the events service but is a package of its own.
MODULES = {"worker": "findme_photo_worker"}


class StackError(RuntimeError):
    """The system could not be started; the message says which part and why."""


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def pick_port(preferred: int | None) -> int:
    """``preferred`` when it is free, else any free loopback port."""
    if preferred and port_is_free(preferred):
        return preferred
    return free_port()


@dataclass
class StackConfig:
    data_dir: Path
    gateway_port: int | None = 8000
    auth_port: int | None = 50051
    events_port: int | None = 50052
    selfie_port: int | None = 50053
    # External servers; None means the embedded ones under data_dir.
    database_url: str | None = None
    redis_url: str | None = None
    # Extra environment for every service (e.g. worker counts).
    env: dict[str, str] = field(default_factory=dict)
    startup_timeout: float = 240.0


@dataclass
class Stack:
    config: StackConfig
    ports: dict[str, int] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    database_url: str = ""
    redis_url: str = ""
    _postgres: EmbeddedPostgres | None = None
    _redis: EmbeddedRedis | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports['gateway']}"

    @property
    def log_dir(self) -> Path:
        return self.config.data_dir / "logs"

    def target(self, service: str) -> str:
        return f"dns:///127.0.0.1:{self.ports[service]}"

    # --- start -----------------------------------------------------------------
    def start(self) -> Stack:
        try:
            self._start_stores()
            self._pick_ports()
            self._record_addresses()
            self._migrate()
            for service in SERVICES:
                self._spawn(service)
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

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

    def _pick_ports(self) -> None:
        cfg = self.config
        preferred = {
            "gateway": cfg.gateway_port,
            "auth": cfg.auth_port,
            "events": cfg.events_port,
            "selfie": cfg.selfie_port,
        }
        for service, port in preferred.items():
            self.ports[service] = pick_port(port)
            if port and self.ports[service] != port:
                log.warning("port %s busy, %s uses %s", port, service, self.ports[service])
        if cfg.gateway_port and self.ports["gateway"] != cfg.gateway_port:
            raise StackError(f"gateway port {cfg.gateway_port} is in use (set FINDME_GATEWAY_PORT)")
        for service, port in METRICS_PORTS.items():
            # Fixed ports (make run) get the usual metrics ports when free.
            self.ports[f"{service}_metrics"] = pick_port(port if cfg.auth_port else None)

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
        # addresses, ports and keys are the stack's own.
        env = dict(os.environ)
        env.update(
            {
                "FINDME_AUTH_PORT": str(self.ports["auth"]),
                "FINDME_AUTH_REDIS_URL": self.redis_url,
                "FINDME_AUTH_TOKEN_PRIVATE_KEY": private_key,
                "FINDME_EVENTS_PORT": str(self.ports["events"]),
                "FINDME_EVENTS_DATABASE_URL": self.database_url,
                "FINDME_EVENTS_REDIS_URL": self.redis_url,
                "FINDME_EVENTS_BLOB_DIR": str(self.config.data_dir / "blobs"),
                "FINDME_WORKER_DATABASE_URL": self.database_url,
                "FINDME_WORKER_SELFIE_TARGET": self.target("selfie"),
                "FINDME_WORKER_BLOB_DIR": str(self.config.data_dir / "blobs"),
                "FINDME_SELFIE_PORT": str(self.ports["selfie"]),
                "FINDME_GATEWAY_PORT": str(self.ports["gateway"]),
                "FINDME_GATEWAY_AUTH_TARGET": self.target("auth"),
                "FINDME_GATEWAY_EVENTS_TARGET": self.target("events"),
                "FINDME_GATEWAY_SELFIE_TARGET": self.target("selfie"),
                "FINDME_GATEWAY_REDIS_URL": self.redis_url,
                "FINDME_GATEWAY_TOKEN_PUBLIC_KEY": public_key,
            }
        )
        for service in METRICS_PORTS:
            prefix = "FINDME_" + service.upper()
            env[f"{prefix}_METRICS_PORT"] = str(self.ports[f"{service}_metrics"])
            env[f"FINDME_GATEWAY_{service.upper()}_METRICS_URL"] = self.metrics_url(service)
        env.update(self.config.env)
        return env

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

    def restart(self, service: str) -> None:
        """Start ``service`` again after it stopped (tests kill workers on purpose)."""
        process = self.processes.get(service)
        if process is not None and process.poll() is None:
            raise StackError(f"{service} is still running")
        self._spawn(service)

    def pids(self) -> dict[str, list[int]]:
        """Process ids of each running part: the services, and the stores when embedded."""
        parts = {name: [process.pid] for name, process in self.processes.items()}
        if self._postgres is not None:
            pid = self._postgres.server.get_pid()
            if pid:
                parts["postgres"] = [int(pid)]
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
            auth_port=None,
            events_port=None,
            selfie_port=None,
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
