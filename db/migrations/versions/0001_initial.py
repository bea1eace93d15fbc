"""Initial schema: users and the care tables (institutions, care_sessions, bookings).

Each table is created only when missing, so a database made earlier by `SQLModel.metadata.create_all`
(e.g. one holding only `users`) is brought under alembic without losing its rows.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.migrations.ops import TZ, Index, chosen_key, columns, create_table_if_missing, existing_tables, null

revision = "0001_initial"
down_revision = None


def upgrade() -> None:
    existing = existing_tables()

    create_table_if_missing(
        existing,
        "users",
        *columns(
            telegram_id=chosen_key(sa.BigInteger()),
            language=sa.String(8), role=sa.String(16), kind=sa.String(16), display_name=sa.String(128),
            created_at=TZ,
        ),
        sa.PrimaryKeyConstraint("telegram_id"),
    )

    create_table_if_missing(
        existing,
        "institutions",
        *columns(
            id=sa.Integer(), external_id=null(sa.String(64)), name=sa.String(200),
            city=sa.String(32), district=sa.String(64), address=sa.String(300), lat=sa.Float(), lon=sa.Float(),
            legal_nature=sa.String(16), form=sa.String(16), puhui=sa.Boolean(), filing_status=sa.String(8),
            age_min_months=sa.Integer(), age_max_months=sa.Integer(),
            classes=sa.JSON(), services=sa.JSON(), fees=sa.JSON(),
            total_places=sa.Integer(), free_places=sa.Integer(),
            phone=sa.String(32), opening_hours=sa.String(64),
            is_demo=sa.Boolean(), operator_user_id=null(sa.BigInteger()), created_at=TZ, updated_at=TZ,
        ),
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
        *columns(
            id=sa.Integer(), institution_id=sa.Integer(), service=sa.String(8),
            date=sa.Date(), start_time=sa.Time(), end_time=sa.Time(),
            age_min_months=sa.Integer(), age_max_months=sa.Integer(),
            capacity=sa.Integer(), booked=sa.Integer(), price=sa.Float(), is_demo=sa.Boolean(), created_at=TZ,
        ),
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
        *columns(
            id=sa.Integer(), session_id=sa.Integer(), parent_id=sa.BigInteger(),
            child_name=sa.String(32), child_age_months=sa.Integer(),
            status=sa.String(12), code=sa.String(8), idempotency_key=null(sa.String(128)),
            created_at=TZ, cancelled_at=null(TZ), reminded_at=null(TZ),
        ),
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
