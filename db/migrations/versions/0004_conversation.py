"""Conversation state in the database (conversation_state), shared by every worker.

Revision ID: 0004_conversation
Revises: 0003_knowledge
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_conversation"
down_revision = "0003_knowledge"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "conversation_state" in set(sa.inspect(op.get_bind()).get_table_names()):
        return
    op.create_table(
        "conversation_state",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("flow", sa.String(length=16), nullable=False),
        sa.Column("data", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "flow"),
    )
    op.create_index("ix_conversation_state_updated_at", "conversation_state", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_conversation_state_updated_at", table_name="conversation_state")
    op.drop_table("conversation_state")
