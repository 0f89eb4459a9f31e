"""What a database failure means to a caller, with real PostgreSQL failures."""

from __future__ import annotations

import pytest
from findme_common.refusals import Reason
from findme_events.database import refusal_for
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


async def test_a_connection_the_server_ended_is_database_unavailable(engine: AsyncEngine) -> None:
    # What a PostgreSQL that shuts down, crashes or restarts does to open connections.
    async with engine.connect() as victim:
        pid = (await victim.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        async with engine.connect() as admin:
            await admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with pytest.raises(sa_exc.DBAPIError) as failed:
            await victim.execute(text("SELECT 1"))
    refusal = refusal_for(failed.value)
    assert refusal is not None
    assert refusal.reason is Reason.DATABASE_UNAVAILABLE


@pytest.mark.parametrize(
    "sqlstate",
    ["57P03", "57P01", "08006"],
    ids=["starting_up", "admin_shutdown", "connection_failure"],
)
async def test_server_errors_of_a_restarting_database_are_database_unavailable(
    engine: AsyncEngine, sqlstate: str
) -> None:
    # What PostgreSQL answers while it restarts ("the database system is starting
    # up"...), raised with the same SQLSTATE: asyncpg's server errors reach SQLAlchemy
    # as a plain DBAPIError, not an OperationalError.
    async with engine.connect() as conn:
        with pytest.raises(sa_exc.DBAPIError) as failed:
            await conn.execute(
                text(
                    f"DO $$ BEGIN RAISE EXCEPTION 'restarting' USING ERRCODE = '{sqlstate}'; END $$"
                )
            )
    refusal = refusal_for(failed.value)
    assert refusal is not None
    assert refusal.reason is Reason.DATABASE_UNAVAILABLE


async def test_a_bad_statement_is_not_an_outage(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        with pytest.raises(sa_exc.DBAPIError) as failed:
            await conn.execute(text("SELECT 1/0"))
    assert refusal_for(failed.value) is None
