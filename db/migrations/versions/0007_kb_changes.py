"""The knowledge base's change log (kb_changes): its ids are the generations workers follow."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.migrations.ops import TZ, Index, create_table_if_missing, existing_tables

revision = "0007_kb_changes"
down_revision = "0006_outbox"


def upgrade() -> None:
    create_table_if_missing(
        existing_tables(),
        "kb_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("doc_id", sa.String(length=48), nullable=False),
        sa.Column("index_id", sa.String(length=56), nullable=False),
        sa.Column("previous_index_id", sa.String(length=56), nullable=True),
        sa.Column("notify", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        indexes=[Index("ix_kb_changes_doc", ["doc_id"])],
    )


def downgrade() -> None:
    op.drop_index("ix_kb_changes_doc", table_name="kb_changes")
    op.drop_table("kb_changes")
