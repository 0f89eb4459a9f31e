"""gRPC methods: hand the bytes to the worker pool and the results back as messages.
Refusals (image rejected, overloaded, worker crashed) reach the caller through the
shared server interceptor."""

from __future__ import annotations

from typing import Any

import grpc
from findme.selfie.v1 import selfie_pb2, selfie_pb2_grpc
from findme_common.refusals import Reason, Refusal

from findme_selfie import jobs
from findme_selfie.config import SelfieSettings
from findme_selfie.pool import WorkerPool
from findme_selfie.schemas import Box

Context = grpc.aio.ServicerContext[Any, Any]


def _box(box: Box) -> selfie_pb2.FaceBox:
    return selfie_pb2.FaceBox(top=box.top, right=box.right, bottom=box.bottom, left=box.left)


class SelfieServicer(selfie_pb2_grpc.SelfieServiceServicer):
    def __init__(self, settings: SelfieSettings, pool: WorkerPool) -> None:
        self._settings = settings
        self._pool = pool

    def _check_size(self, data: bytes) -> None:
        # Refused before any work is queued: a too-big upload costs no worker time.
        if len(data) > self._settings.max_bytes:
            raise Refusal(
                Reason.TOO_LARGE, f"the file is larger than {self._settings.max_bytes} bytes"
            )

    async def ProcessSelfie(
        self, request: selfie_pb2.ProcessSelfieRequest, context: Context
    ) -> selfie_pb2.ProcessSelfieResponse:
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

    async def AnalyzePhoto(
        self, request: selfie_pb2.AnalyzePhotoRequest, context: Context
    ) -> selfie_pb2.AnalyzePhotoResponse:
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

    async def LookCloser(
        self, request: selfie_pb2.LookCloserRequest, context: Context
    ) -> selfie_pb2.LookCloserResponse:
        # The same pool and admission control as every other job: a closer look
        # waits its turn or is refused as overloaded, like a selfie.
        self._check_size(request.image)
        result = await self._pool.run(jobs.look_closer, request.image, self._settings)
        return selfie_pb2.LookCloserResponse(
            faces=[
                selfie_pb2.DetectedFace(box=_box(face.box), encoding=face.encoding)
                for face in result.faces
            ],
            display_width=result.display_width,
            display_height=result.display_height,
        )
