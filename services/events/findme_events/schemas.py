"""Typed shapes passed between the data layer, the cache and the servicer."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class EventRecord:
    id: int
    code: str
    name: str
    organizer_id: int
    match_tolerance: float
    retention_days: int
    # ISO dates or None.
    starts_on: str | None = None
    ends_on: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EventRecord:
        return cls(
            id=int(data["id"]),
            code=str(data["code"]),
            name=str(data["name"]),
            organizer_id=int(data["organizer_id"]),
            match_tolerance=float(data["match_tolerance"]),
            retention_days=int(data["retention_days"]),
            # Entries cached before dates existed have no such keys.
            starts_on=data.get("starts_on"),
            ends_on=data.get("ends_on"),
        )


@dataclass(frozen=True, slots=True)
class CredentialsRecord:
    found: bool
    subject_id: int = 0
    event_id: int = 0
    password_hash: str = ""
    account: str = ""


@dataclass(frozen=True, slots=True)
class AttendeeRecord:
    id: int
    event_id: int
    username: str


@dataclass(frozen=True, slots=True)
class FaceBox:
    top: int
    right: int
    bottom: int
    left: int


@dataclass(frozen=True, slots=True)
class AddedPhoto:
    id: int
    status: str
    duplicate: bool


@dataclass(frozen=True, slots=True)
class Progress:
    pending: int = 0
    processing: int = 0
    done: int = 0
    failed: int = 0


@dataclass(frozen=True, slots=True)
class EventStats:
    attendees: int
    selfies: int
    photos: Progress
    faces: int
    matches: int
    suggestions: int = 0
    missed_photos: int = 0


@dataclass(frozen=True, slots=True)
class MyPhoto:
    photo_id: int
    distance: float
    detected_at: datetime


@dataclass(frozen=True, slots=True)
class MyPhotosPage:
    items: list[MyPhoto]
    next_cursor: str


@dataclass(frozen=True, slots=True)
class DetectedFace:
    box: FaceBox
    encoding: list[float]


@dataclass(frozen=True, slots=True)
class QueueDepth:
    """The photo queue across events (metrics, the admin CLI)."""

    pending: int
    processing: int
    oldest_pending_seconds: float


@dataclass(frozen=True, slots=True)
class ClaimedPhoto:
    """A claim on one photo; ``attempt`` fences it: a worker whose lease expired and
    was re-claimed by another can no longer store results."""

    id: int
    event_id: int
    storage_key: str
    attempt: int


@dataclass(frozen=True, slots=True)
class MissedPhotoRecord:
    photo_id: int
    status: str
    found: bool


@dataclass(frozen=True, slots=True)
class ClaimedFlag:
    """A claim on one "you missed me here" flag, fenced by ``attempt`` like a photo's."""

    id: int
    attendee_id: int
    event_id: int
    photo_id: int
    storage_key: str
    attempt: int
