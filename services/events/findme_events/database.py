"""The engine both the service and the photo worker open, and what a database
outage means to a caller."""

from __future__ import annotations

import logging

from findme_common import tracing
from findme_common.refusals import Reason, Refusal
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from findme_events import metrics
from findme_events.config import StoreSettings

log = logging.getLogger(__name__)

# Each photo worker's connections carry this name: the events service counts them to
# report whether any worker is running (health.photo_worker_probe).
WORKER_APPLICATION_NAME = "findme-photo-worker"


def create_engine(settings: StoreSettings, *, application_name: str) -> AsyncEngine:
    """The pooled engine; with metrics on, every statement timed and the pool reported
    (findme_events.metrics), and with tracing on, a span per statement."""
    engine = create_async_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
        pool_recycle=settings.db_pool_recycle,
        connect_args={"server_settings": {"application_name": application_name}},
    )
    if settings.metrics_enabled:
        metrics.instrument_engine(engine, slow_seconds=settings.slow_statement_seconds)
    tracing.instrument_engine(engine)
    return engine


def refusal_for(exc: Exception) -> Refusal | None:
    """The refusal a caller gets when the database, not the request, failed."""
    if isinstance(exc, sa_exc.TimeoutError):
        # Every pooled connection is busy: shed load rather than queue forever.
        return Refusal(Reason.OVERLOADED, "database pool exhausted", 1)
    if isinstance(exc, OSError | sa_exc.OperationalError | sa_exc.InterfaceError) or (
        isinstance(exc, sa_exc.DBAPIError) and _server_side(exc)
    ):
        log.warning("database unavailable", extra={"error": repr(exc)})
        return Refusal(Reason.DATABASE_UNAVAILABLE, "database unavailable")
    return None


# SQLSTATE classes where the server, not the statement, failed: 08 connection
# exception, 57 operator intervention (shut down, starting up, in crash recovery).
_SERVER_SIDE_CLASSES = ("08", "57")


def _server_side(exc: sa_exc.DBAPIError) -> bool:
    # asyncpg's server errors reach SQLAlchemy as a plain DBAPIError, not an
    # OperationalError: a restarting PostgreSQL must still read as "unavailable".
    sqlstate = str(getattr(exc.orig, "sqlstate", None) or "")
    return exc.connection_invalidated or sqlstate[:2] in _SERVER_SIDE_CLASSES
