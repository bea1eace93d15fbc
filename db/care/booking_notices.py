"""Messages about bookings the bot sends on its own: the reminder the day before and the operator's notes of
a booking and of its cancellation. Each is CLAIMED in the database before it is sent (exactly one claimant
wins) and released again only when the send failed for a passing reason.

The caller commits a claim in its own unit of work BEFORE sending, and releases it in another one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, select, update
from sqlmodel import Session

from db.care.booking_views import BookingView, to_view, view_query
from db.care.institutions import valid_row_id
from db.core import outbox
from db.core.timeutil import to_local
from db.models import BOOKING_CANCELLED, BOOKING_CONFIRMED, Booking, CareSession, Institution

OPERATOR_NOTE_KINDS = {"booked": outbox.OPERATOR_BOOKED, "cancelled": outbox.OPERATOR_CANCELLED}


def due_reminders(now: datetime | None = None, *, session: Session) -> list[BookingView]:
    """Confirmed bookings whose session is tomorrow (Asia/Shanghai) and that were not reminded yet.

    Meant for a repeating job: after a restart it finds the same work in the database.
    """
    tomorrow = to_local(now).date() + timedelta(days=1)
    query = (
        view_query()
        .where(
            and_(
                Booking.status == BOOKING_CONFIRMED,
                Booking.reminded_at.is_(None),
                CareSession.date == tomorrow,
            )
        )
        .order_by(CareSession.start_time, Booking.id)
    )
    return [to_view(*row) for row in session.execute(query).all()]


def _set_reminded(booking_id: int, when: datetime, session: Session, *conditions) -> bool:
    result = session.execute(
        update(Booking)
        .where(Booking.id == booking_id, Booking.reminded_at.is_(None), *conditions)
        .values(reminded_at=when)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def claim_reminder(booking_id: int, now: datetime | None = None, *, session: Session) -> bool:
    """Claim a booking's reminder BEFORE sending it: True for exactly one caller (one conditional UPDATE sets
    `reminded_at` where it is still empty and the booking still confirmed); False when another run or worker
    has it, or the booking was cancelled meanwhile. See `release_reminder` for a send that failed."""
    if not valid_row_id(booking_id):
        return False
    return _set_reminded(booking_id, to_local(now), session, Booking.status == BOOKING_CONFIRMED)


def release_reminder(booking_id: int, *, session: Session) -> None:
    """Give a claimed reminder back (the send failed for a passing reason): the next run sends it."""
    session.execute(
        update(Booking)
        .where(Booking.id == booking_id)
        .values(reminded_at=None)
        .execution_options(synchronize_session=False)
    )


def mark_reminded(booking_id: int, now: datetime | None = None, *, session: Session) -> bool:
    """Record that the reminder was sent; False when it already was (another worker got there first).
    Senders use `claim_reminder` before sending instead."""
    return _set_reminded(booking_id, to_local(now), session)


def claim_operator_note(booking_id: int, kind: str, now: datetime | None = None, *, session: Session) -> bool:
    """Claim the operator's note of a booking (`kind` "booked") or of its cancellation ("cancelled") before
    sending it: True for exactly one caller however often the update is re-delivered or a button re-tapped."""
    return outbox.claim_notice(OPERATOR_NOTE_KINDS[kind], booking_id, now, session=session)


def release_operator_note(booking_id: int, kind: str, *, session: Session) -> None:
    """Give a claimed operator note back (the send failed for a passing reason): `pending_operator_notes`
    finds it again."""
    outbox.release_notice(OPERATOR_NOTE_KINDS[kind], booking_id, session=session)


def pending_operator_notes(
    now: datetime | None = None, *, session: Session, grace: timedelta = timedelta(minutes=2),
    window: timedelta = timedelta(days=1),
) -> list[tuple[str, BookingView]]:
    """Operator notes nobody has claimed: ("booked" | "cancelled", booking) of the last `window`, older than
    `grace` (the worker that handled the tap normally sends them at once). Covers a worker that stopped between
    booking and notifying, and a note released after a failed send."""
    moment = to_local(now).astimezone(UTC)  # stamps are stored in UTC (SQLite keeps the wall time as given)
    newest, oldest = moment - grace, moment - window
    found: list[tuple[str, BookingView]] = []
    claims = outbox.NoticeClaim.__table__
    for kind, stamp, extra in (
        ("booked", Booking.created_at, Booking.id.is_not(None)),
        ("cancelled", Booking.cancelled_at, Booking.status == BOOKING_CANCELLED),
    ):
        claimed = select(claims.c.ref).where(claims.c.kind == OPERATOR_NOTE_KINDS[kind])
        query = (
            view_query()
            .where(
                extra, Institution.operator_user_id.is_not(None), stamp.is_not(None), stamp <= newest,
                stamp >= oldest, Booking.id.not_in(claimed),
            )
            .order_by(stamp, Booking.id)
        )
        found += [(kind, to_view(*row)) for row in session.execute(query).all()]
    return found
