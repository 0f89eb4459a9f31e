"""What each RPC does: validate and normalise input, resolve event codes through
the cache, run the data functions in one transaction each."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from findme_events import codes, repository, usernames
from findme_events.cache import EventCache
from findme_events.errors import InvalidArgument, NotFound
from findme_events.models import ENCODING_DIMENSIONS
from findme_events.schemas import AttendeeRecord, CredentialsRecord, EventRecord, FaceBox

MAX_EMAIL_LENGTH = 254
MAX_EVENT_NAME_LENGTH = 200
# bcrypt/argon2 strings are < 128 characters; anything far longer is a caller bug.
MAX_PASSWORD_HASH_LENGTH = 512


def normalize_email(email: str) -> str:
    return email.strip().lower()


def _valid_email(email: str) -> str:
    normalized = normalize_email(email)
    local, at, domain = normalized.rpartition("@")
    if (
        not at
        or not local
        or "." not in domain.strip(".")
        or len(normalized) > MAX_EMAIL_LENGTH
        or any(char.isspace() for char in normalized)
    ):
        raise InvalidArgument("invalid_email", "a valid email address is required")
    return normalized


def _valid_password_hash(password_hash: str) -> str:
    if not password_hash or len(password_hash) > MAX_PASSWORD_HASH_LENGTH:
        raise InvalidArgument("invalid_password_hash", "a password hash is required")
    return password_hash


def _valid_encoding(encoding: Sequence[float]) -> list[float]:
    values = [float(value) for value in encoding]
    if len(values) != ENCODING_DIMENSIONS or not all(abs(v) < float("inf") for v in values):
        raise InvalidArgument(
            "invalid_encoding", f"a face encoding is {ENCODING_DIMENSIONS} finite numbers"
        )
    return values


def event_loader(engine: AsyncEngine) -> Callable[[str], Awaitable[EventRecord | None]]:
    """The cache's source of truth: the event with a (normalised) code, from Postgres."""

    async def load(code: str) -> EventRecord | None:
        async with engine.connect() as conn:
            return await repository.event_by_code(conn=conn, code=code)

    return load


@dataclass
class Operations:
    engine: AsyncEngine
    cache: EventCache
    default_match_tolerance: float
    default_retention_days: int
    max_selfie_bytes: int

    # -- organizers ------------------------------------------------------------------

    async def create_organizer(self, *, email: str, password_hash: str) -> int:
        email = _valid_email(email)
        password_hash = _valid_password_hash(password_hash)
        async with self.engine.begin() as conn:
            return await repository.create_organizer(
                conn=conn, email=email, password_hash=password_hash
            )

    async def organizer_credentials(self, *, email: str) -> CredentialsRecord:
        async with self.engine.connect() as conn:
            return await repository.organizer_credentials(conn=conn, email=normalize_email(email))

    async def update_organizer_password_hash(
        self, *, organizer_id: int, password_hash: str
    ) -> None:
        password_hash = _valid_password_hash(password_hash)
        async with self.engine.begin() as conn:
            await repository.update_organizer_password_hash(
                conn=conn, organizer_id=organizer_id, password_hash=password_hash
            )

    # -- events ----------------------------------------------------------------------

    async def create_event(self, *, organizer_id: int, name: str) -> EventRecord:
        name = name.strip()
        if not name or len(name) > MAX_EVENT_NAME_LENGTH:
            raise InvalidArgument(
                "invalid_event_name", f"an event name is 1 to {MAX_EVENT_NAME_LENGTH} characters"
            )
        async with self.engine.begin() as conn:
            event = await repository.create_event(
                conn=conn,
                organizer_id=organizer_id,
                name=name,
                match_tolerance=self.default_match_tolerance,
                retention_days=self.default_retention_days,
            )
        # Someone may have probed this code before it existed: drop the cached absence.
        await self.cache.invalidate(event.code)
        return event

    async def update_event(
        self,
        *,
        event_id: int,
        name: str | None = None,
        match_tolerance: float | None = None,
        retention_days: int | None = None,
    ) -> EventRecord:
        async with self.engine.begin() as conn:
            event = await repository.update_event(
                conn=conn,
                event_id=event_id,
                name=name,
                match_tolerance=match_tolerance,
                retention_days=retention_days,
            )
        await self.cache.invalidate(event.code)
        return event

    async def event_by_code(self, *, code: str) -> EventRecord | None:
        return await self.cache.get(codes.normalize(code))

    async def _existing_event(self, code: str) -> EventRecord:
        event = await self.event_by_code(code=code)
        if event is None:
            raise NotFound("event_not_found", "no event has this code")
        return event

    # -- attendees -------------------------------------------------------------------

    async def username_taken(self, *, event_code: str, username: str) -> bool:
        event = await self._existing_event(event_code)
        key = usernames.normalize(username)
        async with self.engine.connect() as conn:
            return await repository.username_taken(conn=conn, event_id=event.id, username_key=key)

    async def create_attendee(
        self, *, event_code: str, username: str, password_hash: str
    ) -> AttendeeRecord:
        event = await self._existing_event(event_code)
        key = usernames.normalize(username)
        password_hash = _valid_password_hash(password_hash)
        async with self.engine.begin() as conn:
            return await repository.create_attendee(
                conn=conn,
                event_id=event.id,
                username=usernames.display_name(username),
                username_key=key,
                password_hash=password_hash,
            )

    async def attendee_credentials(self, *, event_code: str, username: str) -> CredentialsRecord:
        # Login answers "not found" for anything unusable, so it cannot reveal why.
        account = usernames.canonical(username)
        code = codes.try_normalize(event_code)
        event = None if code is None else await self.cache.get(code)
        if event is None:
            return CredentialsRecord(found=False, account=account)
        try:
            key = usernames.normalize(username)
        except InvalidArgument:
            return CredentialsRecord(found=False, event_id=event.id, account=account)
        async with self.engine.connect() as conn:
            return await repository.attendee_credentials(
                conn=conn, event_id=event.id, username_key=key
            )

    async def update_attendee_password_hash(self, *, attendee_id: int, password_hash: str) -> None:
        password_hash = _valid_password_hash(password_hash)
        async with self.engine.begin() as conn:
            await repository.update_attendee_password_hash(
                conn=conn, attendee_id=attendee_id, password_hash=password_hash
            )

    # -- selfies ---------------------------------------------------------------------

    async def save_selfie(
        self, *, attendee_id: int, jpeg: bytes, encoding: Sequence[float], face: FaceBox
    ) -> tuple[int, int]:
        """Returns (number of matched photos, stored bytes)."""
        if not jpeg:
            raise InvalidArgument("invalid_selfie", "the selfie JPEG is empty")
        if len(jpeg) > self.max_selfie_bytes:
            raise InvalidArgument(
                "too_large", f"a stored selfie is at most {self.max_selfie_bytes} bytes"
            )
        vector = _valid_encoding(encoding)
        async with self.engine.begin() as conn:
            matches = await repository.save_selfie(
                conn=conn, attendee_id=attendee_id, jpeg=jpeg, encoding=vector, face=face
            )
        return matches, len(jpeg)
