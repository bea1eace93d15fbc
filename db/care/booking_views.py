"""A booking with its session and institution (`BookingView`): what confirmations, "我的预约", reminders and
operators show, and the query that reads it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from db.care.institutions import json_number, schedule_json
from db.care.place_view import SessionPlace, place_fields
from db.core.timeutil import combine_local
from db.models import Booking, CareSession, Institution


@dataclass(frozen=True)
class BookingView(SessionPlace):
    """A booking with its session and institution, for confirmations, "我的预约", reminders, operators."""

    booking_id: int
    code: str
    status: str
    parent_id: int
    child_name: str
    child_age_months: int
    created_at: datetime
    cancelled_at: datetime | None
    reminded_at: datetime | None
    session_id: int
    address: str
    district: str
    city: str
    phone: str
    lat: float
    lon: float
    is_demo: bool
    operator_user_id: int | None

    @property
    def starts_at(self) -> datetime:
        """Session start, aware Asia/Shanghai."""
        return combine_local(self.date, self.start_time)

    def to_dict(self) -> dict:
        """JSON shape used by `python -m bot bookings list --json`."""
        return {
            "booking_id": self.booking_id,
            "code": self.code,
            "status": self.status,
            "session_id": self.session_id,
            "institution_id": self.institution_id,
            "institution": self.institution_name,
            "district": self.district,
            "address": self.address,
            "service": self.service,
            **schedule_json(self.date, self.start_time, self.end_time),
            "price": json_number(self.price),
            "child": self.child_name,
            "child_age_months": self.child_age_months,
        }


def view_query():
    """SELECT (Booking, CareSession, Institution) rows; add the WHERE and ORDER BY."""
    return (
        select(Booking, CareSession, Institution)
        .join(CareSession, CareSession.id == Booking.session_id)
        .join(Institution, Institution.id == CareSession.institution_id)
        .execution_options(populate_existing=True)  # the caller's unit may have changed rows with UPDATEs
    )


def to_view(booking: Booking, session: CareSession, inst: Institution) -> BookingView:
    """A row of `view_query` as a BookingView."""
    return BookingView(
        booking_id=booking.id,
        code=booking.code,
        status=booking.status,
        parent_id=booking.parent_id,
        child_name=booking.child_name,
        child_age_months=booking.child_age_months,
        created_at=booking.created_at,
        cancelled_at=booking.cancelled_at,
        reminded_at=booking.reminded_at,
        session_id=session.id,
        **place_fields(session, inst),
        address=inst.address,
        district=inst.district,
        city=inst.city,
        phone=inst.phone,
        lat=inst.lat,
        lon=inst.lon,
        is_demo=inst.is_demo,
        operator_user_id=inst.operator_user_id,
    )
