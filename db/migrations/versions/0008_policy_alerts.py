"""Policy-change alerts: follows, the message per change, one delivery per follower, the planner's cursor.

Revision ID: 0008_policy_alerts
Revises: 0007_kb_changes
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_policy_alerts"
down_revision = "0007_kb_changes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "policy_follows" not in existing:
        op.create_table(
            "policy_follows",
            sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
            sa.Column("place", sa.String(length=64), nullable=False),
            sa.Column("lang", sa.String(length=8), server_default="zh", nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("user_id", "place"),
        )
        op.create_index("ix_policy_follows_place", "policy_follows", ["place"])
    if "alert_messages" not in existing:
        op.create_table(
            "alert_messages",
            sa.Column("generation", sa.Integer(), autoincrement=False, nullable=False),
            sa.Column("action", sa.String(length=16), nullable=False),
            sa.Column("doc_id", sa.String(length=48), nullable=False),
            sa.Column("index_id", sa.String(length=56), nullable=False),
            sa.Column("place", sa.String(length=64), nullable=False),
            sa.Column("texts", sa.JSON(), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("generation"),
        )
    if "alert_deliveries" not in existing:
        op.create_table(
            "alert_deliveries",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("generation", sa.Integer(), nullable=False),
            sa.Column("user_id", sa.BigInteger(), nullable=False),
            sa.Column("lang", sa.String(length=8), nullable=False),
            sa.Column("status", sa.String(length=12), nullable=False),
            sa.Column("claim", sa.String(length=32), nullable=True),
            sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("error", sa.String(length=32), server_default="", nullable=False),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("generation", "user_id", name="uq_alert_deliveries_generation_user"),
        )
        op.create_index("ix_alert_deliveries_status", "alert_deliveries", ["status", "id"])
    if "alert_cursor" not in existing:
        op.create_table(
            "alert_cursor",
            sa.Column("name", sa.String(length=16), nullable=False),
            sa.Column("generation", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("name"),
        )
        # Start after the changes made before alerts existed: nobody followed anything then.
        op.execute("INSERT INTO alert_cursor (name, generation) SELECT 'alerts', COALESCE(MAX(id), 0) FROM kb_changes")


def downgrade() -> None:
    op.drop_table("alert_cursor")
    op.drop_index("ix_alert_deliveries_status", table_name="alert_deliveries")
    op.drop_table("alert_deliveries")
    op.drop_table("alert_messages")
    op.drop_index("ix_policy_follows_place", table_name="policy_follows")
    op.drop_table("policy_follows")
