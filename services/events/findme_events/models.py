"""Tables of the events service. Migrations in ``migrations/`` create exactly these;
a test compares the two."""

from __future__ import annotations

from datetime import date, datetime

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

ENCODING_DIMENSIONS = 128
PHOTO_STATUSES = ("pending", "processing", "done", "failed")

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _created_at() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class _EmailAccount:
    """Columns of the accounts that log in with an email (one table per kind)."""

    @declared_attr.directive
    def __table_args__(cls) -> tuple[CheckConstraint, ...]:
        # A constraint object per table (one shared object would belong to both).
        return (CheckConstraint("email = lower(email)", name="email_lower_case"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    email: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    password_hash: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = _created_at()


class Organizer(_EmailAccount, Base):
    __tablename__ = "organizers"


class Operator(_EmailAccount, Base):
    """Someone who runs the system (the performance dashboard); created by the admin
    CLI only, never by sign-up."""

    __tablename__ = "operators"


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint(
            "ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on", name="dates_ordered"
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    organizer_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("organizers.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(Text, nullable=False)
    code: Mapped[str] = mapped_column(String(8), nullable=False, unique=True)
    match_tolerance: Mapped[float] = mapped_column(Double, nullable=False)
    # Upper bound of the "maybe you?" tier (at least match_tolerance to mean anything).
    maybe_tolerance: Mapped[float] = mapped_column(Double, nullable=False)
    retention_days: Mapped[int] = mapped_column(Integer, nullable=False)
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = _created_at()


class Invite(Base):
    """A single-use link that registers one attendee; only the token's hash is kept."""

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    event_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("events.id", ondelete="CASCADE"), nullable=False, index=True
    )
    token_hash: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attendee_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("attendees.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = _created_at()


class Attendee(Base):
    __tablename__ = "attendees"
    # The unique index is the arbiter between racing registrations, serves the
    # availability EXISTS and the login lookup, and covers the event_id foreign key.
    __table_args__ = (UniqueConstraint("event_id", "username_key"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    event_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("events.id", ondelete="CASCADE"), nullable=False
    )
    username: Mapped[str] = mapped_column(Text, nullable=False)
    username_key: Mapped[str] = mapped_column(Text, nullable=False)
    password_hash: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = _created_at()


class Selfie(Base):
    """Up to ``max_selfies`` per attendee; each one is also a ``FaceReference``."""

    __tablename__ = "selfies"
    # The retention job finds selfies older than their event allows by this time.
    __table_args__ = (Index("ix_selfies_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    attendee_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("attendees.id", ondelete="CASCADE"), nullable=False, index=True
    )
    jpeg: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    encoding: Mapped[list[float]] = mapped_column(Vector(ENCODING_DIMENSIONS), nullable=False)
    face_top: Mapped[int] = mapped_column(Integer, nullable=False)
    face_right: Mapped[int] = mapped_column(Integer, nullable=False)
    face_bottom: Mapped[int] = mapped_column(Integer, nullable=False)
    face_left: Mapped[int] = mapped_column(Integer, nullable=False)
    stored_bytes: Mapped[int] = mapped_column(Integer, nullable=False)
    consented_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created_at: Mapped[datetime] = _created_at()


class Photo(Base):
    __tablename__ = "photos"
    __table_args__ = (
        # Re-uploading the same file to an event is a no-op, not a second photo.
        UniqueConstraint("event_id", "content_hash"),
        CheckConstraint(
            "status IN ('pending', 'processing', 'done', 'failed')", name="status_known"
        ),
        # Progress counts per event and status.
        Index("ix_photos_event_id_status", "event_id", "status"),
        # Workers claim the oldest pending photos; the partial index stays tiny.
        Index("ix_photos_pending", "id", postgresql_where=text("status = 'pending'")),
        # Expired claims of crashed workers are found by lease time.
        Index(
            "ix_photos_processing_lease",
            "lease_until",
            postgresql_where=text("status = 'processing'"),
        ),
        # The retention job finds failed photos (and their originals) by upload time.
        Index(
            "ix_photos_failed_created_at",
            "created_at",
            postgresql_where=text("status = 'failed'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    event_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("events.id", ondelete="CASCADE"), nullable=False
    )
    status: Mapped[str] = mapped_column(Text, nullable=False, server_default="pending")
    storage_key: Mapped[str] = mapped_column(Text, nullable=False)
    content_hash: Mapped[str] = mapped_column(Text, nullable=False)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    error: Mapped[str | None] = mapped_column(Text)
    # processing: when the claim expires; pending: not retried before this time.
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    display_key: Mapped[str | None] = mapped_column(Text)
    thumbnail_key: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created_at()


class Face(Base):
    __tablename__ = "faces"
    # The retention job finds encodings older than their event allows by this time.
    __table_args__ = (Index("ix_faces_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    photo_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("photos.id", ondelete="CASCADE"), nullable=False, index=True
    )
    # Denormalised so matching a selfie scans one event's faces without a join.
    event_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("events.id", ondelete="CASCADE"), nullable=False, index=True
    )
    top: Mapped[int] = mapped_column(Integer, nullable=False)
    right: Mapped[int] = mapped_column(Integer, nullable=False)
    bottom: Mapped[int] = mapped_column(Integer, nullable=False)
    left: Mapped[int] = mapped_column(Integer, nullable=False)
    encoding: Mapped[list[float]] = mapped_column(Vector(ENCODING_DIMENSIONS), nullable=False)
    created_at: Mapped[datetime] = _created_at()


class Match(Base):
    __tablename__ = "matches"
    __table_args__ = (
        UniqueConstraint("attendee_id", "photo_id"),
        # "My photos", newest first, keyset-paginated.
        Index(
            "ix_matches_attendee_id_detected_at",
            "attendee_id",
            text("detected_at DESC"),
            text("photo_id DESC"),
        ),
        # The retention job finds old matches by time.
        Index("ix_matches_detected_at", "detected_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    attendee_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("attendees.id", ondelete="CASCADE"), nullable=False
    )
    photo_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("photos.id", ondelete="CASCADE"), nullable=False, index=True
    )
    face_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("faces.id", ondelete="CASCADE"), nullable=False, index=True
    )
    distance: Mapped[float] = mapped_column(Double, nullable=False)
    detected_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


# -- learning from the people: references, the maybe tier, answers, missed photos ----


class FaceReference(Base):
    """An encoding that stands for an attendee: one per selfie, and one per face they
    confirmed ("that's me"). Matching works on references, never on selfies."""

    __tablename__ = "face_references"
    __table_args__ = (
        CheckConstraint("(selfie_id IS NULL) <> (face_id IS NULL)", name="one_source"),
        # A face is confirmed once per attendee.
        UniqueConstraint("attendee_id", "face_id"),
        # The retention job finds old confirmed faces by time.
        Index("ix_face_references_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    attendee_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("attendees.id", ondelete="CASCADE"), nullable=False
    )
    # A new photo is matched against every reference of its event by this index.
    event_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("events.id", ondelete="CASCADE"), nullable=False, index=True
    )
    selfie_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("selfies.id", ondelete="CASCADE"), index=True
    )
    face_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("faces.id", ondelete="CASCADE"), index=True
    )
    encoding: Mapped[list[float]] = mapped_column(Vector(ENCODING_DIMENSIONS), nullable=False)
    created_at: Mapped[datetime] = _created_at()


class NearbyFace(Base):
    """Every (reference, face) pair of an event within the maybe bound: computed once
    when either side appears, so the tiers are re-derived without a new scan."""

    __tablename__ = "nearby_faces"
    __table_args__ = (
        # Re-deriving a photo's tiers reads its pairs; an attendee's scope, theirs.
        Index("ix_nearby_faces_photo_id", "photo_id"),
        Index("ix_nearby_faces_attendee_id", "attendee_id"),
        Index("ix_nearby_faces_face_id", "face_id"),
    )

    reference_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("face_references.id", ondelete="CASCADE"), primary_key=True
    )
    face_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("faces.id", ondelete="CASCADE"), primary_key=True
    )
    # Copied from the reference and the face: the derivation groups by them.
    attendee_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    photo_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    distance: Mapped[float] = mapped_column(Double, nullable=False)


class Suggestion(Base):
    """The "maybe you?" tier: at most one per (attendee, photo), seen only by them."""

    __tablename__ = "suggestions"
    __table_args__ = (
        UniqueConstraint("attendee_id", "photo_id"),
        # "Is this you?", newest first, keyset-paginated.
        Index(
            "ix_suggestions_attendee_id_created_at",
            "attendee_id",
            text("created_at DESC"),
            text("photo_id DESC"),
        ),
        Index("ix_suggestions_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    attendee_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("attendees.id", ondelete="CASCADE"), nullable=False
    )
    photo_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("photos.id", ondelete="CASCADE"), nullable=False, index=True
    )
    face_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("faces.id", ondelete="CASCADE"), nullable=False, index=True
    )
    distance: Mapped[float] = mapped_column(Double, nullable=False)
    created_at: Mapped[datetime] = _created_at()


ANSWERS = ("me", "not_me")


class FaceAnswer(Base):
    """What an attendee said about a face: "me" (a match for good) or "not_me" (never
    theirs again, and a negative for the faces that look like it)."""

    __tablename__ = "face_answers"
    __table_args__ = (
        UniqueConstraint("attendee_id", "face_id"),
        CheckConstraint("answer IN ('me', 'not_me')", name="answer_known"),
        # Answers about a photo's faces, when its tiers are re-derived.
        Index("ix_face_answers_photo_id", "photo_id"),
        Index("ix_face_answers_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    attendee_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("attendees.id", ondelete="CASCADE"), nullable=False
    )
    face_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("faces.id", ondelete="CASCADE"), nullable=False, index=True
    )
    photo_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    answer: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = _created_at()


class MissedPhoto(Base):
    """ "You missed me here": a photo an attendee flagged, queued for a closer look
    (higher resolution, tiles, upsample 2) by the photo worker."""

    __tablename__ = "missed_photos"
    __table_args__ = (
        # Flagging a photo twice is one flag.
        UniqueConstraint("attendee_id", "photo_id"),
        CheckConstraint(
            "status IN ('pending', 'processing', 'done', 'failed')", name="status_known"
        ),
        Index("ix_missed_photos_pending", "id", postgresql_where=text("status = 'pending'")),
        Index(
            "ix_missed_photos_processing_lease",
            "lease_until",
            postgresql_where=text("status = 'processing'"),
        ),
        Index("ix_missed_photos_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    attendee_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("attendees.id", ondelete="CASCADE"), nullable=False
    )
    photo_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("photos.id", ondelete="CASCADE"), nullable=False, index=True
    )
    # The organizer's stats count flags per event.
    event_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("events.id", ondelete="CASCADE"), nullable=False, index=True
    )
    status: Mapped[str] = mapped_column(Text, nullable=False, server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(Text)
    # Set when done: whether the attendee now has a match or a suggestion in the photo.
    found: Mapped[bool | None] = mapped_column(Boolean)
    created_at: Mapped[datetime] = _created_at()
