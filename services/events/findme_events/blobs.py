"""Blob store for photo originals, display copies and thumbnails.

One small interface (put/get/delete/delete_prefix) so the rest of the service does
not care where bytes live. ``LocalBlobStore`` (a directory) is the default and what
runs here; an S3-compatible store implements the same four calls (see README).
Keys are relative paths like ``events/12/originals/<sha256>``; every photo of an
event lives under ``events/<id>/`` so deleting an event is one prefix delete.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from pathlib import Path
from typing import Protocol


class BlobNotFound(KeyError):
    pass


class BlobStore(Protocol):
    async def put(self, key: str, data: bytes) -> None: ...
    async def get(self, key: str) -> bytes: ...
    async def delete(self, key: str) -> None: ...
    async def delete_prefix(self, prefix: str) -> None: ...


def event_prefix(event_id: int) -> str:
    return f"events/{event_id}/"


def original_key(event_id: int, content_hash: str) -> str:
    # Content-addressed: a re-upload of the same file writes the same bytes to the same key.
    return f"{event_prefix(event_id)}originals/{content_hash}"


def display_key(event_id: int, photo_id: int) -> str:
    return f"{event_prefix(event_id)}display/{photo_id}.jpg"


def thumbnail_key(event_id: int, photo_id: int) -> str:
    return f"{event_prefix(event_id)}thumbnails/{photo_id}.jpg"


class LocalBlobStore:
    """Files under ``root``; writes are atomic (temp file + rename), I/O off the loop."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        # Keys are built by this service, but never let one escape the root.
        if self.root not in path.parents:
            raise ValueError(f"blob key outside the store: {key!r}")
        return path

    def _put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise BlobNotFound(key) from None

    def _delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def _delete_prefix(self, prefix: str) -> None:
        path = self._path(prefix.rstrip("/"))
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)

    async def put(self, key: str, data: bytes) -> None:
        await asyncio.to_thread(self._put, key, data)

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self._get, key)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._delete, key)

    async def delete_prefix(self, prefix: str) -> None:
        await asyncio.to_thread(self._delete_prefix, prefix)
