"""Waitlist for full temporary-care sessions (waitlist_entries, waitlist_offers), issue 12 §1."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.migrations.ops import TZ, Index, columns, create_table_if_missing, existing_tables, null

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
        *columns(
            id=sa.Integer(), session_id=sa.Integer(), parent_id=sa.BigInteger(),
            child_name=sa.String(32), child_age_months=sa.Integer(),
            status=sa.String(12), booking_id=null(sa.Integer()), created_at=TZ, updated_at=TZ,
        ),
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
        *columns(
            id=sa.Integer(), entry_id=sa.Integer(), session_id=sa.Integer(), parent_id=sa.BigInteger(),
            status=sa.String(12), hold_seconds=sa.Integer(),
            created_at=TZ, expires_at=TZ, notified_at=null(TZ), resolved_at=null(TZ),
            booking_id=null(sa.Integer()),
        ),
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
