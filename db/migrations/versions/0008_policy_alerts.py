"""Policy-change alerts: follows, the message per change, one delivery per follower, the planner's cursor."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.migrations.ops import (
    TZ,
    Col,
    Index,
    chosen_key,
    columns,
    create_table_if_missing,
    existing_tables,
    null,
)

revision = "0008_policy_alerts"
down_revision = "0007_kb_changes"


def upgrade() -> None:
    existing = existing_tables()
    create_table_if_missing(
        existing,
        "policy_follows",
        *columns(
            user_id=chosen_key(sa.BigInteger()), place=sa.String(64),
            lang=Col(sa.String(8), server_default="zh"), created_at=TZ,
        ),
        sa.PrimaryKeyConstraint("user_id", "place"),
        indexes=[Index("ix_policy_follows_place", ["place"])],
    )
    create_table_if_missing(
        existing,
        "alert_messages",
        *columns(
            generation=chosen_key(sa.Integer()), action=sa.String(16), doc_id=sa.String(48),
            index_id=sa.String(56), place=sa.String(64), texts=sa.JSON(), created_at=TZ,
        ),
        sa.PrimaryKeyConstraint("generation"),
    )
    create_table_if_missing(
        existing,
        "alert_deliveries",
        *columns(
            id=Col(sa.Integer(), autoincrement=True), generation=sa.Integer(), user_id=sa.BigInteger(),
            lang=sa.String(8), status=sa.String(12),
            claim=null(sa.String(32)), claimed_at=null(TZ), sent_at=null(TZ),
            error=Col(sa.String(32), server_default=""),
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("generation", "user_id", name="uq_alert_deliveries_generation_user"),
        indexes=[Index("ix_alert_deliveries_status", ["status", "id"])],
    )
    if create_table_if_missing(
        existing,
        "alert_cursor",
        *columns(name=sa.String(16), generation=sa.Integer()),
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
