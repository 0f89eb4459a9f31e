"""The photo worker's container health check: its heartbeat file's age, read the way
compose runs it (``python -m findme_photo_worker.probe`` with the worker's env)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from findme_photo_worker.config import WorkerSettings
from findme_photo_worker.probe import heartbeat_age
from pydantic import ValidationError


def run_probe(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("FINDME_")}
    base["FINDME_WORKER_DATABASE_URL"] = "postgresql://u:p@127.0.0.1:1/findme"
    return subprocess.run(
        [sys.executable, "-m", "findme_photo_worker.probe"],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_a_fresh_heartbeat_is_healthy(tmp_path: Path) -> None:
    heartbeat = tmp_path / "hb"
    heartbeat.touch()

    assert run_probe({"FINDME_WORKER_HEARTBEAT_FILE": str(heartbeat)}).returncode == 0


def test_a_stale_heartbeat_is_unhealthy(tmp_path: Path) -> None:
    heartbeat = tmp_path / "hb"
    heartbeat.touch()
    old = time.time() - 300
    os.utime(heartbeat, (old, old))

    result = run_probe(
        {"FINDME_WORKER_HEARTBEAT_FILE": str(heartbeat), "FINDME_WORKER_HEARTBEAT_MAX_AGE": "120"}
    )

    assert result.returncode == 1
    assert "ago" in result.stderr


def test_a_missing_heartbeat_is_unhealthy(tmp_path: Path) -> None:
    result = run_probe({"FINDME_WORKER_HEARTBEAT_FILE": str(tmp_path / "never")})

    assert result.returncode == 1


def test_no_heartbeat_file_configured_is_a_configuration_error() -> None:
    assert run_probe({}).returncode == 2


def test_heartbeat_age(tmp_path: Path) -> None:
    heartbeat = tmp_path / "hb"
    heartbeat.touch()
    os.utime(heartbeat, (1000.0, 1000.0))

    assert heartbeat_age(heartbeat, now=1042.0) == pytest.approx(42.0)
    assert heartbeat_age(tmp_path / "none") is None


def test_the_heartbeat_must_outlast_one_photo(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="heartbeat_max_age"):
        WorkerSettings(
            database_url="postgresql://u:p@h/db",
            analyze_deadline=60,
            heartbeat_max_age=30,
            heartbeat_file=tmp_path / "beat",
        )
    # Without a heartbeat file there is nothing to outlast (a long poll is fine).
    quiet = WorkerSettings(database_url="postgresql://u:p@h/db", idle_poll=600)
    assert quiet.heartbeat_file is None
