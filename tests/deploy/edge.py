"""nginx (deploy/nginx/nginx.conf) and real gateway processes on loopback, for the
nginx tests. nginx runs the shipped configuration with only what a test machine needs
changed: its listen address, the DNS server it asks for "gateway" (tests/deploy/dns.py
instead of Docker's), the gateway port, and where its files and logs go."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .deployfiles import NGINX_FILE


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_port(port: int, process: subprocess.Popen[bytes], host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, f"exited with {process.returncode}"
        with contextlib.suppress(OSError), socket.create_connection((host, port), 0.2):
            return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {host}:{port}")


def local_config(
    directory: Path,
    *,
    listen_port: int,
    dns_port: int,
    gateway_port: int,
    load_balancers: tuple[str, ...] = (),
) -> Path:
    """The shipped nginx.conf, runnable here; its access log is ``access.log``."""
    # Runtime paths into the test's folder (the image's /tmp is the container's own).
    config = NGINX_FILE.read_text().replace("/tmp/", f"{directory}/")
    replacements = [
        (r"listen 80 default_server;", f"listen 127.0.0.1:{listen_port} default_server;"),
        (r"resolver 127\.0\.0\.11 ", f"resolver 127.0.0.1:{dns_port} "),
        (r"valid=\d+s", "valid=1s"),
        (r"set \$gateway http://gateway:\d+;", f"set $gateway http://gateway:{gateway_port};"),
        (r"include /etc/nginx/load-balancer\.conf;", f"include {directory}/load-balancer.conf;"),
        (r"access_log /dev/stdout main;", f"access_log {directory}/access.log main;"),
    ]
    for pattern, replacement in replacements:
        config, count = re.subn(pattern, replacement, config)
        assert count == 1, pattern
    lines = "".join(f"set_real_ip_from {address};\n" for address in load_balancers)
    (directory / "load-balancer.conf").write_text(lines)
    path = directory / "nginx.conf"
    path.write_text(config)
    return path


def start_nginx(binary: str, config: Path) -> subprocess.Popen[bytes]:
    directory = config.parent
    with (directory / "error.log").open("wb") as errors:
        return subprocess.Popen(
            [binary, "-c", str(config), "-p", str(directory), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )


def stop_nginx(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGQUIT)
    process.wait(timeout=20)


def public_key_pem() -> str:
    key = Ed25519PrivateKey.generate().public_key()
    return key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


@dataclass
class Gateway:
    host: str
    port: int
    log: Path
    process: subprocess.Popen[bytes]

    def requests_logged(self, path: str) -> int:
        """Requests for ``path`` in this gateway's own access log."""
        text = self.log.read_text(errors="replace")
        return len(re.findall(rf'"message": "request".*?"path": "{re.escape(path)}"', text))

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def start_gateway(host: str, port: int, log_dir: Path, env: dict[str, str]) -> Gateway:
    """The real gateway on ``host:port``; its backends are closed ports."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("FINDME_")}
    full.update(
        {
            "PYTHONUNBUFFERED": "1",
            "FINDME_GATEWAY_HOST": host,
            "FINDME_GATEWAY_PORT": str(port),
            "FINDME_GATEWAY_TOKEN_PUBLIC_KEY": public_key_pem(),
            "FINDME_GATEWAY_AUTH_PORT": str(free_port()),
            "FINDME_GATEWAY_EVENTS_PORT": str(free_port()),
            "FINDME_GATEWAY_SELFIE_PORT": str(free_port()),
            **env,
        }
    )
    log = log_dir / f"gateway-{host}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "findme_gateway"],
            env=full,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    gateway = Gateway(host, port, log, process)
    try:
        wait_port(port, process, host)
    except BaseException:
        gateway.stop()
        raise
    return gateway
