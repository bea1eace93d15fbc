"""The knowledge base's change log (kb_changes): its ids are the generations workers follow."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.migrations.ops import TZ, Col, Index, columns, create_table_if_missing, existing_tables, null

revision = "0007_kb_changes"
down_revision = "0006_outbox"


def upgrade() -> None:
    create_table_if_missing(
        existing_tables(),
        "kb_changes",
        *columns(
            id=Col(sa.Integer(), autoincrement=True), action=sa.String(16),
            doc_id=sa.String(48), index_id=sa.String(56), previous_index_id=null(sa.String(56)),
            notify=Col(sa.Boolean(), server_default=sa.true()), at=TZ,
        ),
        sa.PrimaryKeyConstraint("id"),
        indexes=[Index("ix_kb_changes_doc", ["doc_id"])],
    )


def downgrade() -> None:
    op.drop_index("ix_kb_changes_doc", table_name="kb_changes")
    op.drop_table("kb_changes")
