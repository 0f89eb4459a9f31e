"""S3BlobStore against a real S3-compatible server: moto's, as its own process on a
free loopback port, spoken to over HTTP by the same boto3 client production uses."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from findme_events import blobs
from findme_events.blobs import BlobNotFound, LocalBlobStore, open_blob_store
from findme_events.config import EventsSettings
from findme_events.s3_blobs import S3BlobStore
from pydantic import ValidationError

DATABASE_URL = "postgresql://unused@127.0.0.1:1/unused"  # never connected to here
CREDENTIALS = {"s3_access_key_id": "test-key-id", "s3_secret_access_key": "test-secret"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto server did not start") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _settings(endpoint: str, bucket: str, **overrides: Any) -> EventsSettings:
    values: dict[str, Any] = {
        "database_url": DATABASE_URL,
        "s3_bucket": bucket,
        "s3_endpoint_url": endpoint,
        "s3_region": "us-east-1",
        **CREDENTIALS,
        **overrides,
    }
    return EventsSettings(**values)


@pytest.fixture(scope="module")
def s3_client(s3_endpoint: str) -> Iterator[Any]:
    # One client configured exactly as production's (from_settings), shared by the
    # tests: building a boto3 client costs ~0.4 s of CPU.
    s3 = S3BlobStore.from_settings(_settings(s3_endpoint, "unused"))
    yield s3.client
    s3.close()


@pytest.fixture
def bucket(s3_client: Any) -> str:
    name = f"findme-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=name)
    return name


@pytest.fixture
def store(s3_client: Any, bucket: str) -> Iterator[S3BlobStore]:
    s3 = S3BlobStore(s3_client, bucket, prefix="findme/")
    yield s3
    s3.shutdown()


def _keys(s3: S3BlobStore) -> list[str]:
    pages = s3.client.get_paginator("list_objects_v2").paginate(Bucket=s3.bucket)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


async def test_put_get_overwrite_delete_roundtrip(store: S3BlobStore) -> None:
    key = blobs.original_key(7, "ab" * 32)
    data = bytes(range(256)) * 10
    await store.put(key, data)
    assert await store.get(key) == data
    # Stored under the configured prefix, nothing else written.
    assert _keys(store) == [f"findme/{key}"]

    await store.put(key, b"second")
    assert await store.get(key) == b"second"

    await store.delete(key)
    with pytest.raises(BlobNotFound):
        await store.get(key)
    assert _keys(store) == []
    await store.delete(key)  # deleting what is gone is not an error, as locally


async def test_missing_key_is_blob_not_found(store: S3BlobStore) -> None:
    with pytest.raises(BlobNotFound) as caught:
        await store.get(blobs.display_key(3, 99))
    assert isinstance(caught.value, KeyError)


async def test_missing_bucket_is_not_mistaken_for_a_missing_blob(s3_endpoint: str) -> None:
    # A misconfigured bucket must surface as an error, not as "this photo has no file".
    s3 = S3BlobStore.from_settings(_settings(s3_endpoint, f"absent-{uuid.uuid4().hex[:8]}"))
    try:
        with pytest.raises(ClientError) as caught:
            await s3.get(blobs.display_key(3, 99))
        assert not isinstance(caught.value, BlobNotFound)
    finally:
        s3.close()


async def test_delete_prefix_removes_exactly_one_event_across_list_pages(
    store: S3BlobStore,
) -> None:
    # 1,100 keys: more than one 1,000-key ListObjectsV2 page and DeleteObjects batch.
    doomed = [blobs.original_key(1, f"{i:064x}") for i in range(1_100)]
    await asyncio.gather(*(store.put(key, b"x") for key in doomed))
    kept = [
        blobs.display_key(10, 1),  # events/10/ shares the characters "events/1"
        blobs.thumbnail_key(2, 5),
        "events/1",  # a sibling object named like the prefix without its slash
    ]
    for key in kept:
        await store.put(key, b"keep")
    # Outside the store's prefix: another application's objects in the same bucket.
    store.client.put_object(Bucket=store.bucket, Key="other/events/1/x", Body=b"theirs")

    await store.delete_prefix(blobs.event_prefix(1))

    assert _keys(store) == sorted([*(f"findme/{k}" for k in kept), "other/events/1/x"])
    await store.delete_prefix(blobs.event_prefix(1))  # nothing left: still fine


@pytest.mark.parametrize(
    "key",
    [
        "",
        "..",
        "/events/1/a",
        "../events/1/a",
        "events/../../a",
        "events/./1/a",
        "events//1/a",
        "a\\b",
        "events/1/\na",
    ],
)
async def test_keys_escaping_the_prefix_are_refused(store: S3BlobStore, key: str) -> None:
    for call in (store.put(key, b"x"), store.get(key), store.delete(key)):
        with pytest.raises(ValueError, match="outside the store"):
            await call
    with pytest.raises(ValueError, match="outside the store"):
        await store.delete_prefix(key)
    assert _keys(store) == []


async def test_delete_prefix_refuses_the_whole_store(store: S3BlobStore) -> None:
    await store.put("events/1/a", b"x")
    for prefix in ("", "/"):
        with pytest.raises(ValueError):
            await store.delete_prefix(prefix)
    assert _keys(store) == ["findme/events/1/a"]


async def test_factory_picks_s3_from_the_environment(
    s3_endpoint: str, bucket: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name, value in {
        "DATABASE_URL": DATABASE_URL,
        "BLOB_DIR": str(tmp_path / "unused"),
        "S3_BUCKET": bucket,
        "S3_ENDPOINT_URL": s3_endpoint,
        "S3_REGION": "us-east-1",
        "S3_PREFIX": "photos",
        "S3_ACCESS_KEY_ID": "test-key-id",
        "S3_SECRET_ACCESS_KEY": "test-secret",
        "S3_ADDRESSING_STYLE": "path",
    }.items():
        monkeypatch.setenv(f"FINDME_EVENTS_{name}", value)
    settings = EventsSettings()  # type: ignore[call-arg]
    # Credentials never show in a repr (or a log line built from one).
    assert "test-secret" not in repr(settings) and "test-key-id" not in repr(settings)

    store = open_blob_store(settings)
    assert isinstance(store, S3BlobStore)
    await store.put(blobs.thumbnail_key(4, 2), b"thumb")
    raw = boto3.session.Session().client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="test-key-id",
        aws_secret_access_key="test-secret",
    )
    stored = raw.get_object(Bucket=bucket, Key="photos/events/4/thumbnails/2.jpg")
    assert stored["Body"].read() == b"thumb"
    raw.close()
    store.close()
    assert not (tmp_path / "unused").exists()


def test_factory_defaults_to_the_local_directory(tmp_path: Path) -> None:
    settings = EventsSettings(database_url=DATABASE_URL, blob_dir=tmp_path)
    assert isinstance(open_blob_store(settings), LocalBlobStore)


def test_s3_settings_are_validated() -> None:
    assert EventsSettings(database_url=DATABASE_URL, s3_prefix=" /a/b/ ").s3_prefix == "a/b/"
    assert EventsSettings(database_url=DATABASE_URL, s3_prefix="/").s3_prefix == ""
    for prefix in ("a/../b", "a//b", "a\\b"):
        with pytest.raises(ValidationError):
            EventsSettings(database_url=DATABASE_URL, s3_prefix=prefix)
    with pytest.raises(ValidationError, match="go together"):
        EventsSettings(database_url=DATABASE_URL, s3_access_key_id="only-the-id")
