"""Statement names, statement timing and the slow-statement log on a real database."""

from __future__ import annotations

import logging

import pytest
from findme_events.config import EventsSettings
from findme_events.database import create_engine
from findme_events.metrics import statement_name
from prometheus_client import REGISTRY
from sqlalchemy import text


def test_statement_names_are_verb_table_and_fingerprint_without_parameters() -> None:
    select = statement_name("SELECT events.id, events.code FROM events WHERE events.code = $1")
    assert select.startswith("select events ") and len(select.split()) == 3
    assert statement_name("INSERT INTO photos (event_id) VALUES ($1)").startswith("insert photos ")
    assert statement_name("UPDATE photos SET status=$1 WHERE photos.id = $2").startswith(
        "update photos "
    )
    assert statement_name("DELETE FROM matches WHERE matches.id = $1").startswith("delete matches ")
    cte = "WITH picked AS (SELECT id FROM faces) UPDATE matches SET x = 1"
    assert statement_name(cte).startswith("update matches ")
    # Same text, same name; another text on the same table, another fingerprint.
    assert select == statement_name(
        "SELECT events.id, events.code FROM events WHERE events.code = $1"
    )
    assert select != statement_name("SELECT events.name FROM events WHERE events.id = $1")


async def test_statements_are_timed_and_slow_ones_counted_and_logged(
    settings: EventsSettings, caplog: pytest.LogCaptureFixture
) -> None:
    slow_settings = settings.model_copy(update={"slow_statement_seconds": 0.05})
    engine = create_engine(slow_settings, application_name="metrics-test")
    sql = "SELECT pg_sleep(0.06) -- metrics test"
    name = statement_name(sql)
    try:
        with caplog.at_level(logging.WARNING, logger="findme_events.metrics"):
            async with engine.connect() as conn:
                await conn.execute(text(sql))
                await conn.execute(text("SELECT 1"))
            in_use = REGISTRY.get_sample_value("findme_db_pool_connections", {"state": "in_use"})
    finally:
        await engine.dispose()
    labels = {"statement": name}
    assert REGISTRY.get_sample_value("findme_db_statement_seconds_count", labels) == 1
    assert REGISTRY.get_sample_value("findme_db_slow_statements_total", labels) == 1
    assert (
        REGISTRY.get_sample_value(
            "findme_db_slow_statements_total", {"statement": statement_name("SELECT 1")}
        )
        is None
    )
    slow = [r for r in caplog.records if r.getMessage() == "slow statement"]
    assert [r.__dict__["statement"] for r in slow] == [name]
    assert in_use == 0  # the connection went back to the pool
