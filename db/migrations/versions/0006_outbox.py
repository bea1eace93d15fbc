"""Claims of messages the bot sends on its own (notice_claims): each goes out at most once across workers.

Bookings made before this revision are marked as already notified, so no worker sends their operator notes
again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.migrations.ops import TZ, chosen_key, columns, create_table_if_missing, existing_tables

revision = "0006_outbox"
down_revision = "0005_waitlist"


def upgrade() -> None:
    if create_table_if_missing(
        existing_tables(),
        "notice_claims",
        *columns(kind=sa.String(24), ref=chosen_key(sa.Integer()), claimed_at=TZ),
        sa.PrimaryKeyConstraint("kind", "ref"),
    ):
        op.execute(
            "INSERT INTO notice_claims (kind, ref, claimed_at) SELECT 'op_booked', id, created_at FROM bookings"
        )
        op.execute(
            "INSERT INTO notice_claims (kind, ref, claimed_at) SELECT 'op_cancelled', id, cancelled_at "
            "FROM bookings WHERE status = 'cancelled' AND cancelled_at IS NOT NULL"
        )


def downgrade() -> None:
    op.drop_table("notice_claims")
