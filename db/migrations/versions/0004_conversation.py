"""Conversation state in the database (conversation_state), shared by every worker."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.migrations.ops import TZ, Index, chosen_key, columns, create_table_if_missing, existing_tables

revision = "0004_conversation"
down_revision = "0003_knowledge"


def upgrade() -> None:
    create_table_if_missing(
        existing_tables(),
        "conversation_state",
        *columns(
            user_id=chosen_key(sa.BigInteger()), flow=sa.String(16), data=sa.String(), version=sa.Integer(),
            updated_at=TZ,
        ),
        sa.PrimaryKeyConstraint("user_id", "flow"),
        indexes=[Index("ix_conversation_state_updated_at", ["updated_at"])],
    )


def downgrade() -> None:
    op.drop_index("ix_conversation_state_updated_at", table_name="conversation_state")
    op.drop_table("conversation_state")
