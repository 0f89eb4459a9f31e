"""Matching that learns: up to three selfies per attendee, references (selfies and
confirmed faces), pairs near them, the maybe tier, answers, missed-photo flags.

Every existing selfie becomes a reference with its pairs, so existing attendees keep
their matches and get suggestions when their selfie or the event's photos next change.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from pgvector.sqlalchemy import Vector

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# The maybe bound existing events get (EventsSettings.default_maybe_tolerance).
EXISTING_MAYBE = 0.55


def _created_at() -> sa.Column[Any]:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    )


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.add_column(
        "events",
        sa.Column(
            "maybe_tolerance", sa.Double(), nullable=False, server_default=str(EXISTING_MAYBE)
        ),
    )
    # New events get theirs from the service's setting, never from the database.
    op.alter_column("events", "maybe_tolerance", server_default=None)

    op.drop_constraint("uq_selfies_attendee_id", "selfies", type_="unique")
    op.create_index("ix_selfies_attendee_id", "selfies", ["attendee_id"])

    op.create_table(
        "face_references",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("attendee_id", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("selfie_id", sa.BigInteger(), nullable=True),
        sa.Column("face_id", sa.BigInteger(), nullable=True),
        sa.Column("encoding", Vector(128), nullable=False),
        _created_at(),
        sa.CheckConstraint(
            "(selfie_id IS NULL) <> (face_id IS NULL)", name="ck_face_references_one_source"
        ),
        _fk("face_references", "attendee_id", "attendees"),
        _fk("face_references", "event_id", "events"),
        _fk("face_references", "selfie_id", "selfies"),
        _fk("face_references", "face_id", "faces"),
        sa.PrimaryKeyConstraint("id", name="pk_face_references"),
        sa.UniqueConstraint(
            "attendee_id", "face_id", name="uq_face_references_attendee_id_face_id"
        ),
    )
    op.create_index("ix_face_references_event_id", "face_references", ["event_id"])
    op.create_index("ix_face_references_selfie_id", "face_references", ["selfie_id"])
    op.create_index("ix_face_references_face_id", "face_references", ["face_id"])
    op.create_index("ix_face_references_created_at", "face_references", ["created_at"])

    op.create_table(
        "nearby_faces",
        sa.Column("reference_id", sa.BigInteger(), nullable=False),
        sa.Column("face_id", sa.BigInteger(), nullable=False),
        sa.Column("attendee_id", sa.BigInteger(), nullable=False),
        sa.Column("photo_id", sa.BigInteger(), nullable=False),
        sa.Column("distance", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["reference_id"],
            ["face_references.id"],
            name="fk_nearby_faces_reference_id_face_references",
            ondelete="CASCADE",
        ),
        _fk("nearby_faces", "face_id", "faces"),
        sa.PrimaryKeyConstraint("reference_id", "face_id", name="pk_nearby_faces"),
    )
    op.create_index("ix_nearby_faces_photo_id", "nearby_faces", ["photo_id"])
    op.create_index("ix_nearby_faces_attendee_id", "nearby_faces", ["attendee_id"])
    op.create_index("ix_nearby_faces_face_id", "nearby_faces", ["face_id"])

    op.create_table(
        "suggestions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("attendee_id", sa.BigInteger(), nullable=False),
        sa.Column("photo_id", sa.BigInteger(), nullable=False),
        sa.Column("face_id", sa.BigInteger(), nullable=False),
        sa.Column("distance", sa.Double(), nullable=False),
        _created_at(),
        _fk("suggestions", "attendee_id", "attendees"),
        _fk("suggestions", "photo_id", "photos"),
        _fk("suggestions", "face_id", "faces"),
        sa.PrimaryKeyConstraint("id", name="pk_suggestions"),
        sa.UniqueConstraint("attendee_id", "photo_id", name="uq_suggestions_attendee_id_photo_id"),
    )
    op.create_index(
        "ix_suggestions_attendee_id_created_at",
        "suggestions",
        ["attendee_id", sa.text("created_at DESC"), sa.text("photo_id DESC")],
    )
    op.create_index("ix_suggestions_created_at", "suggestions", ["created_at"])
    op.create_index("ix_suggestions_photo_id", "suggestions", ["photo_id"])
    op.create_index("ix_suggestions_face_id", "suggestions", ["face_id"])

    op.create_table(
        "face_answers",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("attendee_id", sa.BigInteger(), nullable=False),
        sa.Column("face_id", sa.BigInteger(), nullable=False),
        sa.Column("photo_id", sa.BigInteger(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        _created_at(),
        sa.CheckConstraint("answer IN ('me', 'not_me')", name="ck_face_answers_answer_known"),
        _fk("face_answers", "attendee_id", "attendees"),
        _fk("face_answers", "face_id", "faces"),
        sa.PrimaryKeyConstraint("id", name="pk_face_answers"),
        sa.UniqueConstraint("attendee_id", "face_id", name="uq_face_answers_attendee_id_face_id"),
    )
    op.create_index("ix_face_answers_photo_id", "face_answers", ["photo_id"])
    op.create_index("ix_face_answers_created_at", "face_answers", ["created_at"])
    op.create_index("ix_face_answers_face_id", "face_answers", ["face_id"])

    op.create_table(
        "missed_photos",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("attendee_id", sa.BigInteger(), nullable=False),
        sa.Column("photo_id", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.Text(), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("found", sa.Boolean(), nullable=True),
        _created_at(),
        sa.CheckConstraint(
            "status IN ('pending', 'processing', 'done', 'failed')",
            name="ck_missed_photos_status_known",
        ),
        _fk("missed_photos", "attendee_id", "attendees"),
        _fk("missed_photos", "photo_id", "photos"),
        _fk("missed_photos", "event_id", "events"),
        sa.PrimaryKeyConstraint("id", name="pk_missed_photos"),
        sa.UniqueConstraint(
            "attendee_id", "photo_id", name="uq_missed_photos_attendee_id_photo_id"
        ),
    )
    op.create_index(
        "ix_missed_photos_pending",
        "missed_photos",
        ["id"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "ix_missed_photos_processing_lease",
        "missed_photos",
        ["lease_until"],
        postgresql_where=sa.text("status = 'processing'"),
    )
    op.create_index("ix_missed_photos_created_at", "missed_photos", ["created_at"])
    op.create_index("ix_missed_photos_photo_id", "missed_photos", ["photo_id"])
    op.create_index("ix_missed_photos_event_id", "missed_photos", ["event_id"])

    # Existing selfies become references, with their pairs.
    op.execute(
        "INSERT INTO face_references (attendee_id, event_id, selfie_id, encoding, created_at) "
        "SELECT s.attendee_id, a.event_id, s.id, s.encoding, s.created_at "
        "FROM selfies s JOIN attendees a ON a.id = s.attendee_id"
    )
    op.execute(
        "INSERT INTO nearby_faces (reference_id, face_id, attendee_id, photo_id, distance) "
        "SELECT r.id, f.id, r.attendee_id, f.photo_id, f.encoding <-> r.encoding "
        "FROM face_references r JOIN events e ON e.id = r.event_id "
        "JOIN faces f ON f.event_id = r.event_id "
        "WHERE f.encoding <-> r.encoding <= greatest(e.match_tolerance, e.maybe_tolerance)"
    )


def downgrade() -> None:
    op.drop_table("missed_photos")
    op.drop_table("face_answers")
    op.drop_table("suggestions")
    op.drop_table("nearby_faces")
    op.drop_table("face_references")
    # Back to one selfie per attendee: the newest stays.
    op.execute(
        "DELETE FROM selfies s USING selfies newer "
        "WHERE newer.attendee_id = s.attendee_id AND (newer.created_at, newer.id) > "
        "(s.created_at, s.id)"
    )
    op.drop_index("ix_selfies_attendee_id", table_name="selfies")
    op.create_unique_constraint("uq_selfies_attendee_id", "selfies", ["attendee_id"])
    op.drop_column("events", "maybe_tolerance")
