"""Typed shapes of the public HTTP API (the README's API table). Shapes only.

Bounds here only keep absurd input away from the backends; the events and auth
services own the real rules (code format, username policy, password length).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import Path
from pydantic import BaseModel, Field, StringConstraints

EventCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Username = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
    ),
]
# Passwords are taken verbatim (no stripping); new ones have a minimum length.
NewPassword = Annotated[str, StringConstraints(min_length=8, max_length=1024)]
Password = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
EventName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
# Values that travel as protobuf int64 / int32: anything wider is refused here (422),
# never left to overflow in the gRPC client.
PathId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Days = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]


class CheckEventCodeIn(BaseModel):
    event_code: EventCode


class CheckAvailabilityIn(BaseModel):
    event_code: EventCode
    username: Username


class RegisterIn(BaseModel):
    event_code: EventCode
    username: Username
    password: NewPassword


class LoginIn(BaseModel):
    event_code: EventCode
    username: Username
    password: Password


class OrganizerSignUpIn(BaseModel):
    email: Email
    password: NewPassword


class OrganizerLoginIn(BaseModel):
    email: Email
    password: Password


class CreateEventIn(BaseModel):
    """Only the name is required; the events service validates the rest and fills
    in its defaults (match tolerance, retention days)."""

    name: EventName
    starts_on: date | None = None
    ends_on: date | None = None
    match_tolerance: float | None = None
    retention_days: Days | None = None


class EventSummary(BaseModel):
    id: int
    name: str


class CheckEventCodeOut(BaseModel):
    valid: bool
    event: EventSummary | None


class CheckAvailabilityOut(BaseModel):
    username_taken: bool


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class AttendeeOut(BaseModel):
    id: int
    username: str


class RegisterOut(TokenOut):
    attendee: AttendeeOut


class EventOut(BaseModel):
    id: int
    code: str
    name: str


class FaceBoxOut(BaseModel):
    top: int
    right: int
    bottom: int
    left: int


class SelfieOut(BaseModel):
    face: FaceBoxOut
    stored_bytes: int
    matches: int
    # The attendee's selfies now (at most 3; each one is matched).
    selfies: int = 1


# -- organizer: events, photos, invites ------------------------------------------------


class EventDetailOut(BaseModel):
    id: int
    code: str
    name: str
    starts_on: date | None
    ends_on: date | None
    match_tolerance: float
    retention_days: int


class EventListOut(BaseModel):
    events: list[EventDetailOut]


class UpdateEventIn(BaseModel):
    """Fields left out stay as they are; the events service validates the values."""

    name: EventName | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    match_tolerance: float | None = None
    retention_days: Days | None = None


class CreateInviteIn(BaseModel):
    # None: the service default (a week).
    valid_for_seconds: Annotated[int, Field(gt=0, le=90 * 24 * 3600)] | None = None


class InviteOut(BaseModel):
    token: str
    register_url: str
    expires_at: datetime


class PhotoStatusOut(BaseModel):
    id: int
    status: str
    duplicate: bool = False


class PhotosAcceptedOut(BaseModel):
    photos: list[PhotoStatusOut]


class ProgressOut(BaseModel):
    pending: int
    processing: int
    done: int
    failed: int


class EventStatsOut(BaseModel):
    attendees: int
    selfies: int
    photos: ProgressOut
    faces: int
    matches: int
    # Open "maybe you?" suggestions; photos flagged "you missed me here".
    suggestions: int
    missed_photos: int


# -- attendee: my photos, invites ------------------------------------------------------


class MyPhotoOut(BaseModel):
    photo_id: int
    url: str
    thumbnail_url: str
    distance: float
    detected_at: datetime


class MyPhotosOut(BaseModel):
    items: list[MyPhotoOut]
    next_cursor: str | None


class SuggestionOut(BaseModel):
    photo_id: int
    url: str
    thumbnail_url: str
    distance: float


class SuggestionsOut(BaseModel):
    items: list[SuggestionOut]
    next_cursor: str | None


class AnswerIn(BaseModel):
    answer: Literal["me", "not_me"]


class MissedIn(BaseModel):
    photo_id: Annotated[int, Field(ge=1, le=2**63 - 1)]


class MissedOut(BaseModel):
    photo_id: int
    # pending, processing, done or failed.
    status: str
    # When done: whether you now have this photo, as a match or a suggestion.
    found: bool


class InviteRegisterOut(RegisterOut):
    selfie: SelfieOut
