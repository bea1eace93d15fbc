"""Policy-change alerts: follows, the message per change, one delivery per follower, the planner's cursor."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.migrations.ops import TZ, Index, create_table_if_missing, existing_tables

revision = "0008_policy_alerts"
down_revision = "0007_kb_changes"


def upgrade() -> None:
    existing = existing_tables()
    create_table_if_missing(
        existing,
        "policy_follows",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("place", sa.String(length=64), nullable=False),
        sa.Column("lang", sa.String(length=8), server_default="zh", nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("user_id", "place"),
        indexes=[Index("ix_policy_follows_place", ["place"])],
    )
    create_table_if_missing(
        existing,
        "alert_messages",
        sa.Column("generation", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("doc_id", sa.String(length=48), nullable=False),
        sa.Column("index_id", sa.String(length=56), nullable=False),
        sa.Column("place", sa.String(length=64), nullable=False),
        sa.Column("texts", sa.JSON(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("generation"),
    )
    create_table_if_missing(
        existing,
        "alert_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("claim", sa.String(length=32), nullable=True),
        sa.Column("claimed_at", TZ, nullable=True),
        sa.Column("sent_at", TZ, nullable=True),
        sa.Column("error", sa.String(length=32), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("generation", "user_id", name="uq_alert_deliveries_generation_user"),
        indexes=[Index("ix_alert_deliveries_status", ["status", "id"])],
    )
    if create_table_if_missing(
        existing,
        "alert_cursor",
        sa.Column("name", sa.String(length=16), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    ):
        # Start after the changes made before alerts existed: nobody followed anything then.
        op.execute(
            "INSERT INTO alert_cursor (name, generation) "
            "SELECT 'alerts', COALESCE(MAX(id), 0) FROM kb_changes"
        )


def downgrade() -> None:
    op.drop_table("alert_cursor")
    op.drop_index("ix_alert_deliveries_status", table_name="alert_deliveries")
    op.drop_table("alert_deliveries")
    op.drop_table("alert_messages")
    op.drop_index("ix_policy_follows_place", table_name="policy_follows")
    op.drop_table("policy_follows")
