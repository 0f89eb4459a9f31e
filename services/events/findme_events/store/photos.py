"""The photos table: upload (deduplicated by content hash), "my photos" pages (and the
same pages of suggestions) and the access check in front of display copies and
thumbnails."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from findme_common.refusals import Reason, Refusal
from sqlalchemy import Select, exists, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import InstrumentedAttribute

from findme_events.models import Event, Match, Photo, Suggestion
from findme_events.schemas import AddedPhoto, MyPhoto, MyPhotosPage


async def add_photo(
    *, conn: AsyncConnection, event_id: int, content_hash: str, storage_key: str
) -> AddedPhoto:
    """A pending row for new content; the existing row for content already in the event.

    The unique (event_id, content_hash) index decides between racing uploads of the
    same file: the loser waits for the winner's commit, then reads its row.
    """
    inserted = (
        await conn.execute(
            pg_insert(Photo)
            .values(event_id=event_id, content_hash=content_hash, storage_key=storage_key)
            .on_conflict_do_nothing(index_elements=[Photo.event_id, Photo.content_hash])
            .returning(Photo.id, Photo.status)
        )
    ).one_or_none()
    if inserted is not None:
        return AddedPhoto(id=inserted.id, status=inserted.status, duplicate=False)
    existing = (
        await conn.execute(
            select(Photo.id, Photo.status).where(
                Photo.event_id == event_id, Photo.content_hash == content_hash
            )
        )
    ).one()
    return AddedPhoto(id=existing.id, status=existing.status, duplicate=True)


# -- my photos -----------------------------------------------------------------------


def encode_cursor(detected_at: datetime, photo_id: int) -> str:
    raw = f"{detected_at.isoformat()}|{photo_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, _, photo_id = raw.partition("|")
        detected_at = datetime.fromisoformat(stamp)
        if detected_at.tzinfo is None:
            raise ValueError("naive time")
        return detected_at, int(photo_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Refusal(Reason.INVALID_CURSOR, "the cursor is not one this API gave") from None


def newest_first(
    table: type[Match] | type[Suggestion],
    stamp: InstrumentedAttribute[datetime],
    attendee_id: int,
    after: tuple[datetime, int] | None,
    limit: int,
) -> Select[int, float, datetime]:
    """An attendee's photos in ``table``, newest first: keyset pagination on
    (stamp, photo_id) DESC, served by the (attendee_id, stamp DESC, photo_id DESC)
    index, constant cost however deep the page."""
    statement = select(table.photo_id, table.distance, stamp).where(
        table.attendee_id == attendee_id
    )
    if after is not None:
        # Spelled out rather than a row comparison: the leading "<=" is an index
        # range on the DESC column, which a ROW(...) < ROW(...) is not.
        at, photo_id = after
        statement = statement.where(
            stamp <= at,
            or_(stamp < at, table.photo_id < photo_id),
        )
    return statement.order_by(stamp.desc(), table.photo_id.desc()).limit(limit)


def my_photos_query(
    attendee_id: int, after: tuple[datetime, int] | None, limit: int
) -> Select[int, float, datetime]:
    return newest_first(Match, Match.detected_at, attendee_id, after, limit)


async def page_of(
    conn: AsyncConnection, query: Select[int, float, datetime], limit: int
) -> MyPhotosPage:
    """Run a ``newest_first`` query for ``limit`` + 1 rows: one page and its cursor."""
    rows = (await conn.execute(query)).all()
    items = [MyPhoto(photo_id=row[0], distance=row[1], detected_at=row[2]) for row in rows[:limit]]
    next_cursor = ""
    if len(rows) > limit:
        last = items[-1]
        next_cursor = encode_cursor(last.detected_at, last.photo_id)
    return MyPhotosPage(items=items, next_cursor=next_cursor)


async def my_photos(
    *, conn: AsyncConnection, attendee_id: int, cursor: str, limit: int
) -> MyPhotosPage:
    after = decode_cursor(cursor) if cursor else None
    return await page_of(conn, my_photos_query(attendee_id, after, limit + 1), limit)


# -- access to images ----------------------------------------------------------------

ImageKeys = Select[str | None, str | None]


def attendee_image_query(photo_id: int, attendee_id: int) -> ImageKeys:
    """The photo's keys when it is matched or suggested to the attendee."""
    matched = exists().where(Match.attendee_id == attendee_id, Match.photo_id == photo_id)
    suggested = exists().where(
        Suggestion.attendee_id == attendee_id, Suggestion.photo_id == photo_id
    )
    return select(Photo.display_key, Photo.thumbnail_key).where(
        Photo.id == photo_id, or_(matched, suggested)
    )


def organizer_image_query(photo_id: int, organizer_id: int) -> ImageKeys:
    return (
        select(Photo.display_key, Photo.thumbnail_key)
        .join(Event, Event.id == Photo.event_id)
        .where(Photo.id == photo_id, Event.organizer_id == organizer_id)
    )


async def image_key(
    *, conn: AsyncConnection, photo_id: int, viewer_id: int, organizer: bool, thumbnail: bool
) -> str:
    """Blob key of the copy, when this viewer may see it; photo_not_found otherwise
    (a photo the viewer may not see is indistinguishable from a missing one)."""
    query = (
        organizer_image_query(photo_id, viewer_id)
        if organizer
        else attendee_image_query(photo_id, viewer_id)
    )
    row = (await conn.execute(query)).one_or_none()
    key = None if row is None else (row.thumbnail_key if thumbnail else row.display_key)
    if key is None:
        raise Refusal(Reason.PHOTO_NOT_FOUND, "no such photo")
    return str(key)


async def photo_exists(*, conn: AsyncConnection, photo_id: int) -> bool:
    row = await conn.execute(select(Photo.id).where(Photo.id == photo_id))
    return row.first() is not None
