"""``python -m findme_photo_worker.probe``: the photo worker's container health check.

The worker listens on no port, so it proves it is alive by touching its heartbeat
file (``FINDME_WORKER_HEARTBEAT_FILE``) whenever a claim loop turns. Exit 0 when the
file is younger than ``FINDME_WORKER_HEARTBEAT_MAX_AGE`` seconds, 1 otherwise (a hung
or dead worker), 2 when no heartbeat file is configured.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from findme_common.settings import load_settings

from findme_photo_worker.config import WorkerSettings


def heartbeat_age(path: Path, now: float | None = None) -> float | None:
    """Seconds since ``path`` was last touched; None when it does not exist."""
    try:
        touched = path.stat().st_mtime
    except OSError:
        return None
    return (time.time() if now is None else now) - touched


def main() -> int:
    settings = load_settings(WorkerSettings)
    if settings.heartbeat_file is None:
        print("FINDME_WORKER_HEARTBEAT_FILE is not set", file=sys.stderr)
        return 2
    age = heartbeat_age(settings.heartbeat_file)
    if age is None:
        print(f"no heartbeat at {settings.heartbeat_file}", file=sys.stderr)
        return 1
    if age > settings.heartbeat_max_age:
        print(f"last heartbeat {age:.0f} s ago", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
