"""Filing cases (登记 → 备案): filing_cases, filing_items, filing_documents."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.migrations.ops import TZ, Index, columns, create_table_if_missing, existing_tables, null

revision = "0002_filing"
down_revision = "0001_initial"


def upgrade() -> None:
    existing = existing_tables()

    create_table_if_missing(
        existing,
        "filing_cases",
        *columns(
            id=sa.Integer(), operator_id=sa.BigInteger(), title=sa.String(120),
            city=sa.String(32), legal_nature=sa.String(32),
            step=sa.String(16), status=sa.String(12), current_item=null(sa.String(48)), class_plan=sa.JSON(),
            created_at=TZ, updated_at=TZ, summary_sent_at=null(TZ),
        ),
        sa.PrimaryKeyConstraint("id"),
        indexes=[Index("ix_filing_cases_operator_updated", ["operator_id", "updated_at"])],
    )

    create_table_if_missing(
        existing,
        "filing_items",
        *columns(id=sa.Integer(), case_id=sa.Integer(), item_id=sa.String(48), status=sa.String(16), updated_at=TZ),
        sa.ForeignKeyConstraint(["case_id"], ["filing_cases.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "item_id", name="uq_filing_items_case_item"),
    )

    create_table_if_missing(
        existing,
        "filing_documents",
        *columns(
            id=sa.Integer(), case_id=sa.Integer(), item_id=sa.String(48),
            file_id=sa.String(255), file_unique_id=sa.String(128), file_name=sa.String(255),
            mime_type=sa.String(128), file_size=sa.BigInteger(), sha256=sa.String(64), uploaded_at=TZ,
        ),
        sa.ForeignKeyConstraint(["case_id"], ["filing_cases.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        indexes=[Index("ix_filing_documents_case_item", ["case_id", "item_id"])],
    )


def downgrade() -> None:
    op.drop_table("filing_documents")
    op.drop_table("filing_items")
    op.drop_table("filing_cases")
