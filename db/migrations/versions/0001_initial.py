"""Initial schema: users and the care tables (institutions, care_sessions, bookings).

Each table is created only when missing, so a database made earlier by `SQLModel.metadata.create_all`
(e.g. one holding only `users`) is brought under alembic without losing its rows.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.migrations.ops import TZ, Index, create_table_if_missing, existing_tables

revision = "0001_initial"
down_revision = None


def upgrade() -> None:
    existing = existing_tables()

    create_table_if_missing(
        existing,
        "users",
        sa.Column("telegram_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("display_name", sa.String(length=128), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("telegram_id"),
    )

    create_table_if_missing(
        existing,
        "institutions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("city", sa.String(length=32), nullable=False),
        sa.Column("district", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("legal_nature", sa.String(length=16), nullable=False),
        sa.Column("form", sa.String(length=16), nullable=False),
        sa.Column("puhui", sa.Boolean(), nullable=False),
        sa.Column("filing_status", sa.String(length=8), nullable=False),
        sa.Column("age_min_months", sa.Integer(), nullable=False),
        sa.Column("age_max_months", sa.Integer(), nullable=False),
        sa.Column("classes", sa.JSON(), nullable=False),
        sa.Column("services", sa.JSON(), nullable=False),
        sa.Column("fees", sa.JSON(), nullable=False),
        sa.Column("total_places", sa.Integer(), nullable=False),
        sa.Column("free_places", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("opening_hours", sa.String(length=64), nullable=False),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.Column("operator_user_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("external_id", name="uq_institutions_external_id"),
        indexes=[
            Index("ix_institutions_lat_lon", ["lat", "lon"]),
            Index("ix_institutions_city_district", ["city", "district"]),
            Index("ix_institutions_is_demo", ["is_demo"]),
            Index("ix_institutions_operator_user_id", ["operator_user_id"]),
        ],
    )

    create_table_if_missing(
        existing,
        "care_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(length=8), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.Column("age_min_months", sa.Integer(), nullable=False),
        sa.Column("age_max_months", sa.Integer(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("booked", sa.Integer(), nullable=False),
        sa.Column("price", sa.Float(), nullable=False),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.CheckConstraint("booked >= 0 AND booked <= capacity", name="ck_care_sessions_booked"),
        sa.ForeignKeyConstraint(["institution_id"], ["institutions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        indexes=[
            Index("ix_care_sessions_institution_date", ["institution_id", "date"]),
            Index("ix_care_sessions_date", ["date"]),
        ],
    )

    create_table_if_missing(
        existing,
        "bookings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.BigInteger(), nullable=False),
        sa.Column("child_name", sa.String(length=32), nullable=False),
        sa.Column("child_age_months", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("cancelled_at", TZ, nullable=True),
        sa.Column("reminded_at", TZ, nullable=True),
        sa.ForeignKeyConstraint(["session_id"], ["care_sessions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code", name="uq_bookings_code"),
        sa.UniqueConstraint("idempotency_key", name="uq_bookings_idempotency_key"),
        indexes=[
            Index("ix_bookings_parent_status", ["parent_id", "status"]),
            Index("ix_bookings_session_status", ["session_id", "status"]),
        ],
    )


def downgrade() -> None:
    op.drop_table("bookings")
    op.drop_table("care_sessions")
    op.drop_table("institutions")
    op.drop_table("users")
