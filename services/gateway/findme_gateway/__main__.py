"""``python -m findme_gateway``: serve the API with uvicorn."""

from __future__ import annotations

import uvicorn
from findme_common.logging import configure_logging
from findme_common.settings import load_settings

from findme_gateway.config import GatewaySettings


def main() -> None:
    # Fail fast here, in the parent, with a readable message; workers reload them.
    settings = load_settings(GatewaySettings)
    configure_logging("gateway", settings.log_level)
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
