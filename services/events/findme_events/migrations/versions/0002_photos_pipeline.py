"""Photo pipeline and privacy: event dates, invites, blob keys, retention indexes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("events", sa.Column("starts_on", sa.Date(), nullable=True))
    op.add_column("events", sa.Column("ends_on", sa.Date(), nullable=True))
    op.create_check_constraint(
        "ck_events_dates_ordered",
        "events",
        "ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on",
    )

    op.create_table(
        "invites",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attendee_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name="fk_invites_event_id_events", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["attendee_id"],
            ["attendees.id"],
            name="fk_invites_attendee_id_attendees",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_invites"),
        sa.UniqueConstraint("token_hash", name="uq_invites_token_hash"),
    )
    op.create_index("ix_invites_event_id", "invites", ["event_id"])
    op.create_index("ix_invites_attendee_id", "invites", ["attendee_id"])

    op.add_column("photos", sa.Column("display_key", sa.Text(), nullable=True))
    op.add_column("photos", sa.Column("thumbnail_key", sa.Text(), nullable=True))

    op.create_index("ix_selfies_created_at", "selfies", ["created_at"])
    op.create_index("ix_matches_detected_at", "matches", ["detected_at"])


def downgrade() -> None:
    op.drop_index("ix_matches_detected_at", table_name="matches")
    op.drop_index("ix_selfies_created_at", table_name="selfies")
    op.drop_column("photos", "thumbnail_key")
    op.drop_column("photos", "display_key")
    op.drop_table("invites")
    op.drop_constraint("ck_events_dates_ordered", "events", type_="check")
    op.drop_column("events", "ends_on")
    op.drop_column("events", "starts_on")
