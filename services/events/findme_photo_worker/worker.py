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

An idle worker sleeps until PostgreSQL notifies it of a new pending photo (LISTEN on
``photo_queue.PENDING_CHANNEL``, raised by a trigger on the photos table), and
polls every ``idle_poll`` seconds all the same, for retries that came due and in
case the listening connection was lost. It reports what it did
(``findme_photos_processed_total``) and, every ``queue_metrics_interval``, the queue
(findme_events.metrics).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Iterable
from typing import Any

import grpc
from findme.selfie.v1 import selfie_pb2, selfie_pb2_grpc
from findme_common import tracing
from findme_common.grpc_client import open_channel
from findme_common.metrics import serve_metrics
from findme_common.refusals import Reason, reason_of, status_of
from findme_events import blobs, metrics
from findme_events.blobs import BlobStore, open_blob_store
from findme_events.database import WORKER_APPLICATION_NAME, create_engine
from findme_events.schemas import ClaimedFlag, ClaimedPhoto, DetectedFace, FaceBox
from findme_events.store import missed, photo_queue, photos, retention
from findme_events.usecases.retention import purge_expired
from sqlalchemy.ext.asyncio import AsyncEngine

from findme_photo_worker.config import WorkerSettings

log = logging.getLogger(__name__)

SELFIE_SERVICE = selfie_pb2.DESCRIPTOR.services_by_name["SelfieService"]
# The selfie service refused the image itself: retrying cannot help.
PERMANENT_CODES = frozenset({grpc.StatusCode.INVALID_ARGUMENT})
# The listening connection is checked this often (a dead one is replaced).
LISTEN_CHECK_SECONDS = 30.0


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
        # Set by a notification of a new pending photo; cleared before each claim, so
        # one that arrives while a loop claims makes it look again at once.
        self.wake = asyncio.Event()
        # Set while a connection listens for those notifications.
        self.listening = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        """Claim loops, the notification listener, the retention job and (with metrics
        on) the queue measurement until ``stop`` is set; in-flight photos finish."""
        loops = [self._claim_loop(stop) for _ in range(self.settings.concurrency)]
        background = [self._listen_loop(stop), self._retention_loop(stop)]
        if self.settings.metrics_enabled:
            background.append(self._queue_metrics_loop(stop))
        await asyncio.gather(*loops, *background)

    def _heartbeat(self) -> None:
        """Tell the container's health check this loop still turns."""
        path = self.settings.heartbeat_file
        if path is None:
            return
        try:
            path.touch()
        except OSError:
            log.warning("heartbeat file not writable", extra={"path": str(path)})

    async def _claim_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._heartbeat()
            self.wake.clear()
            try:
                worked = await self.process_one()
            except Exception:  # a database outage must not end the worker: wait, retry
                log.exception("photo loop error")
                worked = False
            if not worked:
                await _wait_any(stop, self.wake, seconds=self.settings.idle_poll)

    async def _listen_loop(self, stop: asyncio.Event) -> None:
        """Hold one connection that LISTENs for new pending photos; replace it when lost."""
        lost = False
        while not stop.is_set():
            try:
                async with self.engine.connect() as conn:
                    raw = await conn.get_raw_connection()
                    driver: Any = raw.driver_connection
                    await driver.add_listener(photo_queue.PENDING_CHANNEL, self._notified)
                    self.listening.set()
                    if lost:
                        log.info("photo notifications back")
                        lost = False
                    try:
                        while not stop.is_set():
                            await _wait(stop, LISTEN_CHECK_SECONDS)
                            await driver.execute("SELECT 1")  # raises when the link is dead
                    finally:
                        self.listening.clear()
                        if not driver.is_closed():
                            await driver.remove_listener(
                                photo_queue.PENDING_CHANNEL, self._notified
                            )
            except Exception:
                if not lost:  # once per outage
                    log.warning("photo notifications lost; polling until they are back")
                    lost = True
                await _wait(stop, self.settings.idle_poll)

    def _notified(self, *_args: object) -> None:
        self.wake.set()

    async def _queue_metrics_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                async with self.engine.connect() as conn:
                    depth = await photo_queue.depth(conn=conn)
                metrics.PHOTO_QUEUE.labels("pending").set(depth.pending)
                metrics.PHOTO_QUEUE.labels("processing").set(depth.processing)
                metrics.OLDEST_PENDING.set(depth.oldest_pending_seconds)
            except Exception:
                log.warning("photo queue not measured", exc_info=True)
            await _wait(stop, self.settings.queue_metrics_interval)

    async def _retention_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.purge_expired()
            except Exception:
                log.exception("retention job failed")
            await _wait(stop, self.settings.retention_interval)

    async def purge_expired(self) -> retention.Purged:
        return await purge_expired(
            engine=self.engine, blobs=self.store, batch=self.settings.retention_batch
        )

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
        started = time.perf_counter()
        outcome = await self.process(photo)
        metrics.PHOTOS_PROCESSED.labels(outcome).inc()
        metrics.PHOTO_SECONDS.observe(time.perf_counter() - started)
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

    async def process(self, photo: ClaimedPhoto) -> str:
        """Analyse one claimed photo and store the result; the outcome (done, failed,
        retry, or lost when the claim was taken over meanwhile)."""
        context = {"photo_id": photo.id, "event_id": photo.event_id, "attempt": photo.attempt}
        try:
            original = await self.store.get(photo.storage_key)
        except blobs.BlobNotFound:
            return await self._retry_or_fail(photo, Reason.ORIGINAL_MISSING, permanent=True)
        try:
            analysis: selfie_pb2.AnalyzePhotoResponse = await self.selfie.AnalyzePhoto(
                selfie_pb2.AnalyzePhotoRequest(image=original),
                timeout=self.settings.analyze_deadline,
            )
        except grpc.RpcError as exc:
            permanent = status_of(exc) in PERMANENT_CODES
            return await self._retry_or_fail(photo, reason_of(exc), permanent=permanent)

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
            return "lost"
        metrics.MATCHES_WRITTEN.labels("photo").inc(matches)
        log.info("photo done", extra={**context, "faces": len(faces), "matches": matches})
        return "done"

    async def _retry_or_fail(self, photo: ClaimedPhoto, reason: Reason, *, permanent: bool) -> str:
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
        return {"failed": "failed", "pending": "retry"}.get(status or "", "lost")


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


async def _wait_any(*events: asyncio.Event, seconds: float) -> None:
    """Until one of ``events`` is set, or ``seconds`` have passed."""
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


async def serve(settings: WorkerSettings) -> None:
    tracing.configure("worker")
    stop_metrics = None
    if settings.metrics_enabled:
        port, stop_metrics = serve_metrics(settings.host, settings.metrics_port)
        log.info("metrics served", extra={"metrics_port": port})
    engine = create_engine(settings, application_name=WORKER_APPLICATION_NAME)
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
        if stop_metrics is not None:
            stop_metrics()
        tracing.shutdown()
    log.info("photo worker stopped")
