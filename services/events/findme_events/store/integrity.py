"""Which constraint refused a write: the store modules translate it into a refusal."""

from __future__ import annotations

from typing import Final

from sqlalchemy.exc import IntegrityError

UNIQUE_VIOLATION: Final = "23505"
FOREIGN_KEY_VIOLATION: Final = "23503"
CHECK_VIOLATION: Final = "23514"


def violation(exc: IntegrityError) -> tuple[str | None, str | None]:
    """(sqlstate, constraint name) of an IntegrityError raised through asyncpg."""
    orig = exc.orig
    cause = getattr(orig, "__cause__", None)
    sqlstate = getattr(orig, "sqlstate", None) or getattr(cause, "sqlstate", None)
    constraint = getattr(cause, "constraint_name", None) or getattr(orig, "constraint_name", None)
    return sqlstate, constraint
