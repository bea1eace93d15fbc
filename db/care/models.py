"""Care tables: institutions (fields and limits declared once, shared with the CSV row), temporary-care
sessions and bookings."""

from __future__ import annotations

import datetime as dt
from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from db.accounts.models import utcnow
from db.care.prices import SERVICE_UNITS, SERVICES, SESSION_SERVICES  # noqa: F401  (re-exported)
from db.core.columns import parent_key

# --- Care: institutions, temporary-care sessions, bookings (issue 3) -------------------------------------------

LEGAL_NATURES = ("事业单位", "社会服务机构", "营利性")
FORMS = ("独立托育机构", "社区嵌入式", "幼儿园托班", "用人单位办托", "家庭托育点", "托育综合服务中心")
FILING_STATUSES = ("已备案", "备案中", "未备案")
BOOKING_CONFIRMED = "confirmed"
BOOKING_CANCELLED = "cancelled"


#: Limits shared by the table and the CSV import (`db.care.csv_import`).
MAX_PLACES = 10_000
MAX_AGE_MONTHS = 36
#: Text a person typed: no control characters (a CSV cell, a name shown in chat).
PRINTABLE = r"^[^\x00-\x1f]*$"


class InstitutionFields(SQLModel):
    """An institution's descriptive fields and their limits, declared once: the `institutions` table and the
    CSV row (`db.csv_import.InstitutionRow`) both inherit them. The table does not validate on construction
    (SQLModel tables never do); the CSV row does, with these constraints."""

    #: Stable outside key: `demo:...` for generated records, else e.g. the 统一社会信用代码 from an import.
    external_id: str | None = Field(default=None, max_length=64)
    name: str = Field(min_length=1, max_length=200, schema_extra={"pattern": PRINTABLE})
    city: str = Field(min_length=1, max_length=32, schema_extra={"pattern": PRINTABLE})
    district: str = Field(min_length=1, max_length=64, schema_extra={"pattern": PRINTABLE})
    address: str = Field(default="", max_length=300, schema_extra={"pattern": PRINTABLE})
    lat: float
    lon: float
    legal_nature: str = Field(default="", max_length=16)  # 事业单位 | 社会服务机构 | 营利性
    form: str = Field(default="", max_length=16)  # see FORMS
    puhui: bool = Field(default=False)
    filing_status: str = Field(default="未备案", max_length=8)  # 已备案 | 备案中 | 未备案
    age_min_months: int = Field(default=6, ge=0, le=MAX_AGE_MONTHS)
    age_max_months: int = Field(default=36, ge=0, le=MAX_AGE_MONTHS)
    total_places: int = Field(default=0, ge=0, le=MAX_PLACES)
    free_places: int = Field(default=0, ge=0, le=MAX_PLACES)
    phone: str = Field(default="", max_length=32)
    opening_hours: str = Field(default="", max_length=64)


class Institution(InstitutionFields, table=True):
    """A childcare institution (托育机构) with its fee list per service and its places."""

    __tablename__ = "institutions"
    __table_args__ = (
        Index("ix_institutions_lat_lon", "lat", "lon"),
        Index("ix_institutions_city_district", "city", "district"),
        UniqueConstraint("external_id", name="uq_institutions_external_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    classes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    services: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    #: {"全日托": 元/月, "半日托": 元/月, "临时托": 元/次, "计时托": 元/小时} for the services offered.
    fees: dict[str, float] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    is_demo: bool = Field(default=False, index=True)
    operator_user_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True, index=True))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class CareSession(SQLModel, table=True):
    """A dated temporary-care session (临时托 / 计时托) with a fixed number of places."""

    __tablename__ = "care_sessions"
    __table_args__ = (
        Index("ix_care_sessions_institution_date", "institution_id", "date"),
        Index("ix_care_sessions_date", "date"),
        CheckConstraint("booked >= 0 AND booked <= capacity", name="ck_care_sessions_booked"),
    )

    id: int | None = Field(default=None, primary_key=True)
    institution_id: int = parent_key("institutions.id")
    service: str = Field(max_length=8)  # 临时托 | 计时托
    date: dt.date
    start_time: dt.time
    end_time: dt.time
    age_min_months: int = Field(default=6)
    age_max_months: int = Field(default=36)
    capacity: int
    #: Places taken; changed only by the atomic conditional updates in `db.care.booking`.
    booked: int = Field(default=0)
    price: float = Field(default=0)
    is_demo: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow)


class ChildPlaceFields(SQLModel):
    """A parent asking for one place in a session for one child: the fields a booking and a waitlist entry
    share (an entry that gets its place becomes a booking of the same child). `id` is here so that it stays the
    first column of both tables, as their migrations create it."""

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = parent_key("care_sessions.id")
    parent_id: int = Field(sa_type=BigInteger)  # the parent's Telegram user id
    child_name: str = Field(default="", max_length=32)
    child_age_months: int


class Booking(ChildPlaceFields, table=True):
    """A parent's booking of one place in a session, for one child."""

    __tablename__ = "bookings"
    __table_args__ = (
        Index("ix_bookings_parent_status", "parent_id", "status"),
        Index("ix_bookings_session_status", "session_id", "status"),
        UniqueConstraint("code", name="uq_bookings_code"),
        UniqueConstraint("idempotency_key", name="uq_bookings_idempotency_key"),
    )

    status: str = Field(default=BOOKING_CONFIRMED, max_length=12)  # confirmed | cancelled
    code: str = Field(max_length=8)
    idempotency_key: str | None = Field(default=None, max_length=128)
    created_at: datetime = Field(default_factory=utcnow)
    cancelled_at: datetime | None = Field(default=None)
    reminded_at: datetime | None = Field(default=None)
