"""Photo use cases against real PostgreSQL and a blob directory."""

from __future__ import annotations

import pytest
from findme_common.refusals import Refusal
from findme_events.usecases import events, photos
from findme_events.usecases.resources import Resources

from ..support import claim, complete, near, new_attendee, new_event, unit


async def test_duplicates_are_detected_by_content(resources: Resources, organizer_id: int) -> None:
    event_id = await new_event(resources, organizer_id)
    first = await photos.add_photos(
        resources, organizer_id=organizer_id, event_id=event_id, contents=[b"one", b"two", b"one"]
    )
    assert [(p.status, p.duplicate) for p in first] == [
        ("pending", False),
        ("pending", False),
        ("pending", True),
    ]
    assert first[2].id == first[0].id
    with pytest.raises(Refusal, match=r"^event_not_found:"):
        await photos.add_photos(
            resources, organizer_id=organizer_id + 1, event_id=event_id, contents=[b"x"]
        )
    progress = await events.progress(resources, organizer_id=organizer_id, event_id=event_id)
    assert (progress.pending, progress.done) == (2, 0)


@pytest.mark.parametrize(
    ("contents", "reason"),
    [
        ([], "invalid_photo_count"),
        ([b"x"] * 51, "invalid_photo_count"),
        ([b"x", b""], "empty_file"),
        ([b"x" * (15 * 1024 * 1024 + 1)], "too_large"),
    ],
    ids=["none", "too_many", "empty", "too_large"],
)
async def test_bad_batches_store_nothing(
    resources: Resources, organizer_id: int, contents: list[bytes], reason: str
) -> None:
    event_id = await new_event(resources, organizer_id)
    with pytest.raises(Refusal) as refused:
        await photos.add_photos(
            resources, organizer_id=organizer_id, event_id=event_id, contents=contents
        )
    assert refused.value.reason == reason
    progress = await events.progress(resources, organizer_id=organizer_id, event_id=event_id)
    assert progress.pending == 0
    assert not (resources.settings.blob_dir / "events" / str(event_id)).exists()


async def test_pages_are_capped_and_images_need_a_match(
    resources: Resources, organizer_id: int
) -> None:
    event_id = await new_event(resources, organizer_id)
    ann_id = await new_attendee(resources, event_id, "ann", unit(3))
    other_id = await new_attendee(resources, event_id, "other", None)
    await photos.add_photos(
        resources, organizer_id=organizer_id, event_id=event_id, contents=[b"1", b"2", b"3"]
    )
    while (photo := await claim(resources.engine)) is not None:
        await complete(resources.engine, photo, [near(unit(3), 0.2)])
    # Asking for more than the page size gets the page size (2 here).
    page = await photos.my_photos(resources, attendee_id=ann_id, cursor="", limit=100)
    assert len(page.items) == 2 and page.next_cursor
    with pytest.raises(Refusal, match=r"^invalid_limit:"):
        await photos.my_photos(resources, attendee_id=ann_id, cursor="", limit=-1)

    # The blob behind the key: the display copy is written by the worker ("d" here).
    first = page.items[0].photo_id
    await resources.blobs.put("d", b"display bytes")
    assert (
        await photos.photo_image(
            resources, photo_id=first, viewer_id=ann_id, organizer=False, thumbnail=False
        )
        == b"display bytes"
    )
    with pytest.raises(Refusal, match=r"^photo_not_found:"):
        await photos.photo_image(
            resources, photo_id=first, viewer_id=other_id, organizer=False, thumbnail=False
        )
    with pytest.raises(Refusal, match=r"^photo_not_found:"):  # key known, file gone
        await photos.photo_image(
            resources, photo_id=first, viewer_id=organizer_id, organizer=True, thumbnail=True
        )
