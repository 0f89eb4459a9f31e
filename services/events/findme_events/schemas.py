"""Typed shapes passed between the data layer, the cache and the servicer."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class EventRecord:
    id: int
    code: str
    name: str
    organizer_id: int
    match_tolerance: float
    retention_days: int

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
