"""Waitlist tables for full temporary-care sessions (issue 12 §1): queue entries and the offers of held places.

A held place is counted in `care_sessions.booked` but belongs to an open offer instead of a booking, so the
booking guard `booked < capacity` keeps it from anyone else. The rules live in `db.care.waitlist`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index
from sqlmodel import Field, SQLModel

from db.care.models import ChildPlaceFields
from db.core.columns import aware_datetime, optional_key, parent_key, partial_unique_index
from db.core.timeutil import utcnow

ENTRY_WAITING = "waiting"  # in the queue
ENTRY_OFFERED = "offered"  # holds an open offer
ENTRY_BOOKED = "booked"  # took its offer: a confirmed booking exists
ENTRY_LEFT = "left"  # the parent left the queue
ENTRY_PASSED = "passed"  # the parent passed on an offer (leaves the queue)
ENTRY_EXPIRED = "expired"  # an offer lapsed unanswered (leaves the queue)
ENTRY_ACTIVE = (ENTRY_WAITING, ENTRY_OFFERED)

OFFER_OPEN = "open"
OFFER_TAKEN = "taken"
OFFER_PASSED = "passed"
OFFER_EXPIRED = "expired"

_ACTIVE_SQL = "status IN ('waiting', 'offered')"
_OPEN_SQL = "status = 'open'"


class WaitlistEntry(ChildPlaceFields, table=True):
    """A parent's child queued for one full session; queue order is the id order."""

    __tablename__ = "waitlist_entries"
    __table_args__ = (
        Index("ix_waitlist_entries_session_status", "session_id", "status", "id"),
        Index("ix_waitlist_entries_parent_status", "parent_id", "status"),
        # One active entry per parent, session and child: joining twice returns the same entry.
        partial_unique_index(
            "uq_waitlist_entries_active", "session_id", "parent_id", "child_name", where=_ACTIVE_SQL
        ),
    )

    status: str = Field(default=ENTRY_WAITING, max_length=12)
    booking_id: int | None = optional_key("bookings.id")
    created_at: datetime = aware_datetime(default_factory=utcnow)
    updated_at: datetime = aware_datetime(default_factory=utcnow)


class WaitlistOffer(SQLModel, table=True):
    """A place held for one waiting entry until it is taken, passed or expires."""

    __tablename__ = "waitlist_offers"
    __table_args__ = (
        Index("ix_waitlist_offers_status_expires", "status", "expires_at"),
        Index("ix_waitlist_offers_session_status", "session_id", "status"),
        Index("ix_waitlist_offers_parent", "parent_id"),
        # At most one open offer per entry.
        partial_unique_index("uq_waitlist_offers_open_entry", "entry_id", where=_OPEN_SQL),
    )

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = parent_key("waitlist_entries.id")
    session_id: int = parent_key("care_sessions.id")
    parent_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    status: str = Field(default=OFFER_OPEN, max_length=12)
    hold_seconds: int
    created_at: datetime = aware_datetime(default_factory=utcnow)
    #: Until when the place is held (UTC); never later than the session's start.
    expires_at: datetime = aware_datetime()
    #: When a worker claimed the offer for sending (NULL: not sent yet).
    notified_at: datetime | None = aware_datetime(nullable=True, default=None)
    resolved_at: datetime | None = aware_datetime(nullable=True, default=None)
    booking_id: int | None = optional_key("bookings.id")
