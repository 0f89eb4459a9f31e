"""What each RPC does: validate and normalise input, resolve event codes through
the cache, run the data functions in one transaction each."""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from findme_events import blobs, codes, event_admin, invites, photos, repository, usernames
from findme_events.blobs import BlobStore
from findme_events.cache import EventCache
from findme_events.errors import InvalidArgument, NotFound
from findme_events.models import ENCODING_DIMENSIONS
from findme_events.schemas import (
    AddedPhoto,
    AttendeeRecord,
    CredentialsRecord,
    EventRecord,
    EventStats,
    FaceBox,
    MyPhotosPage,
    Progress,
)

log = logging.getLogger(__name__)

MAX_EMAIL_LENGTH = 254
MAX_EVENT_NAME_LENGTH = 200
# bcrypt/argon2 strings are < 128 characters; anything far longer is a caller bug.
MAX_PASSWORD_HASH_LENGTH = 512
# Distances between face_recognition encodings of one person are ~0-0.6; a
# tolerance outside this range matches nobody or everybody.
MIN_MATCH_TOLERANCE = 0.2
MAX_MATCH_TOLERANCE = 1.0
MAX_RETENTION_DAYS = 3650
_CHECK_VIOLATION = "23514"


def _valid_tolerance(value: float | None) -> float | None:
    if value is None:
        return None
    if not (math.isfinite(value) and MIN_MATCH_TOLERANCE <= value <= MAX_MATCH_TOLERANCE):
        raise InvalidArgument(
            "invalid_match_tolerance",
            f"match_tolerance is between {MIN_MATCH_TOLERANCE} and {MAX_MATCH_TOLERANCE}",
        )
    return value


def _valid_retention(value: int | None) -> int | None:
    if value is None:
        return None
    if not 1 <= value <= MAX_RETENTION_DAYS:
        raise InvalidArgument(
            "invalid_retention_days", f"retention_days is 1 to {MAX_RETENTION_DAYS}"
        )
    return value


def _valid_date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidArgument("invalid_dates", "dates are YYYY-MM-DD") from None


def _valid_name(name: str | None) -> str | None:
    if name is None:
        return None
    name = name.strip()
    # Control characters (NUL above all: PostgreSQL text cannot hold it) are refused.
    if not name or len(name) > MAX_EVENT_NAME_LENGTH or not name.isprintable():
        raise InvalidArgument(
            "invalid_event_name", f"an event name is 1 to {MAX_EVENT_NAME_LENGTH} characters"
        )
    return name


def _dates_refused() -> InvalidArgument:
    return InvalidArgument("invalid_dates", "ends_on must not be before starts_on")


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
        or not normalized.isprintable()
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
    blobs: BlobStore | None = None
    max_photo_bytes: int = 15 * 1024 * 1024
    max_photos_per_call: int = 50
    invite_ttl: float = 7 * 24 * 3600.0
    page_size: int = 50

    # -- organizers ------------------------------------------------------------------

    async def create_organizer(self, *, email: str, password_hash: str) -> int:
        email = _valid_email(email)
        password_hash = _valid_password_hash(password_hash)
        async with self.engine.begin() as conn:
            return await repository.create_organizer(
                conn=conn, email=email, password_hash=password_hash
            )

    async def organizer_credentials(self, *, email: str) -> CredentialsRecord:
        if not email.isprintable():
            # No account can have it (sign-up refuses it), and PostgreSQL cannot hold NUL.
            return CredentialsRecord(found=False, account=normalize_email(email))
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

    async def create_event(
        self,
        *,
        organizer_id: int,
        name: str,
        starts_on: str | None = None,
        ends_on: str | None = None,
        match_tolerance: float | None = None,
        retention_days: int | None = None,
    ) -> EventRecord:
        valid_name = _valid_name(name)
        assert valid_name is not None
        tolerance = _valid_tolerance(match_tolerance)
        retention = _valid_retention(retention_days)
        start, end = _valid_date(starts_on), _valid_date(ends_on)
        if start and end and end < start:
            raise _dates_refused()
        async with self.engine.begin() as conn:
            event = await repository.create_event(
                conn=conn,
                organizer_id=organizer_id,
                name=valid_name,
                match_tolerance=self.default_match_tolerance if tolerance is None else tolerance,
                retention_days=self.default_retention_days if retention is None else retention,
                starts_on=start,
                ends_on=end,
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
        starts_on: str | None = None,
        ends_on: str | None = None,
        organizer_id: int | None = None,
    ) -> EventRecord:
        """Change the given fields; with ``organizer_id``, only that organizer's event.

        A new tolerance applies to matches computed from now on (new photos, new selfies).
        """
        try:
            async with self.engine.begin() as conn:
                event = await repository.update_event(
                    conn=conn,
                    event_id=event_id,
                    name=_valid_name(name),
                    match_tolerance=_valid_tolerance(match_tolerance),
                    retention_days=_valid_retention(retention_days),
                    starts_on=_valid_date(starts_on),
                    ends_on=_valid_date(ends_on),
                    organizer_id=organizer_id,
                )
        except IntegrityError as exc:
            if repository._violation(exc)[0] == _CHECK_VIOLATION:
                raise _dates_refused() from None
            raise
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

    # -- organizer: events ------------------------------------------------------------

    async def list_events(self, *, organizer_id: int) -> list[EventRecord]:
        async with self.engine.connect() as conn:
            return await event_admin.list_events(conn=conn, organizer_id=organizer_id)

    async def _owned(self, organizer_id: int, event_id: int) -> EventRecord:
        async with self.engine.connect() as conn:
            return await event_admin.owned_event(
                conn=conn, organizer_id=organizer_id, event_id=event_id
            )

    async def delete_event(self, *, organizer_id: int, event_id: int) -> None:
        async with self.engine.begin() as conn:
            event = await event_admin.delete_event(
                conn=conn, organizer_id=organizer_id, event_id=event_id
            )
        await self.cache.invalidate(event.code)
        # After commit: a failure here leaves unreachable files, never rows without files.
        await self._blobs().delete_prefix(blobs.event_prefix(event_id))
        log.info("event deleted", extra={"event_id": event_id})

    async def event_stats(self, *, organizer_id: int, event_id: int) -> EventStats:
        async with self.engine.connect() as conn:
            await event_admin.owned_event(conn=conn, organizer_id=organizer_id, event_id=event_id)
            return await event_admin.event_stats(conn=conn, event_id=event_id)

    async def progress(self, *, organizer_id: int, event_id: int) -> Progress:
        async with self.engine.connect() as conn:
            await event_admin.owned_event(conn=conn, organizer_id=organizer_id, event_id=event_id)
            return await event_admin.progress(conn=conn, event_id=event_id)

    # -- invites ---------------------------------------------------------------------

    async def create_invite(
        self, *, organizer_id: int, event_id: int, valid_for: float = 0
    ) -> tuple[str, datetime]:
        if valid_for < 0 or valid_for > self.invite_ttl * 10:
            raise InvalidArgument("invalid_validity", "an invite is valid for a positive time")
        async with self.engine.begin() as conn:
            await event_admin.owned_event(conn=conn, organizer_id=organizer_id, event_id=event_id)
            return await invites.create_invite(
                conn=conn, event_id=event_id, valid_for=valid_for or self.invite_ttl
            )

    async def check_invite(self, *, token: str, username: str) -> tuple[int | None, bool]:
        """(event id or None when the invite is unusable, whether the name is taken)."""
        async with self.engine.connect() as conn:
            event_id = await invites.usable_invite_event(conn=conn, token=token)
            if event_id is None:
                return None, False
            key = usernames.normalize(username)
            taken = await repository.username_taken(conn=conn, event_id=event_id, username_key=key)
            return event_id, taken

    async def register_with_invite(
        self,
        *,
        token: str,
        username: str,
        password_hash: str,
        jpeg: bytes,
        encoding: Sequence[float],
        face: FaceBox,
    ) -> tuple[AttendeeRecord, int]:
        """Consume the invite, create the attendee, store the selfie and its matches,
        all or nothing: a taken username leaves the invite unused."""
        key = usernames.normalize(username)
        password_hash = _valid_password_hash(password_hash)
        self._check_selfie(jpeg)
        vector = _valid_encoding(encoding)
        async with self.engine.begin() as conn:
            invite_id, event_id = await invites.consume_invite(conn=conn, token=token)
            attendee = await repository.create_attendee(
                conn=conn,
                event_id=event_id,
                username=usernames.display_name(username),
                username_key=key,
                password_hash=password_hash,
            )
            await invites.link_attendee(conn=conn, invite_id=invite_id, attendee_id=attendee.id)
            matches = await repository.save_selfie(
                conn=conn, attendee_id=attendee.id, jpeg=jpeg, encoding=vector, face=face
            )
        return attendee, matches

    # -- photos ----------------------------------------------------------------------

    def _blobs(self) -> BlobStore:
        if self.blobs is None:
            raise RuntimeError("no blob store configured")
        return self.blobs

    async def add_photos(
        self, *, organizer_id: int, event_id: int, contents: Sequence[bytes]
    ) -> list[AddedPhoto]:
        if not contents or len(contents) > self.max_photos_per_call:
            raise InvalidArgument(
                "invalid_photo_count", f"send 1 to {self.max_photos_per_call} photos per call"
            )
        for content in contents:
            if not content:
                raise InvalidArgument("empty_file", "a photo file is empty")
            if len(content) > self.max_photo_bytes:
                raise InvalidArgument(
                    "too_large", f"a photo is at most {self.max_photo_bytes} bytes"
                )
        await self._owned(organizer_id, event_id)
        store = self._blobs()
        added = []
        for content in contents:
            content_hash = hashlib.sha256(content).hexdigest()
            key = blobs.original_key(event_id, content_hash)
            # The file first: a row never points at a missing original. The key is the
            # content hash, so a duplicate rewrites identical bytes.
            await store.put(key, content)
            async with self.engine.begin() as conn:
                added.append(
                    await photos.add_photo(
                        conn=conn, event_id=event_id, content_hash=content_hash, storage_key=key
                    )
                )
        return added

    async def my_photos(self, *, attendee_id: int, cursor: str, limit: int = 0) -> MyPhotosPage:
        if limit < 0:
            raise InvalidArgument("invalid_limit", "limit must be positive")
        page_size = min(limit or self.page_size, self.page_size)
        async with self.engine.connect() as conn:
            return await photos.my_photos(
                conn=conn, attendee_id=attendee_id, cursor=cursor, limit=page_size
            )

    async def photo_image(
        self, *, photo_id: int, viewer_id: int, organizer: bool, thumbnail: bool
    ) -> bytes:
        async with self.engine.connect() as conn:
            key = await photos.image_key(
                conn=conn,
                photo_id=photo_id,
                viewer_id=viewer_id,
                organizer=organizer,
                thumbnail=thumbnail,
            )
        try:
            return await self._blobs().get(key)
        except blobs.BlobNotFound:
            # Event deleted between the query and the read.
            raise NotFound("photo_not_found", "no such photo") from None

    # -- privacy ---------------------------------------------------------------------

    async def delete_attendee(self, *, attendee_id: int) -> None:
        """The attendee row goes; selfie (with its encoding) and matches cascade."""
        async with self.engine.begin() as conn:
            deleted = await repository.delete_attendee(conn=conn, attendee_id=attendee_id)
        if deleted:
            log.info("attendee deleted", extra={"attendee_id": attendee_id})

    def _check_selfie(self, jpeg: bytes) -> None:
        if not jpeg:
            raise InvalidArgument("invalid_selfie", "the selfie JPEG is empty")
        if len(jpeg) > self.max_selfie_bytes:
            raise InvalidArgument(
                "too_large", f"a stored selfie is at most {self.max_selfie_bytes} bytes"
            )
