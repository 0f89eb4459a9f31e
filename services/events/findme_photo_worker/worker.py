"""The claim loops and the retention job of one photo worker process.

Each process runs ``concurrency`` claim loops plus the retention job. A photo an
attendee flagged ("you missed me here") goes first: selfie.LookCloser, then its new
faces stored and matched (``store.missed``). Per new photo:
claim (lease) -> read the original -> selfie.AnalyzePhoto (deadline) -> write display
copy and thumbnail -> one transaction storing faces, matches and ``done``. A refusal
of the image (not_an_image, too_many_pixels, ...) fails the photo at once; a busy or
unreachable selfie service is retried after a delay, up to ``photo_max_attempts``.
Run as many worker processes as you like: claims use ``FOR UPDATE SKIP LOCKED``, so
they never take the same photo.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterable

import grpc
from findme.selfie.v1 import selfie_pb2, selfie_pb2_grpc
from findme_common.grpc_client import open_channel
from findme_common.refusals import Reason, reason_of, status_of
from findme_events import blobs
from findme_events.blobs import BlobStore, open_blob_store
from findme_events.database import create_engine
from findme_events.schemas import ClaimedFlag, ClaimedPhoto, DetectedFace, FaceBox
from findme_events.store import missed, photo_queue, photos, retention
from sqlalchemy.ext.asyncio import AsyncEngine

from findme_photo_worker.config import WorkerSettings

log = logging.getLogger(__name__)

SELFIE_SERVICE = selfie_pb2.DESCRIPTOR.services_by_name["SelfieService"]
# The selfie service refused the image itself: retrying cannot help.
PERMANENT_CODES = frozenset({grpc.StatusCode.INVALID_ARGUMENT})


class PhotoWorker:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        store: BlobStore,
        selfie: selfie_pb2_grpc.SelfieServiceAsyncStub,
        settings: WorkerSettings,
    ) -> None:
        self.engine = engine
        self.store = store
        self.selfie = selfie
        self.settings = settings

    async def run(self, stop: asyncio.Event) -> None:
        """Claim loops and the retention job until ``stop`` is set; in-flight photos finish."""
        loops = [self._claim_loop(stop) for _ in range(self.settings.concurrency)]
        await asyncio.gather(*loops, self._retention_loop(stop))

    async def _claim_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                worked = await self.process_one()
            except Exception:  # a database outage must not end the worker: wait, retry
                log.exception("photo loop error")
                worked = False
            if not worked:
                await _wait(stop, self.settings.idle_poll)

    async def _retention_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.purge_expired()
            except Exception:
                log.exception("retention job failed")
            await _wait(stop, self.settings.retention_interval)

    async def purge_expired(self) -> dict[str, int]:
        async with self.engine.begin() as conn:
            removed = await retention.purge(conn=conn)
        if any(removed.values()):
            log.info("retention purge", extra=removed)
        return removed

    async def claim(self) -> ClaimedPhoto | None:
        async with self.engine.begin() as conn:
            released = await photo_queue.release_expired(
                conn=conn, max_attempts=self.settings.photo_max_attempts
            )
            if released:
                log.warning("expired photo claims released", extra={"photos": released})
            return await photo_queue.claim(conn=conn, lease=self.settings.photo_lease)

    async def process_one(self) -> bool:
        """A closer look at one flagged photo (someone is waiting for it), else one new
        photo; False when neither was waiting."""
        flag = await self.claim_flag()
        if flag is not None:
            await self.look_closer(flag)
            return True
        photo = await self.claim()
        if photo is None:
            return False
        await self.process(photo)
        return True

    async def claim_flag(self) -> ClaimedFlag | None:
        async with self.engine.begin() as conn:
            return await missed.claim(
                conn=conn,
                lease=self.settings.photo_lease,
                max_attempts=self.settings.photo_max_attempts,
            )

    async def look_closer(self, flag: ClaimedFlag) -> None:
        """ "You missed me here": a closer look at the photo (selfie.LookCloser); new
        faces are stored and matched, and the flag says whether its attendee was found."""
        context = {"photo_id": flag.photo_id, "flag_id": flag.id, "attempt": flag.attempt}
        try:
            original = await self.store.get(flag.storage_key)
            closer: selfie_pb2.LookCloserResponse = await self.selfie.LookCloser(
                selfie_pb2.LookCloserRequest(image=original),
                timeout=self.settings.analyze_deadline,
            )
        except (blobs.BlobNotFound, grpc.RpcError) as exc:
            if isinstance(exc, blobs.BlobNotFound):
                reason, permanent = Reason.ORIGINAL_MISSING, True
            else:
                reason, permanent = reason_of(exc), status_of(exc) in PERMANENT_CODES
            async with self.engine.begin() as conn:
                await missed.retry_or_fail(
                    conn=conn,
                    flag=flag,
                    reason=reason,
                    permanent=permanent,
                    max_attempts=self.settings.photo_max_attempts,
                    delay=self.settings.photo_retry_delay,
                )
            log.warning("closer look not done", extra={**context, "reason": reason.value})
            return
        async with self.engine.begin() as conn:
            found = await missed.complete(conn=conn, flag=flag, faces=detected(closer.faces))
        log.info("closer look done", extra={**context, "faces": len(closer.faces), "found": found})

    async def process(self, photo: ClaimedPhoto) -> None:
        context = {"photo_id": photo.id, "event_id": photo.event_id, "attempt": photo.attempt}
        try:
            original = await self.store.get(photo.storage_key)
        except blobs.BlobNotFound:
            await self._retry_or_fail(photo, Reason.ORIGINAL_MISSING, permanent=True)
            return
        try:
            analysis: selfie_pb2.AnalyzePhotoResponse = await self.selfie.AnalyzePhoto(
                selfie_pb2.AnalyzePhotoRequest(image=original),
                timeout=self.settings.analyze_deadline,
            )
        except grpc.RpcError as exc:
            permanent = status_of(exc) in PERMANENT_CODES
            await self._retry_or_fail(photo, reason_of(exc), permanent=permanent)
            return

        display = blobs.display_key(photo.event_id, photo.id)
        thumbnail = blobs.thumbnail_key(photo.event_id, photo.id)
        await self.store.put(display, analysis.display_jpeg)
        await self.store.put(thumbnail, analysis.thumbnail_jpeg)
        faces = detected(analysis.faces)
        async with self.engine.begin() as conn:
            matches = await photo_queue.complete(
                conn=conn,
                photo=photo,
                width=analysis.display_width,
                height=analysis.display_height,
                display_key=display,
                thumbnail_key=thumbnail,
                faces=faces,
            )
        if matches is None:
            # Our claim was taken over (we were presumed dead) or the event is gone.
            # Another worker writes the same keys, so only clean up for a vanished event.
            log.warning("photo claim lost; results dropped", extra=context)
            async with self.engine.connect() as conn:
                exists = await photos.photo_exists(conn=conn, photo_id=photo.id)
            if not exists:
                await self.store.delete(display)
                await self.store.delete(thumbnail)
            return
        log.info("photo done", extra={**context, "faces": len(faces), "matches": matches})

    async def _retry_or_fail(self, photo: ClaimedPhoto, reason: Reason, *, permanent: bool) -> None:
        async with self.engine.begin() as conn:
            status = await photo_queue.retry_or_fail(
                conn=conn,
                photo=photo,
                reason=reason,
                permanent=permanent,
                max_attempts=self.settings.photo_max_attempts,
                delay=self.settings.photo_retry_delay,
            )
        log.log(
            logging.WARNING if status == "failed" else logging.INFO,
            "photo not processed",
            extra={"photo_id": photo.id, "reason": reason.value, "status": status},
        )


def detected(faces: Iterable[selfie_pb2.DetectedFace]) -> list[DetectedFace]:
    return [
        DetectedFace(
            box=FaceBox(
                top=face.box.top, right=face.box.right, bottom=face.box.bottom, left=face.box.left
            ),
            encoding=list(face.encoding),
        )
        for face in faces
    ]


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def serve(settings: WorkerSettings) -> None:
    engine = create_engine(settings, application_name="findme-photo-worker")
    channel = open_channel(settings.selfie_target, SELFIE_SERVICE)
    worker = PhotoWorker(
        engine=engine,
        store=open_blob_store(settings),
        selfie=selfie_pb2_grpc.SelfieServiceStub(channel),
        settings=settings,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info(
        "photo worker started",
        extra={"concurrency": settings.concurrency, "selfie": settings.selfie_target},
    )
    try:
        await worker.run(stop)
    finally:
        await channel.close()
        await engine.dispose()
    log.info("photo worker stopped")
