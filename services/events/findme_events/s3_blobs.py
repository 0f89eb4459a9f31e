"""``S3BlobStore``: the ``BlobStore`` calls on S3-compatible object storage.

Needed when the events service and the photo workers run on different machines
(Render): both open the same bucket. boto3 is blocking, so every call runs on the
store's own thread pool, sized like the client's connection pool: slow object
storage then queues here instead of starving ``asyncio.to_thread`` users.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from findme_events.blobs import BlobNotFound
from findme_events.config import StoreSettings

T = TypeVar("T")

# DeleteObjects takes at most 1,000 keys, the size of a ListObjectsV2 page.
_DELETE_BATCH = 1000
_MISSING = {"NoSuchKey", "404", "NotFound"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class BlobStoreError(RuntimeError):
    """The object store refused part of a request (e.g. some keys of a batch delete)."""


def _checked(key: str) -> str:
    # S3 keys are opaque strings, but "." / ".." segments are normalised away by some
    # servers and proxies, so a key could land outside the prefix: refuse them, as
    # LocalBlobStore refuses paths that leave its root.
    if (
        not key
        or key.startswith("/")
        or "\\" in key
        or _CONTROL.search(key)
        or any(part in ("", ".", "..") for part in key.rstrip("/").split("/"))
    ):
        raise ValueError(f"blob key outside the store: {key!r}")
    return key


class S3BlobStore:
    """Objects ``<prefix><key>`` in ``bucket``; the client comes ready-configured."""

    def __init__(self, client: Any, bucket: str, prefix: str = "", max_workers: int = 16) -> None:
        if not bucket:
            raise ValueError("S3BlobStore needs a bucket")
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="s3-blobs")

    @classmethod
    def from_settings(cls, settings: StoreSettings) -> S3BlobStore:
        key_id = settings.s3_access_key_id.get_secret_value()
        secret = settings.s3_secret_access_key.get_secret_value()
        config = Config(
            max_pool_connections=settings.s3_max_connections,
            connect_timeout=settings.s3_timeout,
            read_timeout=settings.s3_timeout,
            retries={"mode": "standard", "max_attempts": 3},
            s3={"addressing_style": settings.s3_addressing_style},
            # botocore >= 1.36 adds CRC checksums to every upload by default, which
            # several S3-compatible servers reject; send them only where S3 requires.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        client = boto3.session.Session().client(
            "s3",
            endpoint_url=settings.s3_endpoint_url or None,
            region_name=settings.s3_region or None,
            aws_access_key_id=key_id or None,
            aws_secret_access_key=secret or None,
            config=config,
        )
        return cls(client, settings.s3_bucket, settings.s3_prefix, settings.s3_max_connections)

    def _key(self, key: str) -> str:
        return self.prefix + _checked(key)

    async def _run(self, call: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, call, *args)

    def _put(self, key: str, data: bytes) -> None:
        # A single PUT is atomic: readers see the old object or the new one, never part.
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)

    def _get(self, key: str) -> bytes:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                raise BlobNotFound(key) from None
            raise
        with response["Body"] as body:
            data: bytes = body.read()
        return data

    def _delete(self, key: str) -> None:
        # Deleting a missing object succeeds on S3, as unlink(missing_ok=True) does.
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def _delete_prefix(self, prefix: str) -> None:
        # Always a whole "directory": events/1 must not take events/10/ with it.
        full = self._key(prefix.rstrip("/")) + "/"
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=full, PaginationConfig={"PageSize": _DELETE_BATCH}
        )
        for page in pages:
            objects = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if not objects:
                continue
            response = self.client.delete_objects(
                Bucket=self.bucket, Delete={"Objects": objects, "Quiet": True}
            )
            if errors := response.get("Errors"):
                first = errors[0]
                raise BlobStoreError(
                    f"{len(errors)} objects under {full!r} not deleted, first "
                    f"{first.get('Key')!r}: {first.get('Code')} {first.get('Message')}"
                )

    async def put(self, key: str, data: bytes) -> None:
        await self._run(self._put, key, data)

    async def get(self, key: str) -> bytes:
        return await self._run(self._get, key)

    async def delete(self, key: str) -> None:
        await self._run(self._delete, key)

    async def delete_prefix(self, prefix: str) -> None:
        await self._run(self._delete_prefix, prefix)

    def shutdown(self) -> None:
        """Stop the thread pool; the client stays usable by whoever else holds it."""
        self._pool.shutdown(wait=False)

    def close(self) -> None:
        self.shutdown()
        self.client.close()
