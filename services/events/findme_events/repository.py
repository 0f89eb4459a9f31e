"""Data functions over one connection; the caller owns the transaction and rolls it
back when a function raises (a refused INSERT leaves the transaction aborted).

Unique indexes are the arbiters (email, event code, username per event): the
functions insert and translate the violation, never check-then-insert.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from pgvector.sqlalchemy import Vector
from sqlalchemy import Select, bindparam, delete, exists, func, insert, literal, select, update
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from findme_events import codes
from findme_events.errors import AlreadyExists, NotFound
from findme_events.models import (
    ENCODING_DIMENSIONS,
    Attendee,
    Event,
    Face,
    Match,
    Organizer,
    Selfie,
)
from findme_events.schemas import AttendeeRecord, CredentialsRecord, EventRecord, FaceBox

# A handful of retries makes a code collision practically impossible (see codes.py).
CODE_ATTEMPTS = 8

_UNIQUE_VIOLATION = "23505"
_FOREIGN_KEY_VIOLATION = "23503"


def _violation(exc: IntegrityError) -> tuple[str | None, str | None]:
    """(sqlstate, constraint name) of an IntegrityError raised through asyncpg."""
    orig = exc.orig
    cause = getattr(orig, "__cause__", None)
    sqlstate = getattr(orig, "sqlstate", None) or getattr(cause, "sqlstate", None)
    constraint = getattr(cause, "constraint_name", None) or getattr(orig, "constraint_name", None)
    return sqlstate, constraint


# -- organizers ----------------------------------------------------------------------


async def create_organizer(*, conn: AsyncConnection, email: str, password_hash: str) -> int:
    statement = (
        insert(Organizer).values(email=email, password_hash=password_hash).returning(Organizer.id)
    )
    try:
        return int((await conn.execute(statement)).scalar_one())
    except IntegrityError as exc:
        if _violation(exc) == (_UNIQUE_VIOLATION, "uq_organizers_email"):
            raise AlreadyExists("email_taken", "an organizer with this email exists") from None
        raise


async def organizer_credentials(*, conn: AsyncConnection, email: str) -> CredentialsRecord:
    row = (
        await conn.execute(
            select(Organizer.id, Organizer.password_hash).where(Organizer.email == email)
        )
    ).one_or_none()
    if row is None:
        return CredentialsRecord(found=False, account=email)
    return CredentialsRecord(
        found=True, subject_id=row.id, password_hash=row.password_hash, account=email
    )


async def update_organizer_password_hash(
    *, conn: AsyncConnection, organizer_id: int, password_hash: str
) -> None:
    result = await conn.execute(
        update(Organizer).where(Organizer.id == organizer_id).values(password_hash=password_hash)
    )
    if result.rowcount == 0:
        raise NotFound("organizer_not_found", "no such organizer")


# -- events --------------------------------------------------------------------------

_EVENT_COLUMNS = (
    Event.id,
    Event.code,
    Event.name,
    Event.organizer_id,
    Event.match_tolerance,
    Event.retention_days,
    Event.starts_on,
    Event.ends_on,
)


def _event_record(row: object) -> EventRecord:
    return EventRecord(
        id=row.id,  # type: ignore[attr-defined]
        code=row.code,  # type: ignore[attr-defined]
        name=row.name,  # type: ignore[attr-defined]
        organizer_id=row.organizer_id,  # type: ignore[attr-defined]
        match_tolerance=row.match_tolerance,  # type: ignore[attr-defined]
        retention_days=row.retention_days,  # type: ignore[attr-defined]
        starts_on=_iso(row.starts_on),  # type: ignore[attr-defined]
        ends_on=_iso(row.ends_on),  # type: ignore[attr-defined]
    )


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


async def create_event(
    *,
    conn: AsyncConnection,
    organizer_id: int,
    name: str,
    match_tolerance: float,
    retention_days: int,
    starts_on: date | None = None,
    ends_on: date | None = None,
) -> EventRecord:
    for _ in range(CODE_ATTEMPTS):
        # ON CONFLICT keeps the transaction usable after a (rare) code collision.
        statement = (
            pg_insert(Event)
            .values(
                organizer_id=organizer_id,
                name=name,
                code=codes.generate(),
                match_tolerance=match_tolerance,
                retention_days=retention_days,
                starts_on=starts_on,
                ends_on=ends_on,
            )
            .on_conflict_do_nothing(index_elements=[Event.code])
            .returning(*_EVENT_COLUMNS)
        )
        try:
            row = (await conn.execute(statement)).one_or_none()
        except IntegrityError as exc:
            if _violation(exc)[0] == _FOREIGN_KEY_VIOLATION:
                raise NotFound("organizer_not_found", "no such organizer") from None
            raise
        if row is not None:
            return _event_record(row)
    raise RuntimeError(f"no free event code after {CODE_ATTEMPTS} attempts")


def event_by_code_query(code: str) -> Select[Any]:
    return select(*_EVENT_COLUMNS).where(Event.code == code)


async def event_by_code(*, conn: AsyncConnection, code: str) -> EventRecord | None:
    row = (await conn.execute(event_by_code_query(code))).one_or_none()
    return None if row is None else _event_record(row)


async def update_event(
    *,
    conn: AsyncConnection,
    event_id: int,
    name: str | None = None,
    match_tolerance: float | None = None,
    retention_days: int | None = None,
    starts_on: date | None = None,
    ends_on: date | None = None,
    organizer_id: int | None = None,
) -> EventRecord:
    changes = {
        key: value
        for key, value in (
            ("name", name),
            ("match_tolerance", match_tolerance),
            ("retention_days", retention_days),
            ("starts_on", starts_on),
            ("ends_on", ends_on),
        )
        if value is not None
    }
    statement = update(Event).where(Event.id == event_id)
    if organizer_id is not None:
        statement = statement.where(Event.organizer_id == organizer_id)
    # Nothing to change: a no-op update still answers with the event (and checks ownership).
    statement = statement.values(**changes) if changes else statement.values(id=Event.id)
    row = (await conn.execute(statement.returning(*_EVENT_COLUMNS))).one_or_none()
    if row is None:
        raise NotFound("event_not_found", "no such event")
    return _event_record(row)


# -- attendees -----------------------------------------------------------------------


def availability_query(event_id: int, username_key: str) -> Select[bool]:
    return select(
        exists().where(Attendee.event_id == event_id, Attendee.username_key == username_key)
    )


async def username_taken(*, conn: AsyncConnection, event_id: int, username_key: str) -> bool:
    return bool((await conn.execute(availability_query(event_id, username_key))).scalar_one())


async def create_attendee(
    *,
    conn: AsyncConnection,
    event_id: int,
    username: str,
    username_key: str,
    password_hash: str,
) -> AttendeeRecord:
    statement = (
        insert(Attendee)
        .values(
            event_id=event_id,
            username=username,
            username_key=username_key,
            password_hash=password_hash,
        )
        .returning(Attendee.id)
    )
    try:
        attendee_id = int((await conn.execute(statement)).scalar_one())
    except IntegrityError as exc:
        sqlstate, constraint = _violation(exc)
        if constraint == "uq_attendees_event_id_username_key":
            raise AlreadyExists("username_taken", "this username is taken") from None
        if sqlstate == _FOREIGN_KEY_VIOLATION:
            raise NotFound("event_not_found", "no such event") from None
        raise
    return AttendeeRecord(id=attendee_id, event_id=event_id, username=username)


async def attendee_credentials(
    *, conn: AsyncConnection, event_id: int, username_key: str
) -> CredentialsRecord:
    row = (
        await conn.execute(
            select(Attendee.id, Attendee.password_hash).where(
                Attendee.event_id == event_id, Attendee.username_key == username_key
            )
        )
    ).one_or_none()
    if row is None:
        return CredentialsRecord(found=False, event_id=event_id, account=username_key)
    return CredentialsRecord(
        found=True,
        subject_id=row.id,
        event_id=event_id,
        password_hash=row.password_hash,
        account=username_key,
    )


async def update_attendee_password_hash(
    *, conn: AsyncConnection, attendee_id: int, password_hash: str
) -> None:
    result = await conn.execute(
        update(Attendee).where(Attendee.id == attendee_id).values(password_hash=password_hash)
    )
    if result.rowcount == 0:
        raise NotFound("attendee_not_found", "no such attendee")


# -- selfies and matches -------------------------------------------------------------


async def save_selfie(
    *,
    conn: AsyncConnection,
    attendee_id: int,
    jpeg: bytes,
    encoding: Sequence[float],
    face: FaceBox,
) -> int:
    """Store (or replace) the selfie and recompute the attendee's matches; return their count.

    Call inside one transaction: the attendee row is locked first, so two uploads
    by the same attendee apply one after the other and the matches always belong
    to the stored selfie.
    """
    target = (
        await conn.execute(
            select(Attendee.event_id, Event.match_tolerance)
            .join(Event, Event.id == Attendee.event_id)
            .where(Attendee.id == attendee_id)
            .with_for_update(of=Attendee)
        )
    ).one_or_none()
    if target is None:
        raise NotFound("attendee_not_found", "no such attendee")

    vector = list(encoding)
    values = {
        "jpeg": jpeg,
        "encoding": vector,
        "face_top": face.top,
        "face_right": face.right,
        "face_bottom": face.bottom,
        "face_left": face.left,
        "stored_bytes": len(jpeg),
        "consented_at": func.now(),
    }
    upsert = pg_insert(Selfie).values(attendee_id=attendee_id, **values)
    await conn.execute(
        upsert.on_conflict_do_update(
            index_elements=[Selfie.attendee_id],
            set_={**values, "created_at": func.now()},
        )
    )

    await conn.execute(delete(Match).where(Match.attendee_id == attendee_id))
    probe = bindparam("probe", vector, type_=Vector(ENCODING_DIMENSIONS))
    distance = Face.encoding.l2_distance(probe)
    closest_per_photo = (
        select(literal(attendee_id), Face.photo_id, Face.id, distance)
        .where(Face.event_id == target.event_id, distance <= target.match_tolerance)
        .ext(distinct_on(Face.photo_id))
        .order_by(Face.photo_id, distance, Face.id)
    )
    result = await conn.execute(
        insert(Match).from_select(
            ["attendee_id", "photo_id", "face_id", "distance"], closest_per_photo
        )
    )
    return int(result.rowcount)


async def delete_attendee(*, conn: AsyncConnection, attendee_id: int) -> bool:
    """Remove the attendee; the selfie (and its encoding) and matches cascade.
    False when there was no such attendee (deleting twice is not an error)."""
    result = await conn.execute(delete(Attendee).where(Attendee.id == attendee_id))
    return bool(result.rowcount)
