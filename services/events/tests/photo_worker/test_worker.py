"""The photo worker against real PostgreSQL, a real blob directory and a real
selfie gRPC service (its process pool and dlib): photos become faces and matches,
refusals fail at once, outages are retried, and nothing is lost."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from findme.selfie.v1 import selfie_pb2, selfie_pb2_grpc
from findme_common.grpc_client import open_channel
from findme_common.grpc_server import start, stop
from findme_devstack import faces
from findme_events import blobs
from findme_events.schemas import FaceBox
from findme_events.store import attendees, retention
from findme_events.usecases import missed, photos, selfies
from findme_events.usecases.resources import Resources
from findme_photo_worker.config import WorkerSettings
from findme_photo_worker.worker import SELFIE_SERVICE, PhotoWorker
from findme_selfie.config import SelfieSettings
from findme_selfie.server import build as build_selfie
from prometheus_client import REGISTRY
from sqlalchemy import text

from ..support import age_everything, count, event_data_for_retention, new_event


@pytest.fixture(scope="module")
async def selfie_target() -> AsyncIterator[str]:
    service = build_selfie(SelfieSettings(port=0, metrics_port=0, workers=1))
    started = await start(service)
    yield f"127.0.0.1:{started.port}"
    await stop(service, started, None)


def make_worker(resources: Resources, target: str, **overrides: object) -> PhotoWorker:
    values: dict[str, object] = {"photo_retry_delay": 0, "idle_poll": 0.05, **overrides}
    settings = WorkerSettings(
        database_url=resources.settings.database_url,
        blob_dir=resources.settings.blob_dir,
        selfie_target=target,
        **values,  # type: ignore[arg-type]
    )
    channel = open_channel(target, SELFIE_SERVICE)
    return PhotoWorker(
        engine=resources.engine,
        store=resources.blobs,
        selfie=selfie_pb2_grpc.SelfieServiceStub(channel),
        settings=settings,
    )


async def photo_row(resources: Resources) -> tuple[str, int, str | None]:
    async with resources.engine.connect() as conn:
        row = (await conn.execute(text("SELECT status, attempts, error FROM photos"))).one()
    return row.status, row.attempts, row.error


async def attendee_with_selfie(
    resources: Resources, event_id: int, name: str, image: bytes, target: str
) -> int:
    async with resources.engine.begin() as conn:
        attendee = await attendees.create_attendee(
            conn=conn, event_id=event_id, username=name, username_key=name, password_hash="h"
        )
    async with grpc.aio.insecure_channel(target) as channel:
        processed = await selfie_pb2_grpc.SelfieServiceStub(channel).ProcessSelfie(
            selfie_pb2.ProcessSelfieRequest(image=image), timeout=60
        )
    box = processed.face
    await selfies.save_selfie(
        resources,
        attendee_id=attendee.id,
        jpeg=processed.jpeg,
        encoding=list(processed.encoding),
        face=FaceBox(top=box.top, right=box.right, bottom=box.bottom, left=box.left),
    )
    return attendee.id


async def test_a_photo_becomes_faces_matches_and_copies(
    resources: Resources, organizer_id: int, selfie_target: str, faces_dir: Path
) -> None:
    event_id = await new_event(resources, organizer_id)
    obama = await attendee_with_selfie(
        resources, event_id, "obama", (faces_dir / faces.OBAMA).read_bytes(), selfie_target
    )
    astronaut = await attendee_with_selfie(
        resources, event_id, "eileen", (faces_dir / faces.ASTRONAUT).read_bytes(), selfie_target
    )
    (added,) = await photos.add_photos(
        resources,
        organizer_id=organizer_id,
        event_id=event_id,
        contents=[(faces_dir / faces.TWO_PEOPLE).read_bytes()],
    )
    worker = make_worker(resources, selfie_target)

    assert await worker.process_one() is True
    assert await worker.process_one() is False  # nothing left

    assert await photo_row(resources) == ("done", 1, None)
    assert await count(resources.engine, "SELECT count(*) FROM faces") == 2
    mine = await photos.my_photos(resources, attendee_id=obama, cursor="")
    assert [item.photo_id for item in mine.items] == [added.id]
    assert (await photos.my_photos(resources, attendee_id=astronaut, cursor="")).items == []
    for thumbnail in (False, True):
        image = await photos.photo_image(
            resources, photo_id=added.id, viewer_id=obama, organizer=False, thumbnail=thumbnail
        )
        assert image.startswith(b"\xff\xd8")


async def test_an_image_the_selfie_service_refuses_fails_at_once(
    resources: Resources, organizer_id: int, selfie_target: str
) -> None:
    event_id = await new_event(resources, organizer_id)
    await photos.add_photos(
        resources,
        organizer_id=organizer_id,
        event_id=event_id,
        contents=[b"\xff\xd8\xff\xe0" + bytes(500)],
    )
    assert await make_worker(resources, selfie_target).process_one() is True
    assert await photo_row(resources) == ("failed", 1, "not_an_image")


async def test_a_missing_original_fails_with_its_reason(
    resources: Resources, organizer_id: int, selfie_target: str
) -> None:
    event_id = await new_event(resources, organizer_id)
    await photos.add_photos(
        resources, organizer_id=organizer_id, event_id=event_id, contents=[b"x"]
    )
    for original in (resources.settings.blob_dir / "events").rglob("originals/*"):
        original.unlink()
    assert await make_worker(resources, selfie_target).process_one() is True
    assert await photo_row(resources) == ("failed", 1, "original_missing")


async def test_an_unreachable_selfie_service_is_retried_then_fails(
    resources: Resources, organizer_id: int, closed_port: int
) -> None:
    event_id = await new_event(resources, organizer_id)
    await photos.add_photos(
        resources, organizer_id=organizer_id, event_id=event_id, contents=[b"x"]
    )
    worker = make_worker(
        resources, f"127.0.0.1:{closed_port}", photo_max_attempts=2, analyze_deadline=2
    )
    assert await worker.process_one() is True
    assert await photo_row(resources) == ("pending", 1, "service_unavailable")
    assert await worker.process_one() is True
    assert await photo_row(resources) == ("failed", 2, "service_unavailable")


async def test_run_drains_the_queue_and_stops_when_asked(
    resources: Resources, organizer_id: int, selfie_target: str, faces_dir: Path
) -> None:
    event_id = await new_event(resources, organizer_id)
    contents = [(faces_dir / name).read_bytes() for name in (faces.OBAMA, faces.NO_FACE)]
    await photos.add_photos(
        resources, organizer_id=organizer_id, event_id=event_id, contents=contents
    )
    worker = make_worker(resources, selfie_target, concurrency=2)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    sql = "SELECT count(*) FROM photos WHERE status = 'done'"
    for _ in range(600):
        if await count(resources.engine, sql) == 2:
            break
        await asyncio.sleep(0.1)
    stop.set()
    await asyncio.wait_for(running, 10)
    assert await count(resources.engine, sql) == 2
    assert await count(resources.engine, "SELECT count(*) FROM faces") == 1  # coffee has none


async def test_claim_loops_keep_the_heartbeat_fresh(
    resources: Resources, selfie_target: str, tmp_path: Path
) -> None:
    heartbeat = tmp_path / "worker.heartbeat"
    worker = make_worker(resources, selfie_target, heartbeat_file=heartbeat)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        for _ in range(100):
            if heartbeat.exists():
                break
            await asyncio.sleep(0.05)
        first = heartbeat.stat().st_mtime_ns
        # An idle worker polls every idle_poll (0.05 s here) and touches it each time.
        for _ in range(100):
            await asyncio.sleep(0.05)
            if heartbeat.stat().st_mtime_ns > first:
                break
        assert heartbeat.stat().st_mtime_ns > first
    finally:
        stop.set()
        await asyncio.wait_for(running, 10)


async def test_retention_leaves_no_encoding_or_failed_original_of_expired_data(
    resources: Resources, organizer_id: int
) -> None:
    engine = resources.engine
    expired = await new_event(resources, organizer_id, retention_days=1)
    current = await new_event(resources, organizer_id, retention_days=30)
    originals: dict[int, list[str]] = {}
    for event_id in (expired, current):
        contents = [f"group {event_id}".encode(), f"broken {event_id}".encode()]
        await event_data_for_retention(resources, organizer_id, event_id, contents)
        originals[event_id] = [
            blobs.original_key(event_id, hashlib.sha256(content).hexdigest())
            for content in contents
        ]
    await age_everything(engine, 2)
    worker = make_worker(resources, "127.0.0.1:9", retention_batch=1)

    purged = await worker.purge_expired()

    assert purged == retention.Purged(matches=1, selfies=1, faces=3, failed_photos=1)
    # PostgreSQL: no encoding of the expired event is left, selfie or photo face.
    assert await count(engine, "SELECT count(*) FROM faces WHERE event_id = :e", e=expired) == 0
    assert (
        await count(
            engine,
            "SELECT count(*) FROM selfies s JOIN attendees a ON a.id = s.attendee_id "
            "WHERE a.event_id = :e",
            e=expired,
        )
        == 0
    )
    failed = "SELECT count(*) FROM photos WHERE status = 'failed' AND event_id = :e"
    assert await count(engine, failed, e=expired) == 0
    # The blob store: the failed original is gone; the done photo's stays.
    done_original, failed_original = originals[expired]
    with pytest.raises(blobs.BlobNotFound):
        await resources.blobs.get(failed_original)
    assert await resources.blobs.get(done_original) == f"group {expired}".encode()
    # The event that has not expired keeps everything.
    assert await count(engine, "SELECT count(*) FROM faces WHERE event_id = :e", e=current) == 3
    for key in originals[current]:
        assert await resources.blobs.get(key)


def processed(outcome: str) -> float:
    return REGISTRY.get_sample_value("findme_photos_processed_total", {"outcome": outcome}) or 0


async def test_an_idle_worker_is_woken_by_a_new_photo_not_by_its_poll(
    resources: Resources, organizer_id: int, selfie_target: str, faces_dir: Path
) -> None:
    event_id = await new_event(resources, organizer_id)
    # Polling alone would not look again within this test's time.
    worker = make_worker(resources, selfie_target, idle_poll=600, queue_metrics_interval=0.05)
    done_before, failed_before = processed("done"), processed("failed")
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        await asyncio.wait_for(worker.listening.wait(), 30)
        await asyncio.sleep(0.2)  # every claim loop has looked once and sleeps
        await photos.add_photos(
            resources,
            organizer_id=organizer_id,
            event_id=event_id,
            contents=[(faces_dir / faces.OBAMA).read_bytes(), b"\xff\xd8\xff\xe0" + bytes(99)],
        )
        sql = "SELECT count(*) FROM photos WHERE status IN ('done', 'failed')"
        for _ in range(600):
            if await count(resources.engine, sql) == 2:
                break
            await asyncio.sleep(0.1)
        assert await count(resources.engine, sql) == 2
        assert processed("done") == done_before + 1
        assert processed("failed") == failed_before + 1
        await asyncio.sleep(0.2)  # the queue is measured again
        assert REGISTRY.get_sample_value("findme_photo_queue_photos", {"status": "pending"}) == 0
    finally:
        stop.set()
        await asyncio.wait_for(running, 10)


async def flag_row(resources: Resources, attendee_id: int) -> tuple[str, int, str | None, bool]:
    async with resources.engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT status, attempts, error, found FROM missed_photos "
                    "WHERE attendee_id = :a"
                ),
                {"a": attendee_id},
            )
        ).one()
    return row.status, row.attempts, row.error, row.found


async def test_a_flagged_photo_gets_a_closer_look(
    resources: Resources, organizer_id: int, selfie_target: str, faces_dir: Path
) -> None:
    """Two people far away in a big frame: the first analysis finds nobody; a closer
    look (selfie.LookCloser) finds both, and they are matched like any face."""
    event_id = await new_event(resources, organizer_id)
    people = {
        name: await attendee_with_selfie(
            resources, event_id, name, (faces_dir / image).read_bytes(), selfie_target
        )
        for name, image in (
            ("obama", faces.OBAMA),
            ("biden", faces.BIDEN),
            ("eileen", faces.ASTRONAUT),
        )
    }
    (added,) = await photos.add_photos(
        resources,
        organizer_id=organizer_id,
        event_id=event_id,
        contents=[(faces_dir / faces.FAR_AWAY).read_bytes()],
    )
    worker = make_worker(resources, selfie_target)
    assert await worker.process_one() is True
    assert await count(resources.engine, "SELECT count(*) FROM faces") == 0

    flagged = await missed.flag_missed_photo(
        resources, attendee_id=people["obama"], photo_id=added.id
    )
    assert flagged.status == "pending"
    assert await worker.process_one() is True
    assert await flag_row(resources, people["obama"]) == ("done", 1, None, True)
    assert await count(resources.engine, "SELECT count(*) FROM faces") == 2
    for name in ("obama", "biden"):
        mine = await photos.my_photos(resources, attendee_id=people[name], cursor="")
        assert [item.photo_id for item in mine.items] == [added.id], name

    # The same faces found again are not stored twice; someone not there is told so.
    for name in ("biden", "eileen"):
        await missed.flag_missed_photo(resources, attendee_id=people[name], photo_id=added.id)
        assert await worker.process_one() is True
    assert await count(resources.engine, "SELECT count(*) FROM faces") == 2
    assert (await flag_row(resources, people["biden"]))[3] is True
    assert await flag_row(resources, people["eileen"]) == ("done", 1, None, False)
    assert await worker.process_one() is False


async def test_a_flag_on_an_image_the_selfie_service_refuses_fails_at_once(
    resources: Resources, organizer_id: int, selfie_target: str, faces_dir: Path
) -> None:
    event_id = await new_event(resources, organizer_id)
    ann = await attendee_with_selfie(
        resources, event_id, "ann", (faces_dir / faces.OBAMA).read_bytes(), selfie_target
    )
    (added,) = await photos.add_photos(
        resources, organizer_id=organizer_id, event_id=event_id, contents=[b"not an image"]
    )
    async with resources.engine.begin() as conn:
        await conn.execute(text("UPDATE photos SET status = 'done'"))
    await missed.flag_missed_photo(resources, attendee_id=ann, photo_id=added.id)
    worker = make_worker(resources, selfie_target)
    assert await worker.process_one() is True
    assert await flag_row(resources, ann) == ("failed", 1, "not_an_image", None)
