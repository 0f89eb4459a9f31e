"""``python -m findme_gateway``: serve the API with uvicorn."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import uvicorn
from findme_common.logging import configure_logging
from findme_common.settings import load_settings

from findme_gateway.config import GatewaySettings

# prometheus_client's multiprocess mode (findme_common.metrics.MULTIPROCESS_ENV); set
# here by name so prometheus_client is not imported before it is set.
_MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"


def metrics_directory(settings: GatewaySettings) -> tuple[Path, bool]:
    """An empty folder for the workers' metrics files, and whether it is ours to remove.
    Emptied at every start: counters begin again at zero, as they would in one process."""
    if not settings.metrics_dir:
        return Path(tempfile.mkdtemp(prefix="findme-gateway-metrics-")), True
    directory = Path(settings.metrics_dir)
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    return directory, False


def main() -> None:
    # Fail fast here, in the parent, with a readable message; workers reload them.
    settings = load_settings(GatewaySettings)
    configure_logging("gateway", settings.log_level)
    # Before any worker imports prometheus_client: every worker writes its metrics to
    # this folder and /metrics adds them up.
    directory, temporary = metrics_directory(settings)
    os.environ[_MULTIPROCESS_ENV] = str(directory)
    try:
        serve(settings)
    finally:
        if temporary:
            shutil.rmtree(directory, ignore_errors=True)


def serve(settings: GatewaySettings) -> None:
    uvicorn.run(
        "findme_gateway.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        loop="uvloop",
        http="httptools",
        # X-Forwarded-For is handled in the app, and only from trusted_proxies.
        proxy_headers=False,
        server_header=False,
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=int(settings.shutdown_grace),
        backlog=2048,
    )


if __name__ == "__main__":
    main()
