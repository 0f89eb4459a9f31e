"""Retention covers every face encoding and failed original: faces get the time they
were found, and failed photos an index by upload time.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Faces found before this migration count from their photo's upload.
    op.add_column("faces", sa.Column("created_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE faces SET created_at = photos.created_at FROM photos "
        "WHERE photos.id = faces.photo_id"
    )
    op.alter_column("faces", "created_at", nullable=False, server_default=sa.func.now())
    op.create_index("ix_faces_created_at", "faces", ["created_at"])
    op.create_index(
        "ix_photos_failed_created_at",
        "photos",
        ["created_at"],
        postgresql_where=sa.text("status = 'failed'"),
    )


def downgrade() -> None:
    op.drop_index("ix_photos_failed_created_at", table_name="photos")
    op.drop_index("ix_faces_created_at", table_name="faces")
    op.drop_column("faces", "created_at")
