"""`make run`'s launcher: prints the URL, serves, and Ctrl-C leaves no process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psutil
from findme_devstack.embedded import free_port


def test_launcher_prints_url_and_ctrl_c_stops_every_process(
    server_data_dir: Callable[[str], Path],
) -> None:
    tmp_path = server_data_dir("make-run")
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FINDME_")},
        "FINDME_DATA_DIR": str(tmp_path / "data"),
        "FINDME_GATEWAY_PORT": str(port),
        "FINDME_SELFIE_WORKERS": "1",
        "FINDME_AUTH_WORKERS": "1",
    }
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    launcher = subprocess.Popen(
        [sys.executable, "-m", "findme_devstack"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert launcher.stdout is not None
    output: list[str] = []
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline:
            line = launcher.stdout.readline()
            if not line:
                break
            output.append(line)
            if "Press Ctrl-C" in line:
                break
        text = "".join(output)
        assert f"http://127.0.0.1:{port}/" in text, text

        health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=10)
        assert health.status_code == 200, health.text

        started = psutil.Process(launcher.pid).children(recursive=True)
        data_dir = str(tmp_path / "data")
        started += [
            p
            for p in psutil.process_iter(["cmdline"])
            if data_dir in " ".join(p.info["cmdline"] or [])
        ]
        assert len({p.pid for p in started}) >= 6  # 4 services, postgres, redis (and workers)

        launcher.send_signal(signal.SIGINT)
        launcher.wait(timeout=60)
        rest = launcher.stdout.read()
        assert "findme: stopped" in rest, rest
        time.sleep(0.5)
        alive = [p for p in started if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        assert not alive, [(p.pid, p.cmdline()) for p in alive]
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()
        launcher.stdout.close()
