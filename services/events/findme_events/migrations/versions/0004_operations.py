"""Operations: operator accounts (created by the admin CLI only) and a notification
whenever a photo becomes pending, so an idle photo worker starts it at once.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# findme_events.store.photo_queue.PENDING_CHANNEL
_NOTIFY_FUNCTION = """
CREATE FUNCTION findme_notify_photo_pending() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  -- Identical notifications in one transaction are delivered once, at commit.
  PERFORM pg_notify('findme_photos_pending', '');
  RETURN NULL;
END
$$
"""
_NOTIFY_TRIGGER = """
CREATE TRIGGER photos_pending_notify
AFTER INSERT OR UPDATE OF status ON photos
FOR EACH ROW WHEN (NEW.status = 'pending')
EXECUTE FUNCTION findme_notify_photo_pending()
"""


def upgrade() -> None:
    op.create_table(
        "operators",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("email = lower(email)", name="ck_operators_email_lower_case"),
        sa.PrimaryKeyConstraint("id", name="pk_operators"),
        sa.UniqueConstraint("email", name="uq_operators_email"),
    )
    op.execute(_NOTIFY_FUNCTION)
    op.execute(_NOTIFY_TRIGGER)


def downgrade() -> None:
    op.execute("DROP TRIGGER photos_pending_notify ON photos")
    op.execute("DROP FUNCTION findme_notify_photo_pending()")
    op.drop_table("operators")
