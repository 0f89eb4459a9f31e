"""Event photos: the organizer's uploads, the attendee's "my photos" pages, and the
display copies and thumbnails for a viewer allowed to see them."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from findme_common.refusals import Reason, Refusal

from findme_events import blobs, validation
from findme_events.schemas import AddedPhoto, MyPhotosPage
from findme_events.store import events, photos
from findme_events.usecases.resources import Resources


async def add_photos(
    r: Resources, *, organizer_id: int, event_id: int, contents: Sequence[bytes]
) -> list[AddedPhoto]:
    settings = r.settings
    validation.photo_files(
        contents, max_files=settings.max_photos_per_call, max_bytes=settings.max_photo_bytes
    )
    async with r.engine.connect() as conn:
        await events.owned_event(conn=conn, organizer_id=organizer_id, event_id=event_id)
    added = []
    for content in contents:
        content_hash = hashlib.sha256(content).hexdigest()
        key = blobs.original_key(event_id, content_hash)
        # The file first: a row never points at a missing original. The key is the
        # content hash, so a duplicate rewrites identical bytes.
        await r.blobs.put(key, content)
        async with r.engine.begin() as conn:
            added.append(
                await photos.add_photo(
                    conn=conn, event_id=event_id, content_hash=content_hash, storage_key=key
                )
            )
    return added


async def my_photos(r: Resources, *, attendee_id: int, cursor: str, limit: int = 0) -> MyPhotosPage:
    size = validation.page_size(limit, largest=r.settings.my_photos_page_size)
    async with r.engine.connect() as conn:
        return await photos.my_photos(conn=conn, attendee_id=attendee_id, cursor=cursor, limit=size)


async def photo_image(
    r: Resources, *, photo_id: int, viewer_id: int, organizer: bool, thumbnail: bool
) -> bytes:
    async with r.engine.connect() as conn:
        key = await photos.image_key(
            conn=conn,
            photo_id=photo_id,
            viewer_id=viewer_id,
            organizer=organizer,
            thumbnail=thumbnail,
        )
    try:
        return await r.blobs.get(key)
    except blobs.BlobNotFound:
        # Event deleted between the query and the read.
        raise Refusal(Reason.PHOTO_NOT_FOUND, "no such photo") from None
