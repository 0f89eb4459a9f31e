"""``python -m findme_photo_worker``: run the photo worker until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio

from findme_common.logging import configure_logging

from findme_photo_worker.config import get_settings
from findme_photo_worker.worker import serve


def main() -> None:
    settings = get_settings()
    configure_logging("worker", settings.log_level)
    asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
