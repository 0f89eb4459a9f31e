"""`make run`: the whole system on this machine, until Ctrl-C.

DATABASE_URL / REDIS_URL use external servers instead of the embedded ones;
FINDME_DATA_DIR moves the data folder (default ./.data); FINDME_GATEWAY_PORT
moves the public port (default 8000; 0 takes any free port). A part that dies is
restarted with back-off (``findme_devstack.supervisor``); Ctrl-C stops everything.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from pathlib import Path

from findme_devstack.stack import Stack, StackConfig, StackError
from findme_devstack.supervisor import Supervisor

# Seconds between two looks at the running parts.
CHECK_INTERVAL = 0.25


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    for noisy in ("pgserver", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    data_dir = Path(os.environ.get("FINDME_DATA_DIR", ".data")).resolve()
    config = StackConfig(
        data_dir=data_dir,
        gateway_port=int(os.environ.get("FINDME_GATEWAY_PORT", "8000")),
        database_url=os.environ.get("DATABASE_URL") or None,
        redis_url=os.environ.get("REDIS_URL") or None,
        # The interactive API docs load Swagger UI from a CDN: on for local runs only.
        env={"FINDME_GATEWAY_API_DOCS": os.environ.get("FINDME_GATEWAY_API_DOCS", "true")},
    )
    stack = Stack(config)
    # Ctrl-C works even when a parent started us with SIGINT ignored (e.g. a
    # background job of a non-interactive shell); SIGTERM stops the same way.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    print(f"findme: starting (data in {data_dir}, logs in {stack.log_dir}) ...", flush=True)
    started = time.monotonic()
    try:
        stack.start()
    except StackError as exc:
        print(f"findme: failed to start: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    print(
        f"findme: ready in {time.monotonic() - started:.0f} s\n"
        f"  web:     {stack.url}/\n"
        f"  health:  {stack.url}/health\n"
        f"  organizer page: {stack.url}/organizer\n"
        "Press Ctrl-C to stop.",
        flush=True,
    )
    supervisor = Supervisor(stack)
    try:
        while True:
            supervisor.check()
            time.sleep(CHECK_INTERVAL)
    except KeyboardInterrupt:
        print("\nfindme: stopping ...", flush=True)
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stack.stop()
        print("findme: stopped", flush=True)


if __name__ == "__main__":
    sys.exit(main())
