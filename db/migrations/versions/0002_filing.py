"""Filing cases (登记 → 备案): filing_cases, filing_items, filing_documents."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.migrations.ops import TZ, Index, create_table_if_missing, existing_tables

revision = "0002_filing"
down_revision = "0001_initial"


def upgrade() -> None:
    existing = existing_tables()

    create_table_if_missing(
        existing,
        "filing_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("city", sa.String(length=32), nullable=False),
        sa.Column("legal_nature", sa.String(length=32), nullable=False),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("current_item", sa.String(length=48), nullable=True),
        sa.Column("class_plan", sa.JSON(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("summary_sent_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        indexes=[Index("ix_filing_cases_operator_updated", ["operator_id", "updated_at"])],
    )

    create_table_if_missing(
        existing,
        "filing_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=48), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["filing_cases.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "item_id", name="uq_filing_items_case_item"),
    )

    create_table_if_missing(
        existing,
        "filing_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=48), nullable=False),
        sa.Column("file_id", sa.String(length=255), nullable=False),
        sa.Column("file_unique_id", sa.String(length=128), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("mime_type", sa.String(length=128), nullable=False),
        sa.Column("file_size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["filing_cases.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        indexes=[Index("ix_filing_documents_case_item", ["case_id", "item_id"])],
    )


def downgrade() -> None:
    op.drop_table("filing_documents")
    op.drop_table("filing_items")
    op.drop_table("filing_cases")
