"""``python -m findme_gateway``: serve the API with uvicorn.

The listening socket is bound here (SO_REUSEADDR, as uvicorn does), so a port of 0
binds a free one and the port bound is written to ``port_file`` for a launcher.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import uvicorn
from findme_common.logging import configure_logging
from findme_common.settings import announce_port, load_settings
from uvicorn.supervisors import Multiprocess

from findme_gateway.config import GatewaySettings
from findme_gateway.http_limits import HeadLimitedConfig

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


def uvicorn_config(settings: GatewaySettings) -> HeadLimitedConfig:
    return HeadLimitedConfig(
        "findme_gateway.app:create_app",
        # httptools, with limits on the request head (431 past them).
        max_header_bytes=settings.max_header_bytes,
        max_header_count=settings.max_header_count,
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        loop="uvloop",
        # X-Forwarded-For is handled in the app, and only from trusted_proxies.
        proxy_headers=False,
        server_header=False,
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=int(settings.shutdown_grace),
        backlog=2048,
    )


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
    config = uvicorn_config(settings)
    sock = config.bind_socket()
    announce_port(settings.port_file, int(sock.getsockname()[1]))
    if config.workers > 1:
        Multiprocess(config, sockets=[sock]).run()
    else:
        uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
