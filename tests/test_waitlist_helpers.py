"""Shared helpers for the waitlist tests (no tests here): a full session, a cancellation that offers the freed
place in its own transaction (what `db.booking.cancel_booking` will do once hooked up), and the invariants."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, select, update

from db.care.booking import BookingError
from db.care.care_rules import lock_parent, release_place
from db.care.waitlist import Offer, place_freed
from db.care.waitlist_models import OFFER_OPEN, WaitlistEntry, WaitlistOffer
from db.core.engine import session_scope
from db.core.timeutil import SHANGHAI, utcnow
from db.models import BOOKING_CANCELLED, BOOKING_CONFIRMED, Booking, CareSession
from tests.db_fixtures import book, make_institution, make_session

NOW = datetime(2030, 3, 4, 8, 0, tzinfo=SHANGHAI)
DAY = date(2030, 3, 5)
HOLD = timedelta(minutes=30)


def full_session(engine, capacity: int = 2, first_parent: int = 1, **overrides) -> tuple[int, list[Booking]]:
    """A session on DAY whose places are all booked (parents first_parent, first_parent+1, ...)."""
    sid = make_session(engine, make_institution(engine), DAY, capacity=capacity, **overrides)
    bookings = [book(engine, sid, first_parent + i, 20, now=NOW) for i in range(capacity)]
    return sid, bookings


def cancel_and_offer(engine, booking_id: int, parent_id: int, now=NOW, hold=HOLD) -> Offer | None:
    """Cancel a booking and offer its place to the waitlist, in ONE transaction (the hook the booking module
    gets): the conditional status change, `booked - 1`, then `place_freed`."""
    with session_scope(engine) as session:
        lock_parent(session, parent_id)
        booking = session.get(Booking, booking_id)
        if booking is None or booking.parent_id != parent_id:
            raise BookingError("not_found")
        changed = session.execute(
            update(Booking)
            .where(Booking.id == booking_id, Booking.status == BOOKING_CONFIRMED)
            .values(status=BOOKING_CANCELLED, cancelled_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if changed.rowcount != 1:
            raise BookingError("already_cancelled")
        release_place(session, booking.session_id)
        return place_freed(booking.session_id, now, hold, session=session)


def counts(engine, session_id: int) -> dict[str, int]:
    """booked, capacity, confirmed bookings and open offers of a session, read in ONE statement (one snapshot)."""
    confirmed = (
        select(func.count())
        .select_from(Booking)
        .where(Booking.session_id == session_id, Booking.status == BOOKING_CONFIRMED)
        .scalar_subquery()
    )
    offers = (
        select(func.count())
        .select_from(WaitlistOffer)
        .where(WaitlistOffer.session_id == session_id, WaitlistOffer.status == OFFER_OPEN)
        .scalar_subquery()
    )
    with session_scope(engine) as session:
        row = session.execute(
            select(CareSession.booked, CareSession.capacity, confirmed, offers).where(CareSession.id == session_id)
        ).one()
    return {"booked": row[0], "capacity": row[1], "confirmed": row[2], "open_offers": row[3]}


def assert_invariants(engine, session_id: int) -> dict[str, int]:
    """booked == confirmed + open offers <= capacity; one booking per parent and child; offers in queue order."""
    c = counts(engine, session_id)
    assert c["booked"] == c["confirmed"] + c["open_offers"], c
    assert c["booked"] <= c["capacity"], c
    with session_scope(engine) as session:
        per_child = session.execute(
            select(Booking.parent_id, Booking.child_name, func.count())
            .where(Booking.session_id == session_id, Booking.status == BOOKING_CONFIRMED)
            .group_by(Booking.parent_id, Booking.child_name)
        ).all()
        assert all(n == 1 for _p, _c, n in per_child), per_child
        offer_entries = list(
            session.execute(
                select(WaitlistOffer.entry_id).where(WaitlistOffer.session_id == session_id).order_by(WaitlistOffer.id)
            ).scalars()
        )
        # Each entry is offered at most once, and offers follow the queue (entry id) order.
        assert offer_entries == sorted(set(offer_entries)), offer_entries
        offered = session.execute(
            select(func.count()).select_from(WaitlistEntry).where(
                WaitlistEntry.session_id == session_id, WaitlistEntry.status == "offered"
            )
        ).scalar_one()
        assert offered == c["open_offers"], (offered, c)
    return c
