"""The retention job: everything past its event's retention goes. Run by the photo
worker on a timer and by ``findme-admin retention``; it needs the database and the
blob store only (no cache), so it takes them directly rather than ``Resources``."""

from __future__ import annotations

import dataclasses
import logging

from sqlalchemy.ext.asyncio import AsyncEngine

from findme_events.blobs import BlobStore
from findme_events.store import retention

log = logging.getLogger(__name__)


async def purge_expired(*, engine: AsyncEngine, blobs: BlobStore, batch: int) -> retention.Purged:
    """Matches, selfies and faces in one transaction, then failed photos in batches,
    their blobs first (a batch's rows stay locked, and are deleted only once their
    files are gone)."""
    async with engine.begin() as conn:
        purged = await retention.purge(conn=conn)
    failed = 0
    while True:
        async with engine.begin() as conn:
            expired = await retention.expired_failed_photos(conn=conn, limit=batch)
            for photo in expired:
                for key in photo.blob_keys:
                    await blobs.delete(key)
            if expired:
                failed += await retention.delete_photos(
                    conn=conn, photo_ids=[photo.id for photo in expired]
                )
        if len(expired) < batch:
            break
    purged = dataclasses.replace(purged, failed_photos=failed)
    if purged:
        log.info("retention purge", extra=dataclasses.asdict(purged))
    return purged
