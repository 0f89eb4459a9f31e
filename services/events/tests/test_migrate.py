"""The real migration entry point against real PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from findme_events.config import async_database_url
from findme_events.migrate import alembic_config
from findme_events.models import Base
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

SCHEMA_QUERY = text(
    "SELECT table_name, column_name, data_type FROM information_schema.columns "
    "WHERE table_schema = 'public' ORDER BY table_name, column_name"
)
INDEX_QUERY = text(
    "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname"
)


def run_migrate(database_url: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "findme_events.migrate"],
        env={**os.environ, "FINDME_EVENTS_DATABASE_URL": database_url, **env},
        cwd="/",  # the Alembic environment is found through the package, not the cwd
        capture_output=True,
        text=True,
        timeout=120,
    )


async def snapshot(database_url: str) -> tuple[list[tuple], list[tuple], list[tuple]]:
    engine = create_async_engine(async_database_url(database_url))
    try:
        async with engine.connect() as conn:
            columns = [tuple(row) for row in await conn.execute(SCHEMA_QUERY)]
            indexes = [tuple(row) for row in await conn.execute(INDEX_QUERY)]
            versions = [
                tuple(row) for row in await conn.execute(text("SELECT * FROM alembic_version"))
            ]
    finally:
        await engine.dispose()
    return columns, indexes, versions


async def test_migrate_twice_is_a_no_op(fresh_database_url: str) -> None:
    first = run_migrate(fresh_database_url)
    assert first.returncode == 0, first.stderr
    after_first = await snapshot(fresh_database_url)
    head = ScriptDirectory.from_config(alembic_config(fresh_database_url)).get_current_head()
    assert after_first[2] == [(head,)]
    assert {"organizers", "events", "attendees", "selfies", "photos", "faces", "matches"} <= {
        column[0] for column in after_first[0]
    }

    second = run_migrate(fresh_database_url)
    assert second.returncode == 0, second.stderr
    assert await snapshot(fresh_database_url) == after_first


async def test_migrations_match_the_models(database_url: str) -> None:
    engine = create_async_engine(async_database_url(database_url))
    try:
        async with engine.connect() as conn:
            differences = await conn.run_sync(
                lambda sync_conn: compare_metadata(
                    MigrationContext.configure(sync_conn, opts={"compare_type": True}),
                    Base.metadata,
                )
            )
    finally:
        await engine.dispose()
    assert differences == []


def test_unreachable_database_exits_non_zero_with_a_message(closed_port: int) -> None:
    url = f"postgresql://postgres@127.0.0.1:{closed_port}/findme"
    result = run_migrate(url, FINDME_EVENTS_MIGRATE_WAIT="1")
    assert result.returncode == 1
    assert "migration failed" in result.stderr


def test_missing_database_url_is_reported() -> None:
    env = {key: value for key, value in os.environ.items() if key != "FINDME_EVENTS_DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "-m", "findme_events.migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "FINDME_EVENTS_DATABASE_URL" in result.stderr
