"""``python -m findme_events.migrate``: wait for the database, then ``alembic upgrade head``.

The Alembic environment lives inside the package, so this works from any directory
and inside an installed wheel.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.util import CommandError
from sqlalchemy import pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from findme_events.config import async_database_url, get_settings

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Passed as an attribute, not an ini option: ini values treat '%' specially.
    config.attributes["database_url"] = async_database_url(database_url)
    return config


async def wait_for_database(engine: AsyncEngine, *, patience: float = 30.0) -> None:
    """Return once ``SELECT 1`` succeeds; raise the last error after ``patience`` seconds."""
    deadline = time.monotonic() + patience
    while True:
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            return
        except (OSError, SQLAlchemyError):
            if time.monotonic() >= deadline:
                raise
            await asyncio.sleep(0.5)


def _upgrade_on(connection: Connection, config: Config, revision: str) -> None:
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def upgrade(database_url: str, *, revision: str = "head", wait: float = 30.0) -> None:
    """Apply migrations up to ``revision``; safe to call from a running event loop."""
    config = alembic_config(database_url)
    engine = create_async_engine(config.attributes["database_url"], poolclass=pool.NullPool)
    try:
        await wait_for_database(engine, patience=wait)
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade_on, config, revision)
    finally:
        await engine.dispose()


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    try:
        asyncio.run(upgrade(settings.database_url, wait=settings.migrate_wait))
    except (OSError, SQLAlchemyError, CommandError) as exc:
        sys.stderr.write(f"findme_events.migrate: migration failed: {exc}\n")
        return 1
    log.info("database schema is at head")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
