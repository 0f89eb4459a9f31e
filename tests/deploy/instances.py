"""Service instances as real processes on chosen loopback addresses, for the
multi-instance tests: each one is ``python -m findme_<service>`` with its own log."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def shared_free_port(hosts: tuple[str, ...]) -> int:
    """A port free on every one of ``hosts`` at once (instances share one port)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind((hosts[0], 0))
            port = int(probe.getsockname()[1])
        if all(_free(host, port) for host in hosts[1:]):
            return port
    raise RuntimeError(f"no port free on all of {hosts}")


def _free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
        return True


@dataclass
class Instance:
    service: str
    host: str
    port: int
    log_path: Path
    process: subprocess.Popen[bytes]

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def finished_calls(self, method: str) -> int:
        """Calls of ``method`` this instance completed, from its own JSON log
        (the server bootstrap logs "rpc finished" at DEBUG for every call)."""
        count = 0
        for line in self.log_path.read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                entry = json.loads(line)
                if entry.get("message") == "rpc finished" and entry.get("method") == method:
                    count += 1
        return count

    def kill(self) -> None:
        """SIGKILL, no drain: the instance vanishes mid-call, as on a crash or lost host."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)


def start_instance(
    service: str, host: str, port: int, env: dict[str, str], log_dir: Path
) -> Instance:
    prefix = f"FINDME_{service.upper()}_"
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("FINDME_")}
    full_env.update(env)
    full_env.update(
        {
            "PYTHONUNBUFFERED": "1",
            prefix + "HOST": host,
            prefix + "PORT": str(port),
            prefix + "LOG_LEVEL": "DEBUG",
        }
    )
    log_path = log_dir / f"{service}-{host}.log"
    with log_path.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", f"findme_{service}"],
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    return Instance(service, host, port, log_path, process)


def wait_serving(instance: Instance, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(instance.address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            if instance.process.poll() is not None:
                raise RuntimeError(
                    f"{instance.service}@{instance.host} exited:\n"
                    + instance.log_path.read_text(errors="replace")[-3000:]
                )
            with contextlib.suppress(grpc.RpcError):
                reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            time.sleep(0.2)
    raise RuntimeError(f"{instance.service}@{instance.host} not serving after {timeout} s")
