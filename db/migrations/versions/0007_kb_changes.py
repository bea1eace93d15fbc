"""The knowledge base's change log (kb_changes): its ids are the generations workers follow.

Revision ID: 0007_kb_changes
Revises: 0006_outbox
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_kb_changes"
down_revision = "0006_outbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "kb_changes" in set(sa.inspect(op.get_bind()).get_table_names()):
        return
    op.create_table(
        "kb_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("doc_id", sa.String(length=48), nullable=False),
        sa.Column("index_id", sa.String(length=56), nullable=False),
        sa.Column("previous_index_id", sa.String(length=56), nullable=True),
        sa.Column("notify", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_kb_changes_doc", "kb_changes", ["doc_id"])


def downgrade() -> None:
    op.drop_index("ix_kb_changes_doc", table_name="kb_changes")
    op.drop_table("kb_changes")
