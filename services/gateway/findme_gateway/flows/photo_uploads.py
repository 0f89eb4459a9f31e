"""An organizer's batch of photos, sent to the events service in calls below its
gRPC message limit."""

from __future__ import annotations

from collections.abc import Sequence

from findme.events.v1 import events_pb2

from findme_gateway.backends import Backends


def batches(contents: Sequence[bytes], max_bytes: int) -> list[list[bytes]]:
    """Consecutive groups of at most ``max_bytes`` (a larger file goes alone)."""
    groups: list[list[bytes]] = []
    size = 0
    for content in contents:
        if not groups or size + len(content) > max_bytes:
            groups.append([])
            size = 0
        groups[-1].append(content)
        size += len(content)
    return groups


async def add_photos(
    *,
    backends: Backends,
    organizer_id: int,
    event_id: int,
    contents: Sequence[bytes],
    batch_bytes: int,
) -> list[events_pb2.AddedPhoto]:
    added: list[events_pb2.AddedPhoto] = []
    for batch in batches(contents, batch_bytes):
        reply = await backends.events.AddPhotos(
            events_pb2.AddPhotosRequest(
                organizer_id=organizer_id,
                event_id=event_id,
                photos=[events_pb2.PhotoUpload(content=content) for content in batch],
            ),
            timeout=backends.deadlines.photos,
        )
        added.extend(reply.photos)
    return added
