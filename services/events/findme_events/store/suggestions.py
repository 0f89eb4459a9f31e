"""The maybe tier and the people's answers: suggestion pages, which face an offer or
a match is about, answers, and the faces an attendee confirmed as references."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, delete, exists, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from findme_events.models import FaceAnswer, FaceReference, Match, Suggestion
from findme_events.schemas import MyPhotosPage
from findme_events.store.photos import decode_cursor, newest_first, page_of


def suggestions_query(
    attendee_id: int, after: tuple[datetime, int] | None, limit: int
) -> Select[int, float, datetime]:
    return newest_first(Suggestion, Suggestion.created_at, attendee_id, after, limit)


async def suggestions(
    *, conn: AsyncConnection, attendee_id: int, cursor: str, limit: int
) -> MyPhotosPage:
    after = decode_cursor(cursor) if cursor else None
    return await page_of(conn, suggestions_query(attendee_id, after, limit + 1), limit)


def offered_face_query(
    table: type[Suggestion] | type[Match], attendee_id: int, photo_id: int
) -> Select[int]:
    return select(table.face_id).where(table.attendee_id == attendee_id, table.photo_id == photo_id)


async def offered_face(
    *, conn: AsyncConnection, table: type[Suggestion] | type[Match], attendee_id: int, photo_id: int
) -> int | None:
    """The face of the attendee's suggestion (or match) in the photo, if any."""
    face_id = (await conn.execute(offered_face_query(table, attendee_id, photo_id))).scalar()
    return None if face_id is None else int(face_id)


async def answered(*, conn: AsyncConnection, attendee_id: int, photo_id: int, answer: str) -> bool:
    """Whether the attendee already gave ``answer`` about a face of the photo."""
    query = select(
        exists().where(
            FaceAnswer.attendee_id == attendee_id,
            FaceAnswer.photo_id == photo_id,
            FaceAnswer.answer == answer,
        )
    )
    return bool((await conn.execute(query)).scalar_one())


async def record_answer(
    *, conn: AsyncConnection, attendee_id: int, face_id: int, photo_id: int, answer: str
) -> None:
    """The attendee's answer about the face (a later answer replaces an earlier one)."""
    statement = pg_insert(FaceAnswer).values(
        attendee_id=attendee_id, face_id=face_id, photo_id=photo_id, answer=answer
    )
    await conn.execute(
        statement.on_conflict_do_update(
            index_elements=[FaceAnswer.attendee_id, FaceAnswer.face_id],
            set_={"answer": statement.excluded.answer, "created_at": func.now()},
        )
    )


async def confirmed_references(*, conn: AsyncConnection, attendee_id: int) -> int:
    query = select(func.count()).where(
        FaceReference.attendee_id == attendee_id, FaceReference.face_id.is_not(None)
    )
    return int((await conn.execute(query)).scalar_one())


async def forget_confirmed(*, conn: AsyncConnection, attendee_id: int, face_id: int) -> None:
    """The face is no longer one of the attendee's references (its pairs cascade)."""
    await conn.execute(
        delete(FaceReference).where(
            FaceReference.attendee_id == attendee_id, FaceReference.face_id == face_id
        )
    )
