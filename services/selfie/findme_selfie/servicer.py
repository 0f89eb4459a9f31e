"""gRPC methods: hand the bytes to the worker pool, map outcomes to statuses."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import grpc
from findme.selfie.v1 import selfie_pb2, selfie_pb2_grpc
from findme_common.grpc_errors import abort

from findme_selfie import jobs
from findme_selfie.config import SelfieSettings
from findme_selfie.errors import ImageRejected
from findme_selfie.pool import Overloaded, WorkerCrashed, WorkerPool
from findme_selfie.schemas import Box

log = logging.getLogger(__name__)

T = TypeVar("T")


def _box(box: Box) -> selfie_pb2.FaceBox:
    return selfie_pb2.FaceBox(top=box.top, right=box.right, bottom=box.bottom, left=box.left)


class SelfieServicer(selfie_pb2_grpc.SelfieServiceServicer):
    def __init__(self, settings: SelfieSettings, pool: WorkerPool) -> None:
        self._settings = settings
        self._pool = pool

    async def _run(self, context: grpc.aio.ServicerContext, job: Callable[[], Awaitable[T]]) -> T:
        try:
            return await job()
        except ImageRejected as exc:
            await abort(context, grpc.StatusCode.INVALID_ARGUMENT, exc.reason, exc.message)
        except Overloaded as exc:
            await abort(
                context,
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                "overloaded",
                "all image workers are busy; retry shortly",
                retry_after=exc.retry_after,
            )
        except WorkerCrashed:
            log.exception("image job lost")
            # UNAVAILABLE: the input is not known to be at fault (the kernel may have
            # killed the worker for memory), so the caller may retry.
            await abort(
                context,
                grpc.StatusCode.UNAVAILABLE,
                "worker_crashed",
                "the image worker stopped unexpectedly; retry",
                retry_after=1,
            )
        raise AssertionError("abort always raises")

    def _check_size(self, data: bytes) -> None:
        # Refused before any work is queued: a too-big upload costs no worker time.
        if len(data) > self._settings.max_bytes:
            raise ImageRejected(
                "too_large", f"the file is larger than {self._settings.max_bytes} bytes"
            )

    async def ProcessSelfie(
        self, request: selfie_pb2.ProcessSelfieRequest, context: grpc.aio.ServicerContext
    ) -> selfie_pb2.ProcessSelfieResponse:
        async def job() -> selfie_pb2.ProcessSelfieResponse:
            self._check_size(request.image)
            result = await self._pool.run(jobs.process_selfie, request.image, self._settings)
            return selfie_pb2.ProcessSelfieResponse(
                jpeg=result.jpeg,
                width=result.width,
                height=result.height,
                face=_box(result.face),
                encoding=result.encoding,
                quality=selfie_pb2.SelfieQuality(
                    source_format=result.source_format,
                    source_width=result.source_width,
                    source_height=result.source_height,
                    face_width=result.face_width,
                    upsampled=result.upsampled,
                    jpeg_quality=result.jpeg_quality,
                ),
            )

        return await self._run(context, job)

    async def AnalyzePhoto(
        self, request: selfie_pb2.AnalyzePhotoRequest, context: grpc.aio.ServicerContext
    ) -> selfie_pb2.AnalyzePhotoResponse:
        async def job() -> selfie_pb2.AnalyzePhotoResponse:
            self._check_size(request.image)
            result = await self._pool.run(jobs.analyze_photo, request.image, self._settings)
            return selfie_pb2.AnalyzePhotoResponse(
                display_jpeg=result.display_jpeg,
                display_width=result.display_width,
                display_height=result.display_height,
                thumbnail_jpeg=result.thumbnail_jpeg,
                faces=[
                    selfie_pb2.DetectedFace(box=_box(face.box), encoding=face.encoding)
                    for face in result.faces
                ],
                source_format=result.source_format,
            )

        return await self._run(context, job)
