"""Initial schema: pgvector, organizers, events, attendees, selfies, photos, faces, matches.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from pgvector.sqlalchemy import Vector

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _created_at() -> sa.Column[object]:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    )


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False)


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS vector")

    op.create_table(
        "organizers",
        _id(),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        _created_at(),
        sa.CheckConstraint("email = lower(email)", name="ck_organizers_email_lower_case"),
        sa.PrimaryKeyConstraint("id", name="pk_organizers"),
        sa.UniqueConstraint("email", name="uq_organizers_email"),
    )

    op.create_table(
        "events",
        _id(),
        sa.Column("organizer_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("match_tolerance", sa.Double(), nullable=False),
        sa.Column("retention_days", sa.Integer(), nullable=False),
        _created_at(),
        sa.ForeignKeyConstraint(
            ["organizer_id"],
            ["organizers.id"],
            name="fk_events_organizer_id_organizers",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.UniqueConstraint("code", name="uq_events_code"),
    )
    op.create_index("ix_events_organizer_id", "events", ["organizer_id"])

    op.create_table(
        "attendees",
        _id(),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("username", sa.Text(), nullable=False),
        sa.Column("username_key", sa.Text(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        _created_at(),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name="fk_attendees_event_id_events", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_attendees"),
        sa.UniqueConstraint("event_id", "username_key", name="uq_attendees_event_id_username_key"),
    )

    op.create_table(
        "selfies",
        _id(),
        sa.Column("attendee_id", sa.BigInteger(), nullable=False),
        sa.Column("jpeg", sa.LargeBinary(), nullable=False),
        sa.Column("encoding", Vector(128), nullable=False),
        sa.Column("face_top", sa.Integer(), nullable=False),
        sa.Column("face_right", sa.Integer(), nullable=False),
        sa.Column("face_bottom", sa.Integer(), nullable=False),
        sa.Column("face_left", sa.Integer(), nullable=False),
        sa.Column("stored_bytes", sa.Integer(), nullable=False),
        sa.Column("consented_at", sa.DateTime(timezone=True), nullable=False),
        _created_at(),
        sa.ForeignKeyConstraint(
            ["attendee_id"],
            ["attendees.id"],
            name="fk_selfies_attendee_id_attendees",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_selfies"),
        sa.UniqueConstraint("attendee_id", name="uq_selfies_attendee_id"),
    )

    op.create_table(
        "photos",
        _id(),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.Text(), server_default="pending", nullable=False),
        sa.Column("storage_key", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.Text(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        _created_at(),
        sa.CheckConstraint(
            "status IN ('pending', 'processing', 'done', 'failed')",
            name="ck_photos_status_known",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name="fk_photos_event_id_events", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_photos"),
        sa.UniqueConstraint("event_id", "content_hash", name="uq_photos_event_id_content_hash"),
    )
    op.create_index("ix_photos_event_id_status", "photos", ["event_id", "status"])
    op.create_index(
        "ix_photos_pending", "photos", ["id"], postgresql_where=sa.text("status = 'pending'")
    )
    op.create_index(
        "ix_photos_processing_lease",
        "photos",
        ["lease_until"],
        postgresql_where=sa.text("status = 'processing'"),
    )

    op.create_table(
        "faces",
        _id(),
        sa.Column("photo_id", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("top", sa.Integer(), nullable=False),
        sa.Column("right", sa.Integer(), nullable=False),
        sa.Column("bottom", sa.Integer(), nullable=False),
        sa.Column("left", sa.Integer(), nullable=False),
        sa.Column("encoding", Vector(128), nullable=False),
        sa.ForeignKeyConstraint(
            ["photo_id"], ["photos.id"], name="fk_faces_photo_id_photos", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name="fk_faces_event_id_events", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_faces"),
    )
    op.create_index("ix_faces_photo_id", "faces", ["photo_id"])
    op.create_index("ix_faces_event_id", "faces", ["event_id"])

    op.create_table(
        "matches",
        _id(),
        sa.Column("attendee_id", sa.BigInteger(), nullable=False),
        sa.Column("photo_id", sa.BigInteger(), nullable=False),
        sa.Column("face_id", sa.BigInteger(), nullable=False),
        sa.Column("distance", sa.Double(), nullable=False),
        sa.Column(
            "detected_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["attendee_id"],
            ["attendees.id"],
            name="fk_matches_attendee_id_attendees",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["photo_id"], ["photos.id"], name="fk_matches_photo_id_photos", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["face_id"], ["faces.id"], name="fk_matches_face_id_faces", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_matches"),
        sa.UniqueConstraint("attendee_id", "photo_id", name="uq_matches_attendee_id_photo_id"),
    )
    op.create_index(
        "ix_matches_attendee_id_detected_at",
        "matches",
        ["attendee_id", sa.text("detected_at DESC"), sa.text("photo_id DESC")],
    )
    op.create_index("ix_matches_photo_id", "matches", ["photo_id"])
    op.create_index("ix_matches_face_id", "matches", ["face_id"])


def downgrade() -> None:
    for table in ("matches", "faces", "photos", "selfies", "attendees", "events", "organizers"):
        op.drop_table(table)
