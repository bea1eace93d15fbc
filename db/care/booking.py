"""Booking temporary care (临时托 / 计时托): book, cancel, list, the operator's day list and new sessions.

Never overbook: the free-place check and the increment are ONE statement,

    UPDATE care_sessions SET booked = booked + 1 WHERE id = :id AND booked < capacity

whose row count says whether a place was taken (`care_rules.take_place`), in the same transaction as the
booking insert. PostgreSQL locks the row for the UPDATE and re-checks the condition after a concurrent commit;
SQLite runs each booking transaction as a writer from its start (`BEGIN IMMEDIATE`: one writer at a time).
A CHECK constraint (booked <= capacity) backs it.

A parent's bookings are serialised (SQLite: the immediate transaction; PostgreSQL: a transaction-level
advisory lock on the parent, `care_rules.lock_parent`) so that the idempotency and overlap checks cannot race
with each other. Every function works in the caller's session (one unit of work: the caller commits).
Reminders and operator notes live in `db.care.booking_notices`. Times are Asia/Shanghai wall-clock times.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from db.care.booking_views import BookingView, to_view, view_query
from db.care.care_rules import (
    SHARED_MESSAGES,
    PlaceRequest,
    RuleError,
    check_age_range,
    checked_child,
    clashing_booking,
    lock_parent,
    release_place,
    take_place,
    unused_code,
)
from db.care.institutions import valid_row_id
from db.care.session_spec import SessionSpec
from db.care.waitlist_offers import place_freed
from db.care.waitlist_rules import DEFAULT_HOLD
from db.core.timeutil import combine_local, to_local, utcnow
from db.models import (
    BOOKING_CANCELLED,
    BOOKING_CONFIRMED,
    SESSION_SERVICES,
    Booking,
    CareSession,
    Institution,
)

ERROR_MESSAGES = {
    "full": "该时段已约满 (this session is full)",
    "not_found": "没有找到该时段或预约 (session or booking not found)",
    "already_cancelled": "该预约已取消 (this booking is already cancelled)",
    **SHARED_MESSAGES,
}


class BookingError(RuleError):
    """A booking rule said no (codes: ERROR_MESSAGES)."""

    MESSAGES = ERROR_MESSAGES


@dataclass(frozen=True)
class BookingRequest(PlaceRequest):
    """One place asked for (the session, the parent, the child) and the optional idempotency key (e.g. derived
    from the Telegram message the confirm button belongs to)."""

    idempotency_key: str | None = None


def _by_key(session: Session, key: str) -> Booking | None:
    return session.execute(select(Booking).where(Booking.idempotency_key == key)).scalar_one_or_none()


def _bookable(session: Session, request: BookingRequest, name: str, local_now: datetime) -> CareSession:
    """The session, checked: it exists, has not started, takes the child's age, does not clash for the child."""
    care = session.get(CareSession, request.session_id)
    if care is None:
        raise BookingError("not_found", "没有找到该时段 (session not found)")
    if combine_local(care.date, care.start_time) <= local_now:
        raise BookingError("past")
    check_age_range(BookingError, care, request.child_age_months)
    if clashing_booking(session, request.parent_id, name, care) is not None:
        raise BookingError("overlap")
    return care


def _take_place(session: Session, request: BookingRequest, name: str) -> Booking:
    """`booked + 1` under the `booked < capacity` guard, and the booking row (flushed)."""
    if not take_place(session, request.session_id):
        raise BookingError("full")
    booking = Booking(
        session_id=request.session_id,
        parent_id=request.parent_id,
        child_name=name,
        child_age_months=request.child_age_months,
        status=BOOKING_CONFIRMED,
        code=unused_code(session),
        idempotency_key=request.idempotency_key,
        created_at=utcnow(),
    )
    session.add(booking)
    session.flush()
    return booking


def book_session_outcome(
    request: BookingRequest, now: datetime | None = None, *, session: Session
) -> tuple[Booking, bool]:
    """Book one place in a session for a parent's child; returns (the confirmed Booking, whether this call created it).

    The same `idempotency_key` returns the same booking and takes no second place, however often it is repeated.
    Raises BookingError with code: not_found (no such session), past (already started, Asia/Shanghai),
    age_out_of_range, overlap (the same parent's same child — by name — has a confirmed booking overlapping
    in time, this session included), full, invalid (bad input, or the key belongs to another parent).
    """
    key, parent_id = request.idempotency_key, request.parent_id
    name = checked_child(BookingError, parent_id, request.child_age_months, request.child_name)
    if key is not None and not (1 <= len(key) <= 128):
        raise BookingError("invalid", "幂等键长度应为 1–128 (idempotency key must be 1–128 characters)")
    if not valid_row_id(request.session_id):
        raise BookingError("not_found", "没有找到该时段 (session not found)")
    local_now = to_local(now)
    lock_parent(session, parent_id)
    existing = _by_key(session, key) if key is not None else None
    if existing is None:
        _bookable(session, request, name, local_now)
        if key is None:
            return _take_place(session, request, name), True
        try:
            with session.begin_nested():
                return _take_place(session, request, name), True
        except IntegrityError:
            # Only reachable when two requests with one key race past the lock (e.g. different parent ids):
            # the unique key kept the second out (its place given back with the savepoint); answer with the winner.
            existing = _by_key(session, key)
            if existing is None or existing.parent_id != parent_id:
                raise BookingError("invalid", "幂等键冲突 (idempotency key conflict)") from None
    if existing.parent_id != parent_id:
        raise BookingError("invalid", "幂等键已被其他用户使用 (idempotency key used by another user)")
    return existing, False


def book_session(request: BookingRequest, now: datetime | None = None, *, session: Session) -> Booking:
    """Book one place (see `book_session_outcome`); returns the confirmed Booking with its code."""
    return book_session_outcome(request, now, session=session)[0]


def cancel_booking(
    booking_id: int, parent_id: int, now: datetime | None = None, hold: timedelta | None = None, *, session: Session
) -> Booking:
    """Cancel a parent's booking and free its place (exactly once).

    In the same transaction the freed place goes to the first parent on the session's waitlist, if any
    (`db.care.waitlist_offers.place_freed`), held for `hold` (default `DEFAULT_HOLD`); the offer is sent by
    the bot's claim of offer notifications.

    Raises BookingError: not_found (no such booking, or it is someone else's), already_cancelled,
    past (the session has already started).
    """
    if not valid_row_id(booking_id):
        raise BookingError("not_found", "没有找到该预约 (booking not found)")
    local_now = to_local(now)
    lock_parent(session, parent_id)
    booking = session.get(Booking, booking_id)
    if booking is None or booking.parent_id != parent_id:
        raise BookingError("not_found", "没有找到该预约 (booking not found)")
    if booking.status == BOOKING_CANCELLED:
        raise BookingError("already_cancelled")
    care = session.get(CareSession, booking.session_id)
    if combine_local(care.date, care.start_time) <= local_now:
        raise BookingError("past", "该时段已开始,无法取消 (the session has started; it can no longer be cancelled)")
    cancelled_at = utcnow()
    changed = session.execute(
        update(Booking)
        .where(Booking.id == booking_id, Booking.status == BOOKING_CONFIRMED)
        .values(status=BOOKING_CANCELLED, cancelled_at=cancelled_at)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:
        raise BookingError("already_cancelled")
    release_place(session, booking.session_id)
    place_freed(booking.session_id, local_now, hold or DEFAULT_HOLD, session=session)
    booking.status = BOOKING_CANCELLED
    booking.cancelled_at = cancelled_at
    return booking


def get_booking(booking_id: int, *, session: Session) -> BookingView | None:
    """A booking with its session and institution, or None."""
    if not valid_row_id(booking_id):
        return None
    row = session.execute(view_query().where(Booking.id == booking_id)).first()
    return to_view(*row) if row else None


def get_booking_by_code(code: str, *, session: Session) -> BookingView | None:
    """A booking by its code (case-insensitive), or None."""
    row = session.execute(view_query().where(Booking.code == code.strip().upper())).first()
    return to_view(*row) if row else None


def list_bookings(
    parent_id: int, upcoming_only: bool = True, now: datetime | None = None, *, session: Session
) -> list[BookingView]:
    """A parent's bookings ("我的预约"), soonest first.

    `upcoming_only`: confirmed bookings whose session has not ended yet; otherwise all, cancelled included.
    """
    local_now = to_local(now)
    query = (
        view_query()
        .where(Booking.parent_id == parent_id)
        .order_by(CareSession.date, CareSession.start_time, Booking.id)
    )
    if upcoming_only:
        query = query.where(Booking.status == BOOKING_CONFIRMED, CareSession.date >= local_now.date())
    views = [to_view(*row) for row in session.execute(query).all()]
    if upcoming_only:
        now_key = (local_now.date(), local_now.time().replace(tzinfo=None))
        views = [v for v in views if (v.date, v.end_time) > now_key]
    return views


def bookings_for_institution_day(institution_id: int, day: date, *, session: Session) -> list[BookingView]:
    """All bookings (confirmed and cancelled) of an institution's sessions on `day`, by start time."""
    query = (
        view_query()
        .where(CareSession.institution_id == institution_id, CareSession.date == day)
        .order_by(CareSession.start_time, CareSession.id, Booking.id)
    )
    return [to_view(*row) for row in session.execute(query).all()]


def _check_spec(spec: SessionSpec, now: datetime | None) -> None:
    if spec.service not in SESSION_SERVICES:
        raise BookingError("invalid", f"服务类型应为 {'/'.join(SESSION_SERVICES)} (service must be 临时托 or 计时托)")
    if spec.end <= spec.start:
        raise BookingError("invalid", "结束时间应晚于开始时间 (end must be after start)")
    if not (isinstance(spec.capacity, int) and 1 <= spec.capacity <= 500):
        raise BookingError("invalid", "名额应在 1–500 之间 (capacity must be 1–500)")
    if not (0 <= float(spec.price) <= 100000):
        raise BookingError("invalid", "价格无效 (invalid price)")
    if combine_local(spec.day, spec.start) <= to_local(now):
        raise BookingError("past", "不能添加已开始的时段 (the session would start in the past)")


def add_session(
    institution_id: int,
    spec: SessionSpec,
    now: datetime | None = None,
    *,
    session: Session,
    operator_user_id: int | None = None,
) -> CareSession:
    """An operator adds a temporary-care session (`spec`: day, times, service, places, price, ages) to their
    institution.

    Ages (None) default to the institution's range and must lie within it. When `operator_user_id` is given it
    must be the institution's operator. The session is demo data when its institution is.
    Raises BookingError: not_found, forbidden, past, invalid.
    """
    _check_spec(spec, now)
    inst = session.get(Institution, institution_id)
    if inst is None:
        raise BookingError("not_found", "没有找到该机构 (institution not found)")
    if operator_user_id is not None and inst.operator_user_id != operator_user_id:
        raise BookingError("forbidden")
    low = inst.age_min_months if spec.age_min is None else spec.age_min
    high = inst.age_max_months if spec.age_max is None else spec.age_max
    if not (inst.age_min_months <= low <= high <= inst.age_max_months):
        raise BookingError(
            "invalid",
            f"年龄范围应在机构的 {inst.age_min_months}–{inst.age_max_months} 个月之内 "
            "(age range must lie within the institution's)",
        )
    care = CareSession(
        institution_id=institution_id,
        service=spec.service,
        date=spec.day,
        start_time=spec.start,
        end_time=spec.end,
        age_min_months=low,
        age_max_months=high,
        capacity=spec.capacity,
        booked=0,
        price=float(spec.price),
        is_demo=inst.is_demo,
    )
    session.add(care)
    session.flush()
    return care
