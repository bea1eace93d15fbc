"""Waitlist for full temporary-care sessions (waitlist_entries, waitlist_offers), issue 12 §1.

Tables are created only when missing, like the earlier revisions.

Revision ID: 0005_waitlist
Revises: 0004_conversation
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_waitlist"
down_revision = "0004_conversation"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
ACTIVE = sa.text("status IN ('waiting', 'offered')")
OPEN = sa.text("status = 'open'")


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())

    if "waitlist_entries" not in existing:
        op.create_table(
            "waitlist_entries",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("session_id", sa.Integer(), nullable=False),
            sa.Column("parent_id", sa.BigInteger(), nullable=False),
            sa.Column("child_name", sa.String(length=32), nullable=False),
            sa.Column("child_age_months", sa.Integer(), nullable=False),
            sa.Column("status", sa.String(length=12), nullable=False),
            sa.Column("booking_id", sa.Integer(), nullable=True),
            sa.Column("created_at", TZ, nullable=False),
            sa.Column("updated_at", TZ, nullable=False),
            sa.ForeignKeyConstraint(["session_id"], ["care_sessions.id"], ondelete="CASCADE"),
            sa.ForeignKeyConstraint(["booking_id"], ["bookings.id"], ondelete="SET NULL"),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_waitlist_entries_session_status", "waitlist_entries", ["session_id", "status", "id"])
        op.create_index("ix_waitlist_entries_parent_status", "waitlist_entries", ["parent_id", "status"])
        op.create_index(
            "uq_waitlist_entries_active",
            "waitlist_entries",
            ["session_id", "parent_id", "child_name"],
            unique=True,
            sqlite_where=ACTIVE,
            postgresql_where=ACTIVE,
        )

    if "waitlist_offers" not in existing:
        op.create_table(
            "waitlist_offers",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("entry_id", sa.Integer(), nullable=False),
            sa.Column("session_id", sa.Integer(), nullable=False),
            sa.Column("parent_id", sa.BigInteger(), nullable=False),
            sa.Column("status", sa.String(length=12), nullable=False),
            sa.Column("hold_seconds", sa.Integer(), nullable=False),
            sa.Column("created_at", TZ, nullable=False),
            sa.Column("expires_at", TZ, nullable=False),
            sa.Column("notified_at", TZ, nullable=True),
            sa.Column("resolved_at", TZ, nullable=True),
            sa.Column("booking_id", sa.Integer(), nullable=True),
            sa.ForeignKeyConstraint(["entry_id"], ["waitlist_entries.id"], ondelete="CASCADE"),
            sa.ForeignKeyConstraint(["session_id"], ["care_sessions.id"], ondelete="CASCADE"),
            sa.ForeignKeyConstraint(["booking_id"], ["bookings.id"], ondelete="SET NULL"),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_waitlist_offers_status_expires", "waitlist_offers", ["status", "expires_at"])
        op.create_index("ix_waitlist_offers_session_status", "waitlist_offers", ["session_id", "status"])
        op.create_index("ix_waitlist_offers_parent", "waitlist_offers", ["parent_id"])
        op.create_index(
            "uq_waitlist_offers_open_entry",
            "waitlist_offers",
            ["entry_id"],
            unique=True,
            sqlite_where=OPEN,
            postgresql_where=OPEN,
        )


def downgrade() -> None:
    op.drop_table("waitlist_offers")
    op.drop_table("waitlist_entries")
