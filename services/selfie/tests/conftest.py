"""A real selfie gRPC server with a real process pool, and hand-made hostile inputs."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import grpc
import numpy as np
import pillow_heif
import pytest
from findme.selfie.v1 import selfie_pb2_grpc
from findme_common.grpc_server import start, stop
from findme_selfie.config import SelfieSettings
from findme_selfie.pool import WorkerPool
from findme_selfie.server import build
from PIL import Image


@dataclass
class RunningSelfie:
    stub: selfie_pb2_grpc.SelfieServiceStub
    pool: WorkerPool
    settings: SelfieSettings


@asynccontextmanager
async def running_selfie(**overrides: object) -> AsyncIterator[RunningSelfie]:
    """The service as ``serve`` builds it (pool started first), on a free loopback port."""
    values: dict[str, object] = {"host": "127.0.0.1", "port": 0, "metrics_port": 0, **overrides}
    settings = SelfieSettings(**values)  # type: ignore[arg-type]
    service = build(settings)
    started = await start(service)
    channel = grpc.aio.insecure_channel(
        f"127.0.0.1:{started.port}",
        options=[
            ("grpc.max_receive_message_length", settings.max_message_bytes),
            ("grpc.max_send_message_length", settings.max_message_bytes),
        ],
    )
    try:
        yield RunningSelfie(
            selfie_pb2_grpc.SelfieServiceStub(channel), service.extra["pool"], settings
        )
    finally:
        await channel.close()
        await stop(service, started, None)


@pytest.fixture(scope="module")
async def selfie() -> AsyncIterator[RunningSelfie]:
    async with running_selfie(workers=2) as running:
        yield running


@pytest.fixture(scope="session")
def read_face(faces_dir: Path) -> Callable[[str], bytes]:
    return lambda name: (faces_dir / name).read_bytes()


@pytest.fixture(scope="session")
def start_selfie() -> Callable[..., AbstractAsyncContextManager[RunningSelfie]]:
    """Starts a dedicated server with settings overrides (e.g. workers=1)."""
    return running_selfie


# EXIF orientation -> how a camera stored the pixels of an upright scene.
STORED_TURN = {
    3: Image.Transpose.ROTATE_180,
    6: Image.Transpose.ROTATE_90,
    8: Image.Transpose.ROTATE_270,
}


class Samples:
    """Hand-made inputs, built in the test rather than stored."""

    @staticmethod
    def _chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    @staticmethod
    def png_bytes(
        width: int, height: int, *, bit_depth: int, color_type: int, rows: bytes
    ) -> bytes:
        """A PNG written by hand, for what PIL will not write (16-bit RGB, lying headers)."""
        header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n"
            + Samples._chunk(b"IHDR", header)
            + Samples._chunk(b"IDAT", zlib.compress(rows, 9))
            + Samples._chunk(b"IEND", b"")
        )

    @staticmethod
    def png_16bit_rgb(image: Image.Image) -> bytes:
        """``image`` as a 48-bit (16 bits per channel) PNG."""
        rgb = image.convert("RGB")
        rows = bytearray()
        for y in range(rgb.height):
            rows.append(0)  # filter: none
            for r, g, b in (rgb.getpixel((x, y)) for x in range(rgb.width)):  # type: ignore[misc]
                rows += struct.pack(">HHH", r * 257, g * 257, b * 257)
        return Samples.png_bytes(
            rgb.width, rgb.height, bit_depth=16, color_type=2, rows=bytes(rows)
        )

    @staticmethod
    def png_bomb(side: int = 20000) -> bytes:
        """A tiny file claiming ``side`` x ``side`` pixels: its IHDR is patched, CRC fixed."""
        small = io.BytesIO()
        Image.new("L", (8, 8)).save(small, "PNG")
        data = bytearray(small.getvalue())
        ihdr_at = data.index(b"IHDR")
        data[ihdr_at + 4 : ihdr_at + 12] = struct.pack(">II", side, side)
        crc = zlib.crc32(bytes(data[ihdr_at : ihdr_at + 17]))
        data[ihdr_at + 17 : ihdr_at + 21] = struct.pack(">I", crc)
        return bytes(data)

    @staticmethod
    def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
        out = io.BytesIO()
        if fmt == "HEIF":
            pillow_heif.register_heif_opener()
        image.save(out, fmt, **params)
        return out.getvalue()

    @staticmethod
    def exif_rotated_jpeg(image: Image.Image, orientation: int = 6) -> bytes:
        """Pixels stored turned, with the EXIF Orientation that tells viewers to undo it."""
        stored = image.convert("RGB").transpose(STORED_TURN[orientation])
        exif = Image.Exif()
        exif[0x0112] = orientation
        return Samples.encode(stored, "JPEG", quality=92, exif=exif.tobytes())

    @staticmethod
    def face_in_noise(face: Image.Image, side: int = 600, seed: int = 0) -> bytes:
        """``face`` pasted on random noise: the worst case for JPEG size (PNG input)."""
        noise = np.random.default_rng(seed).integers(0, 256, (side, side, 3), dtype=np.uint8)
        canvas = Image.fromarray(noise)
        canvas.paste(face, ((side - face.width) // 2, (side - face.height) // 2))
        return Samples.encode(canvas, "PNG")


@pytest.fixture(scope="session")
def samples() -> type[Samples]:
    return Samples
