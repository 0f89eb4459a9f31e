"""Metrics of the events service and its photo worker (the shared RPC, pool and Redis
metrics come from findme_common): the event-code cache by layer, the database pool,
every SQL statement's time by name with a slow-statement counter and log line,
component health, the photo queue and matches written.

A statement's name is its verb, its first table and a short fingerprint of its text
(``select events 3fa2c1``): stable across calls, bounded in number (the service's
own statements), and free of parameters, which never leave the database driver.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from functools import lru_cache
from typing import Any, Final

from findme_common.metrics import LATENCY_BUCKETS
from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

log = logging.getLogger(__name__)

CACHE_LOOKUPS: Final = Counter(
    "findme_event_cache_lookups_total",
    "Event-code lookups by cache layer (local, redis) and result (hit, miss); "
    "database loads are layer=database, result=load.",
    ["layer", "result"],
)
DB_POOL: Final = Gauge(
    "findme_db_pool_connections",
    "Database connections of this process by state: in_use, idle, overflow (beyond "
    "the pool size), and size (the configured pool size).",
    ["state"],
)
STATEMENT_SECONDS: Final = Histogram(
    "findme_db_statement_seconds",
    "Time of one SQL statement, by statement name (verb, table, fingerprint).",
    ["statement"],
    buckets=LATENCY_BUCKETS,
)
SLOW_STATEMENTS: Final = Counter(
    "findme_db_slow_statements_total",
    "Statements slower than slow_statement_seconds, by statement name.",
    ["statement"],
)
COMPONENT_UP: Final = Gauge(
    "findme_component_up",
    "1 while a component the service depends on answers its health probe (database, cache).",
    ["component"],
)
MATCHES_WRITTEN: Final = Counter(
    "findme_matches_written_total",
    "Matches written, by what triggered them (selfie, photo).",
    ["source"],
)
PHOTO_QUEUE: Final = Gauge(
    "findme_photo_queue_photos",
    "Photos waiting (pending) or being analysed (processing), all events together.",
    ["status"],
)
OLDEST_PENDING: Final = Gauge(
    "findme_photo_queue_oldest_pending_seconds",
    "Age of the oldest pending photo (0 when none waits).",
)
PHOTOS_PROCESSED: Final = Counter(
    "findme_photos_processed_total",
    "Photos a worker finished, by outcome: done, failed, retry (back in the queue), "
    "lost (the claim expired meanwhile).",
    ["outcome"],
)
PHOTO_SECONDS: Final = Histogram(
    "findme_photo_processing_seconds",
    "Time from claim to outcome of one photo in a worker.",
    buckets=LATENCY_BUCKETS,
)

_VERB = re.compile(r"^\s*(\w+)")
_TABLE = {
    "select": re.compile(r"\bFROM\s+\"?(\w+)", re.IGNORECASE),
    "insert": re.compile(r"\bINSERT\s+INTO\s+\"?(\w+)", re.IGNORECASE),
    "update": re.compile(r"\bUPDATE\s+\"?(\w+)", re.IGNORECASE),
    "delete": re.compile(r"\bDELETE\s+FROM\s+\"?(\w+)", re.IGNORECASE),
}
_MAIN_VERB = re.compile(r"\)\s*(SELECT|INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


@lru_cache(maxsize=1024)
def statement_name(sql: str) -> str:
    """``verb table fingerprint`` for a SQL text (parameters are placeholders in it)."""
    found = _VERB.match(sql)
    verb = found.group(1).lower() if found else "statement"
    if verb == "with":
        main = _MAIN_VERB.search(sql)
        verb = main.group(1).lower() if main else "with"
    pattern = _TABLE.get(verb)
    table = pattern.search(sql) if pattern else None
    fingerprint = hashlib.blake2b(sql.encode(), digest_size=3).hexdigest()
    return " ".join(part for part in (verb, table.group(1) if table else "", fingerprint) if part)


def instrument_engine(engine: AsyncEngine, *, slow_seconds: float) -> None:
    """Time every statement of ``engine`` and report its pool."""
    sync_engine = engine.sync_engine
    pool = sync_engine.pool
    if isinstance(pool, QueuePool):
        DB_POOL.labels("in_use").set_function(pool.checkedout)
        DB_POOL.labels("idle").set_function(pool.checkedin)
        DB_POOL.labels("overflow").set_function(lambda: max(0, pool.overflow()))
        DB_POOL.labels("size").set_function(pool.size)

    @event.listens_for(sync_engine, "before_cursor_execute")
    def _started(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        conn.info.setdefault("findme_started", []).append(time.perf_counter())

    @event.listens_for(sync_engine, "after_cursor_execute")
    def _finished(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        started = conn.info["findme_started"].pop()
        seconds = time.perf_counter() - started
        name = statement_name(statement)
        STATEMENT_SECONDS.labels(name).observe(seconds)
        if seconds >= slow_seconds:
            SLOW_STATEMENTS.labels(name).inc()
            log.warning("slow statement", extra={"statement": name, "ms": round(seconds * 1000)})

    @event.listens_for(sync_engine, "handle_error")
    def _failed(context: Any) -> None:
        # A failed statement never reaches after_cursor_execute.
        stack = context.connection.info.get("findme_started") if context.connection else None
        if stack:
            stack.pop()
