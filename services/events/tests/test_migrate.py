"""The real migration entry point against real PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from findme_events.config import async_database_url
from findme_events.migrate import MIGRATIONS_DIR, alembic_config
from findme_events.models import Base
from sqlalchemy import text
from sqlalchemy.engine import Connection
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
    # The one head of the migrations folder (whatever its number).
    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    assert head is not None
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


async def test_existing_selfies_become_references_with_their_pairs(
    fresh_database_url: str,
) -> None:
    """Data from before the maybe tier: every selfie becomes a reference, paired with
    the faces of its event within the maybe bound; matches stay."""
    config = alembic_config(fresh_database_url)
    engine = create_async_engine(async_database_url(fresh_database_url))
    try:
        async with engine.connect() as conn:
            await conn.run_sync(lambda sync: _upgrade(config, sync, "0002"))
            await conn.commit()
            for statement in BEFORE_REFERENCES:
                await conn.execute(text(statement))
            await conn.commit()
            await conn.run_sync(lambda sync: _upgrade(config, sync, "heads"))
            await conn.commit()
            references = (
                await conn.execute(text("SELECT attendee_id, selfie_id FROM face_references"))
            ).all()
            pairs = (
                await conn.execute(
                    text("SELECT face_id, round(distance::numeric, 2)::float FROM nearby_faces")
                )
            ).all()
            maybe = (await conn.execute(text("SELECT maybe_tolerance FROM events"))).scalar()
            matches = (await conn.execute(text("SELECT count(*) FROM matches"))).scalar()
    finally:
        await engine.dispose()
    assert references == [(1, 1)]
    # Faces at 0.3 and 0.52 are within 0.55 of the selfie, 0.9 is not.
    assert sorted(pairs) == [(1, 0.3), (2, 0.52)]
    assert maybe == 0.55 and matches == 1


def _upgrade(config: Config, connection: Connection, revision: str) -> None:
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def _vector(first: float) -> str:
    return "'[" + ",".join([str(first)] + ["0"] * 127) + "]'"


BEFORE_REFERENCES = [
    "INSERT INTO organizers (email, password_hash) VALUES ('o@example.com', 'h')",
    "INSERT INTO events (organizer_id, name, code, match_tolerance, retention_days) "
    "VALUES (1, 'Old', 'ABCDEFGH', 0.5, 30)",
    "INSERT INTO attendees (event_id, username, username_key, password_hash) "
    "VALUES (1, 'ann', 'ann', 'h')",
    "INSERT INTO selfies (attendee_id, jpeg, encoding, face_top, face_right, face_bottom, "
    f"face_left, stored_bytes, consented_at) VALUES (1, '\\x00', {_vector(0)}, 0, 1, 1, 0, 1, "
    "now())",
    "INSERT INTO photos (event_id, status, storage_key, content_hash) VALUES (1, 'done', 'k', 'c')",
    *(
        'INSERT INTO faces (photo_id, event_id, top, "right", bottom, "left", encoding) '
        f"VALUES (1, 1, 0, 1, 1, 0, {_vector(x)})"
        for x in (0.3, 0.52, 0.9)
    ),
    "INSERT INTO matches (attendee_id, photo_id, face_id, distance) VALUES (1, 1, 1, 0.3)",
]


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
