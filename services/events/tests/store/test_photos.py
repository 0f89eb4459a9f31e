"""The photos table against real PostgreSQL: duplicate uploads, "my photos" pages
and who may see an image."""

from __future__ import annotations

import pytest
from findme_common.refusals import Refusal
from findme_events.store import photos
from findme_events.usecases import photos as photo_cases
from findme_events.usecases.resources import Resources

from ..support import claim, complete, near, new_attendee, new_event, unit


async def test_the_same_content_is_one_photo(resources: Resources, organizer_id: int) -> None:
    event_id = await new_event(resources, organizer_id)
    async with resources.engine.begin() as conn:
        first = await photos.add_photo(
            conn=conn, event_id=event_id, content_hash="c", storage_key="k"
        )
        again = await photos.add_photo(
            conn=conn, event_id=event_id, content_hash="c", storage_key="k"
        )
        other = await photos.add_photo(
            conn=conn, event_id=event_id, content_hash="d", storage_key="l"
        )
        assert await photos.photo_exists(conn=conn, photo_id=first.id)
        assert not await photos.photo_exists(conn=conn, photo_id=other.id + 100)
    assert (first.duplicate, again.duplicate, again.id, again.status) == (
        False,
        True,
        first.id,
        "pending",
    )
    assert other.id != first.id


async def test_my_photos_pages_newest_first_and_images_are_private(
    resources: Resources, organizer_id: int
) -> None:
    engine = resources.engine
    event_id = await new_event(resources, organizer_id)
    ann = unit(3)
    ann_id = await new_attendee(resources, event_id, "ann", ann)
    await photo_cases.add_photos(
        resources,
        organizer_id=organizer_id,
        event_id=event_id,
        contents=[b"1", b"2", b"3", b"4", b"5"],
    )
    done = []
    while (photo := await claim(engine)) is not None:
        await complete(engine, photo, [near(ann, 0.2)])
        done.append(photo.id)
    pages, cursor = [], ""
    while True:
        async with engine.connect() as conn:
            page = await photos.my_photos(conn=conn, attendee_id=ann_id, cursor=cursor, limit=2)
        pages.append([item.photo_id for item in page.items])
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert pages == [done[::-1][0:2], done[::-1][2:4], done[::-1][4:]]
    async with engine.connect() as conn:
        with pytest.raises(Refusal, match=r"^invalid_cursor:"):
            await photos.my_photos(conn=conn, attendee_id=ann_id, cursor="garbage!", limit=2)

        # Images: the matched attendee and the organizer, nobody else.
        for viewer, organizer in ((ann_id, False), (organizer_id, True)):
            key = await photos.image_key(
                conn=conn, photo_id=done[0], viewer_id=viewer, organizer=organizer, thumbnail=True
            )
            assert key == "t"
        for viewer, organizer in ((ann_id + 1000, False), (organizer_id + 1, True)):
            with pytest.raises(Refusal, match=r"^photo_not_found:"):
                await photos.image_key(
                    conn=conn,
                    photo_id=done[0],
                    viewer_id=viewer,
                    organizer=organizer,
                    thumbnail=False,
                )
