"""What each container really runs: the image's ENTRYPOINT + CMD, the CMD replaced by
Render's dockerCommand or preDeployCommand, started with the environment Render gives
the service. Each must start the intended module with the intended settings.

The images have no ENTRYPOINT: with one (``python -m findme_events``), Render's
preDeployCommand would arrive as its arguments and start the events server instead
of migrating, and a shell wrapper in dockerCommand would never run.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from .deployfiles import (
    RENDER_NAME,
    RENDER_RUNS,
    discovery_host,
    entered_token_keys,
    image,
    module_of,
    render_environment,
    render_services,
    settings_from,
)

ENTERED = entered_token_keys()
BACKEND_PORTS = {"auth": 50051, "events": 50052, "selfie": 50053}


def render_command(name: str, field: str = "dockerCommand") -> list[str]:
    service = render_services()[name]
    override = service.get(field)
    if override is not None:
        # Plain words only: Render may split the command on spaces or hand it to a
        # shell, and both must give the same command line.
        assert override.split() == override.split(" "), override
        assert not set(override) & set("'\"$;&|<>`\\"), override
    return image(RENDER_RUNS[name]).effective_command(override)


@pytest.mark.parametrize("name", sorted(RENDER_RUNS))
def test_render_starts_the_intended_module(name: str) -> None:
    assert render_command(name) == ["python", "-m", module_of(RENDER_RUNS[name])]


def test_render_pre_deploy_runs_the_migrations() -> None:
    assert render_command("findme-events", "preDeployCommand") == [
        "python",
        "-m",
        "findme_events.migrate",
    ]


def _settings(name: str) -> Any:
    service = render_services()[name]
    return settings_from(RENDER_RUNS[name], render_environment(service, ENTERED))


def test_the_gateway_reaches_every_instance_of_each_backend() -> None:
    settings = _settings("findme-gateway")
    for backend, port in BACKEND_PORTS.items():
        expected = f"dns:///{discovery_host(RENDER_NAME[backend])}:{port}"
        assert getattr(settings, f"{backend}_target") == expected
    assert (settings.host, settings.port) == ("0.0.0.0", 8000)
    assert settings.trusted_proxies  # Render's proxies and Cloudflare (test_client_address)


def test_the_photo_worker_reaches_every_selfie_instance() -> None:
    settings = _settings("findme-photo-worker")
    assert settings.selfie_target == f"dns:///{discovery_host('findme-selfie')}:50053"
    assert settings.database_url.startswith("postgresql+asyncpg://")


@pytest.mark.parametrize("name", ["findme-auth", "findme-events", "findme-selfie"])
def test_private_services_listen_on_their_port_on_every_interface(name: str) -> None:
    settings = _settings(name)
    assert (settings.host, settings.port) == ("0.0.0.0", BACKEND_PORTS[RENDER_RUNS[name]])


# --- the commands, run for real -------------------------------------------------------


def _run_env(env: dict[str, str]) -> dict[str, str]:
    """This machine's environment without its FINDME_* settings, plus ``env``; the
    command's leading ``python`` is this interpreter."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("FINDME_")}
    return {**base, **env, "PYTHONUNBUFFERED": "1"}


def _local(command: list[str]) -> list[str]:
    assert command[0] == "python"
    return [sys.executable, *command[1:]]


def test_the_pre_deploy_command_migrates_the_database(fresh_database_url: str) -> None:
    env = render_environment(render_services()["findme-events"], ENTERED)
    env["FINDME_EVENTS_DATABASE_URL"] = fresh_database_url
    result = subprocess.run(
        _local(render_command("findme-events", "preDeployCommand")),
        env=_run_env(env),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr

    async def schema() -> tuple[str, int]:
        conn = await asyncpg.connect(fresh_database_url)
        try:
            version = await conn.fetchval("SELECT version_num FROM alembic_version")
            photos = await conn.fetchval(
                "SELECT count(*) FROM pg_tables WHERE tablename = 'photos'"
            )
            return str(version), int(photos)
        finally:
            await conn.close()

    version, photos = asyncio.run(schema())
    assert version and photos == 1


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _log_entry(log: Path, message: str, process: subprocess.Popen[bytes]) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for line in log.read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                entry = json.loads(line)
                if entry.get("message") == message:
                    return dict(entry)
        assert process.poll() is None, log.read_text(errors="replace")[-3000:]
        time.sleep(0.2)
    raise AssertionError(f"no {message!r} in {log}:\n{log.read_text(errors='replace')[-3000:]}")


def test_the_gateway_starts_with_the_backends_render_gives_it(
    redis_url: str, tmp_path: Path
) -> None:
    env = render_environment(render_services()["findme-gateway"], ENTERED)
    # Only what this machine needs: a free port (not Render's 8000, which may be in use
    # here), loopback, and the test Redis. The backend host names stay Render's.
    port = str(_free_port())
    env.update(
        {
            "PORT": port,
            "FINDME_GATEWAY_PORT": port,
            "FINDME_GATEWAY_HOST": "127.0.0.1",
            "FINDME_GATEWAY_WORKERS": "1",
            "FINDME_GATEWAY_REDIS_URL": redis_url,
        }
    )
    log = tmp_path / "gateway.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            _local(render_command("findme-gateway")),
            env=_run_env(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        ready = _log_entry(log, "gateway ready", process)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    for backend, backend_port in BACKEND_PORTS.items():
        assert ready[backend] == f"dns:///{discovery_host(RENDER_NAME[backend])}:{backend_port}"
