"""What every use case runs against, built once when the service starts."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from findme_events.blobs import BlobStore
from findme_events.cache import EventCache
from findme_events.config import EventsSettings


@dataclass(frozen=True)
class Resources:
    engine: AsyncEngine
    cache: EventCache
    blobs: BlobStore
    settings: EventsSettings
