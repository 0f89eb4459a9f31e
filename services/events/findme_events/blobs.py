"""Blob store for photo originals, display copies and thumbnails.

One small interface (put/get/delete/delete_prefix) so the rest of the service does
not care where bytes live. ``LocalBlobStore`` (a directory) is the default;
``s3_blobs.S3BlobStore`` implements the same four calls on S3-compatible storage.
``open_blob_store`` picks one from the settings.
Keys are relative paths like ``events/12/originals/<sha256>``; every photo of an
event lives under ``events/<id>/`` so deleting an event is one prefix delete.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from findme_events.config import StoreSettings

log = logging.getLogger(__name__)


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


def open_blob_store(settings: StoreSettings) -> BlobStore:
    """S3 when ``S3_BUCKET`` is set, else the directory ``BLOB_DIR``."""
    if not settings.s3_bucket:
        log.info("blob store", extra={"kind": "local", "dir": str(settings.blob_dir)})
        return LocalBlobStore(settings.blob_dir)
    # Imported here: boto3 is slow to import and unused by local deployments.
    from findme_events.s3_blobs import S3BlobStore

    # Host only: an endpoint URL may carry credentials; the keys are never logged.
    endpoint = urlsplit(settings.s3_endpoint_url).hostname or "aws"
    log.info(
        "blob store",
        extra={
            "kind": "s3",
            "bucket": settings.s3_bucket,
            "prefix": settings.s3_prefix,
            "endpoint": endpoint,
        },
    )
    return S3BlobStore.from_settings(settings)
