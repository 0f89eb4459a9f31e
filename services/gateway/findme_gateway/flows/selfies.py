"""Selfie upload: the selfie service checks and encodes the image, the events
service stores it and recomputes the attendee's matches."""

from __future__ import annotations

from dataclasses import dataclass

from findme.events.v1 import events_pb2
from findme.selfie.v1 import selfie_pb2

from findme_gateway.backends import Backends


@dataclass(frozen=True, slots=True)
class SavedSelfie:
    top: int
    right: int
    bottom: int
    left: int
    stored_bytes: int
    matches: int
    selfies: int = 1


async def process_selfie(backends: Backends, image: bytes) -> selfie_pb2.ProcessSelfieResponse:
    """The image checked (exactly one whole face), compressed and encoded."""
    return await backends.selfie.ProcessSelfie(
        selfie_pb2.ProcessSelfieRequest(image=image), timeout=backends.deadlines.selfie
    )


def face_box(box: selfie_pb2.FaceBox) -> events_pb2.FaceBox:
    return events_pb2.FaceBox(top=box.top, right=box.right, bottom=box.bottom, left=box.left)


def saved_selfie(
    box: selfie_pb2.FaceBox, *, stored_bytes: int, matches: int, selfies: int = 1
) -> SavedSelfie:
    return SavedSelfie(
        top=box.top,
        right=box.right,
        bottom=box.bottom,
        left=box.left,
        stored_bytes=stored_bytes,
        matches=matches,
        selfies=selfies,
    )


async def upload_selfie(
    *, backends: Backends, attendee_id: int, image: bytes, add: bool = False
) -> SavedSelfie:
    """The selfie checked and stored: the attendee's only one, or (``add``) another
    of up to three."""
    processed = await process_selfie(backends, image)
    box = processed.face
    saved = await backends.events.SaveSelfie(
        events_pb2.SaveSelfieRequest(
            attendee_id=attendee_id,
            jpeg=processed.jpeg,
            encoding=processed.encoding,
            face=face_box(box),
            add=add,
        ),
        # Matching runs inside this call; give it the image-work budget.
        timeout=backends.deadlines.selfie,
    )
    return saved_selfie(
        box, stored_bytes=saved.stored_bytes, matches=saved.matches, selfies=saved.selfies
    )
