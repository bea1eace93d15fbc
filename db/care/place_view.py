"""What every booking, offer and queue-entry view shows of its session and institution (`SessionPlace`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time

from db.models import CareSession, Institution


@dataclass(frozen=True)
class SessionPlace:
    """A session's service, day, hours and price, and its institution: the base of the booking, offer and
    queue-entry views (`BookingView`, `OfferView`, `WaitlistEntryView`)."""

    service: str
    date: date
    start_time: time
    end_time: time
    price: float
    institution_id: int
    institution_name: str


def place_fields(care: CareSession, inst: Institution) -> dict:
    """The `SessionPlace` fields of a view, read from its session and institution rows."""
    return {
        "service": care.service,
        "date": care.date,
        "start_time": care.start_time,
        "end_time": care.end_time,
        "price": care.price,
        "institution_id": inst.id,
        "institution_name": inst.name,
    }
