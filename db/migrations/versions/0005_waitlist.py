"""Waitlist for full temporary-care sessions (waitlist_entries, waitlist_offers), issue 12 §1."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.migrations.ops import TZ, Index, create_table_if_missing, existing_tables

revision = "0005_waitlist"
down_revision = "0004_conversation"

# Partial unique indexes: one active entry per child and session, one open offer per entry.
ACTIVE = sa.text("status IN ('waiting', 'offered')")
OPEN = sa.text("status = 'open'")


def upgrade() -> None:
    existing = existing_tables()

    create_table_if_missing(
        existing,
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
        indexes=[
            Index("ix_waitlist_entries_session_status", ["session_id", "status", "id"]),
            Index("ix_waitlist_entries_parent_status", ["parent_id", "status"]),
            Index(
                "uq_waitlist_entries_active",
                ["session_id", "parent_id", "child_name"],
                unique=True,
                where=ACTIVE,
            ),
        ],
    )

    create_table_if_missing(
        existing,
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
        indexes=[
            Index("ix_waitlist_offers_status_expires", ["status", "expires_at"]),
            Index("ix_waitlist_offers_session_status", ["session_id", "status"]),
            Index("ix_waitlist_offers_parent", ["parent_id"]),
            Index("uq_waitlist_offers_open_entry", ["entry_id"], unique=True, where=OPEN),
        ],
    )


def downgrade() -> None:
    op.drop_table("waitlist_offers")
    op.drop_table("waitlist_entries")
