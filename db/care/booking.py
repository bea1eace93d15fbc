"""Booking temporary care (临时托 / 计时托): book, cancel, list, the operator's day list, reminders.

Never overbook: the free-place check and the increment are ONE statement,

    UPDATE care_sessions SET booked = booked + 1 WHERE id = :id AND booked < capacity

whose row count says whether a place was taken, in the same transaction as the booking insert. PostgreSQL
locks the row for the UPDATE and re-checks the condition after a concurrent commit; SQLite runs each booking
transaction under `BEGIN IMMEDIATE` (one writer at a time). A CHECK constraint (booked <= capacity) backs it.

A parent's bookings are serialised (SQLite: the immediate transaction; PostgreSQL: a transaction-level
advisory lock on the parent) so that the idempotency and overlap checks cannot race with each other.
Times are Asia/Shanghai wall-clock times.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import ClassVar

from sqlalchemy import and_, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from db.care.institutions import json_number, valid_row_id
from db.core import outbox
from db.core.engine import session_scope
from db.core.timeutil import combine_local, fmt_time, to_local, utcnow
from db.models import (
    BOOKING_CANCELLED,
    BOOKING_CONFIRMED,
    SESSION_SERVICES,
    Booking,
    CareSession,
    Institution,
)

#: Booking codes: 6 characters without look-alikes (no 0/O, 1/I/L).
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 6
MAX_CHILD_AGE_MONTHS = 72
MAX_CHILD_NAME = 32

ERROR_MESSAGES = {
    "full": "该时段已约满 (this session is full)",
    "not_found": "没有找到该时段或预约 (session or booking not found)",
    "past": "该时段已开始或已结束 (this session has already started or ended)",
    "age_out_of_range": "孩子月龄不在该时段的年龄范围内 (the child's age is outside the session's age range)",
    "overlap": "该孩子在同一时间已有预约 (this child already has a booking at that time)",
    "invalid": "输入无效 (invalid input)",
    "already_cancelled": "该预约已取消 (this booking is already cancelled)",
    "forbidden": "无权操作该机构 (you do not operate this institution)",
}


class RuleError(Exception):
    """A care rule said no. `code` is one of the class's MESSAGES keys; `message` is Chinese with English."""

    MESSAGES: ClassVar[dict[str, str]] = {}

    def __init__(self, code: str, message: str | None = None) -> None:
        self.code = code
        self.message = message or self.MESSAGES.get(code, code)
        super().__init__(f"{code}: {self.message}")


class BookingError(RuleError):
    """A booking rule said no (codes: ERROR_MESSAGES)."""

    MESSAGES = ERROR_MESSAGES


@dataclass(frozen=True)
class BookingView:
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
    service: str
    date: date
    start_time: time
    end_time: time
    price: float
    institution_id: int
    institution_name: str
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
            "date": self.date.isoformat(),
            "start": fmt_time(self.start_time),
            "end": fmt_time(self.end_time),
            "price": json_number(self.price),
            "child": self.child_name,
            "child_age_months": self.child_age_months,
        }


def _view_query():
    return (
        select(Booking, CareSession, Institution)
        .join(CareSession, CareSession.id == Booking.session_id)
        .join(Institution, Institution.id == CareSession.institution_id)
    )


def _view(booking: Booking, session: CareSession, inst: Institution) -> BookingView:
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
        service=session.service,
        date=session.date,
        start_time=session.start_time,
        end_time=session.end_time,
        price=session.price,
        institution_id=inst.id,
        institution_name=inst.name,
        address=inst.address,
        district=inst.district,
        city=inst.city,
        phone=inst.phone,
        lat=inst.lat,
        lon=inst.lon,
        is_demo=inst.is_demo,
        operator_user_id=inst.operator_user_id,
    )


@contextmanager
def _serialized(engine: Engine, parent_id: int | None = None) -> Iterator[Session]:
    """A write transaction that other bookings (SQLite: all; PostgreSQL: the same parent's) wait for."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            connection = session.connection()
            if connection.dialect.name == "sqlite":
                # Take the write lock up front: reads inside see the latest committed state, and no
                # snapshot can go stale between our checks and our writes.
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            elif connection.dialect.name == "postgresql" and parent_id is not None:
                session.execute(
                    text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                    {"key": f"tuoyu-booking:{parent_id}"},
                )
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def new_code() -> str:
    """A random booking code such as "7KQ2MX"."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _validate_booking_input(parent_id: int, child_age_months: int, child_name: str, key: str | None) -> str:
    if not isinstance(parent_id, int) or isinstance(parent_id, bool) or parent_id <= 0:
        raise BookingError("invalid", "用户编号无效 (invalid user id)")
    if not isinstance(child_age_months, int) or isinstance(child_age_months, bool):
        raise BookingError("invalid", "月龄应为整数 (age in months must be a whole number)")
    if not (0 <= child_age_months <= MAX_CHILD_AGE_MONTHS):
        raise BookingError("invalid", f"月龄应在 0–{MAX_CHILD_AGE_MONTHS} 之间 (age in months must be 0–72)")
    name = " ".join((child_name or "").split())
    if len(name) > MAX_CHILD_NAME:
        raise BookingError("invalid", f"孩子称呼最多 {MAX_CHILD_NAME} 个字 (child's name: at most 32 characters)")
    if key is not None and not (1 <= len(key) <= 128):
        raise BookingError("invalid", "幂等键长度应为 1–128 (idempotency key must be 1–128 characters)")
    return name


def book_session_outcome(
    engine: Engine,
    session_id: int,
    parent_id: int,
    child_age_months: int,
    child_name: str = "",
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> tuple[Booking, bool]:
    """Book one place in a session for a parent's child; returns (the confirmed Booking, whether this call created it).

    `idempotency_key` (e.g. derived from the Telegram message the confirm button belongs to): the same key
    returns the same booking and takes no second place, however often it is repeated.
    Raises BookingError with code: not_found (no such session), past (already started, Asia/Shanghai),
    age_out_of_range, overlap (the same parent's same child — by name — has a confirmed booking overlapping
    in time, this session included), full, invalid (bad input, or the key belongs to another parent).
    """
    name = _validate_booking_input(parent_id, child_age_months, child_name, idempotency_key)
    if not valid_row_id(session_id):
        raise BookingError("not_found", "没有找到该时段 (session not found)")
    local_now = to_local(now)
    try:
        with _serialized(engine, parent_id) as session:
            if idempotency_key is not None:
                existing = session.execute(
                    select(Booking).where(Booking.idempotency_key == idempotency_key)
                ).scalar_one_or_none()
                if existing is not None:
                    if existing.parent_id != parent_id:
                        raise BookingError("invalid", "幂等键已被其他用户使用 (idempotency key used by another user)")
                    return existing, False

            care = session.get(CareSession, session_id)
            if care is None:
                raise BookingError("not_found", "没有找到该时段 (session not found)")
            if combine_local(care.date, care.start_time) <= local_now:
                raise BookingError("past")
            if not (care.age_min_months <= child_age_months <= care.age_max_months):
                raise BookingError(
                    "age_out_of_range",
                    f"该时段接收 {care.age_min_months}–{care.age_max_months} 个月的孩子 "
                    f"(this session takes children aged {care.age_min_months}–{care.age_max_months} months)",
                )

            clash = session.execute(
                select(Booking.id)
                .join(CareSession, CareSession.id == Booking.session_id)
                .where(
                    Booking.parent_id == parent_id,
                    Booking.child_name == name,
                    Booking.status == BOOKING_CONFIRMED,
                    CareSession.date == care.date,
                    CareSession.start_time < care.end_time,
                    CareSession.end_time > care.start_time,
                )
                .limit(1)
            ).first()
            if clash is not None:
                raise BookingError("overlap")

            taken = session.execute(
                update(CareSession)
                .where(CareSession.id == session_id, CareSession.booked < CareSession.capacity)
                .values(booked=CareSession.booked + 1)
                .execution_options(synchronize_session=False)
            )
            if taken.rowcount != 1:
                raise BookingError("full")

            code = new_code()
            while session.execute(select(Booking.id).where(Booking.code == code)).first() is not None:
                code = new_code()  # pragma: no cover - 31^6 codes; a clash is rare
            booking = Booking(
                session_id=session_id,
                parent_id=parent_id,
                child_name=name,
                child_age_months=child_age_months,
                status=BOOKING_CONFIRMED,
                code=code,
                idempotency_key=idempotency_key,
                created_at=utcnow(),
            )
            session.add(booking)
            session.flush()
            return booking, True
    except IntegrityError:
        # Only reachable when two requests with one key race past the lock (e.g. different parent ids):
        # the unique key kept the second out; answer with the booking that won.
        if idempotency_key is None:
            raise
        with session_scope(engine) as session:
            existing = session.execute(
                select(Booking).where(Booking.idempotency_key == idempotency_key)
            ).scalar_one_or_none()
        if existing is None or existing.parent_id != parent_id:
            raise BookingError("invalid", "幂等键冲突 (idempotency key conflict)") from None
        return existing, False


def book_session(
    engine: Engine,
    session_id: int,
    parent_id: int,
    child_age_months: int,
    child_name: str = "",
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> Booking:
    """Book one place (see `book_session_outcome`); returns the confirmed Booking with its code."""
    return book_session_outcome(engine, session_id, parent_id, child_age_months, child_name, idempotency_key, now)[0]


def cancel_booking(
    engine: Engine, booking_id: int, parent_id: int, now: datetime | None = None, hold: timedelta | None = None
) -> Booking:
    """Cancel a parent's booking and free its place (exactly once).

    In the same transaction the freed place goes to the first parent on the session's waitlist, if any
    (`db.waitlist.place_freed`), held for `hold` (default `db.waitlist.DEFAULT_HOLD`); the offer is sent by
    the bot's claim of offer notifications.

    Raises BookingError: not_found (no such booking, or it is someone else's), already_cancelled,
    past (the session has already started).
    """
    if not valid_row_id(booking_id):
        raise BookingError("not_found", "没有找到该预约 (booking not found)")
    local_now = to_local(now)
    with _serialized(engine, parent_id) as session:
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
        session.execute(
            update(CareSession)
            .where(CareSession.id == booking.session_id, CareSession.booked > 0)
            .values(booked=CareSession.booked - 1)
            .execution_options(synchronize_session=False)
        )
        from db.care import waitlist  # db.care.waitlist builds on this module

        waitlist.place_freed(session, booking.session_id, local_now, hold or waitlist.DEFAULT_HOLD)
        booking.status = BOOKING_CANCELLED
        booking.cancelled_at = cancelled_at
        return booking


def get_booking(engine: Engine, booking_id: int) -> BookingView | None:
    """A booking with its session and institution, or None."""
    if not valid_row_id(booking_id):
        return None
    with session_scope(engine) as session:
        row = session.execute(_view_query().where(Booking.id == booking_id)).first()
        return _view(*row) if row else None


def get_booking_by_code(engine: Engine, code: str) -> BookingView | None:
    """A booking by its code (case-insensitive), or None."""
    with session_scope(engine) as session:
        row = session.execute(_view_query().where(Booking.code == code.strip().upper())).first()
        return _view(*row) if row else None


def list_bookings(
    engine: Engine, parent_id: int, upcoming_only: bool = True, now: datetime | None = None
) -> list[BookingView]:
    """A parent's bookings ("我的预约"), soonest first.

    `upcoming_only`: confirmed bookings whose session has not ended yet; otherwise all, cancelled included.
    """
    local_now = to_local(now)
    query = (
        _view_query()
        .where(Booking.parent_id == parent_id)
        .order_by(CareSession.date, CareSession.start_time, Booking.id)
    )
    if upcoming_only:
        query = query.where(Booking.status == BOOKING_CONFIRMED, CareSession.date >= local_now.date())
    with session_scope(engine) as session:
        views = [_view(*row) for row in session.execute(query).all()]
    if upcoming_only:
        now_key = (local_now.date(), local_now.time().replace(tzinfo=None))
        views = [v for v in views if (v.date, v.end_time) > now_key]
    return views


def bookings_for_institution_day(engine: Engine, institution_id: int, date: date) -> list[BookingView]:
    """All bookings (confirmed and cancelled) of an institution's sessions on `date`, by start time."""
    query = (
        _view_query()
        .where(CareSession.institution_id == institution_id, CareSession.date == date)
        .order_by(CareSession.start_time, CareSession.id, Booking.id)
    )
    with session_scope(engine) as session:
        return [_view(*row) for row in session.execute(query).all()]


def add_session(
    engine: Engine,
    institution_id: int,
    *,
    service: str,
    day: date,
    start_time: time,
    end_time: time,
    capacity: int,
    price: float,
    age_min_months: int | None = None,
    age_max_months: int | None = None,
    operator_user_id: int | None = None,
    is_demo: bool = False,
    now: datetime | None = None,
) -> CareSession:
    """An operator adds a temporary-care session to their institution.

    Ages default to the institution's range and must lie within it. When `operator_user_id` is given it
    must be the institution's operator. Raises BookingError: not_found, forbidden, past, invalid.
    """
    if service not in SESSION_SERVICES:
        raise BookingError("invalid", f"服务类型应为 {'/'.join(SESSION_SERVICES)} (service must be 临时托 or 计时托)")
    if end_time <= start_time:
        raise BookingError("invalid", "结束时间应晚于开始时间 (end must be after start)")
    if not (isinstance(capacity, int) and 1 <= capacity <= 500):
        raise BookingError("invalid", "名额应在 1–500 之间 (capacity must be 1–500)")
    if not (0 <= float(price) <= 100000):
        raise BookingError("invalid", "价格无效 (invalid price)")
    if combine_local(day, start_time) <= to_local(now):
        raise BookingError("past", "不能添加已开始的时段 (the session would start in the past)")
    with session_scope(engine) as session:
        inst = session.get(Institution, institution_id)
        if inst is None:
            raise BookingError("not_found", "没有找到该机构 (institution not found)")
        if operator_user_id is not None and inst.operator_user_id != operator_user_id:
            raise BookingError("forbidden")
        low = inst.age_min_months if age_min_months is None else age_min_months
        high = inst.age_max_months if age_max_months is None else age_max_months
        if not (inst.age_min_months <= low <= high <= inst.age_max_months):
            raise BookingError(
                "invalid",
                f"年龄范围应在机构的 {inst.age_min_months}–{inst.age_max_months} 个月之内 "
                "(age range must lie within the institution's)",
            )
        care = CareSession(
            institution_id=institution_id,
            service=service,
            date=day,
            start_time=start_time,
            end_time=end_time,
            age_min_months=low,
            age_max_months=high,
            capacity=capacity,
            booked=0,
            price=float(price),
            is_demo=is_demo or inst.is_demo,
        )
        session.add(care)
        session.flush()
        return care


def due_reminders(engine: Engine, now: datetime | None = None) -> list[BookingView]:
    """Confirmed bookings whose session is tomorrow (Asia/Shanghai) and that were not reminded yet.

    Meant for a repeating job: after a restart it finds the same work in the database.
    """
    tomorrow = to_local(now).date() + timedelta(days=1)
    query = (
        _view_query()
        .where(
            and_(
                Booking.status == BOOKING_CONFIRMED,
                Booking.reminded_at.is_(None),
                CareSession.date == tomorrow,
            )
        )
        .order_by(CareSession.start_time, Booking.id)
    )
    with session_scope(engine) as session:
        return [_view(*row) for row in session.execute(query).all()]


def claim_reminder(engine: Engine, booking_id: int, now: datetime | None = None) -> bool:
    """Claim a booking's reminder BEFORE sending it: True for exactly one caller (one conditional UPDATE sets
    `reminded_at` where it is still empty and the booking still confirmed); False when another run or worker
    has it, or the booking was cancelled meanwhile. See `release_reminder` for a send that failed."""
    if not valid_row_id(booking_id):
        return False
    with session_scope(engine) as session:
        result = session.execute(
            update(Booking)
            .where(Booking.id == booking_id, Booking.reminded_at.is_(None), Booking.status == BOOKING_CONFIRMED)
            .values(reminded_at=to_local(now))
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1


def release_reminder(engine: Engine, booking_id: int) -> None:
    """Give a claimed reminder back (the send failed for a passing reason): the next run sends it."""
    with session_scope(engine) as session:
        session.execute(
            update(Booking)
            .where(Booking.id == booking_id)
            .values(reminded_at=None)
            .execution_options(synchronize_session=False)
        )


OPERATOR_NOTE_KINDS = {"booked": outbox.OPERATOR_BOOKED, "cancelled": outbox.OPERATOR_CANCELLED}


def claim_operator_note(engine: Engine, booking_id: int, kind: str, now: datetime | None = None) -> bool:
    """Claim the operator's note of a booking (`kind` "booked") or of its cancellation ("cancelled") before
    sending it: True for exactly one caller however often the update is re-delivered or a button re-tapped."""
    return outbox.claim_notice(engine, OPERATOR_NOTE_KINDS[kind], booking_id, now)


def release_operator_note(engine: Engine, booking_id: int, kind: str) -> None:
    """Give a claimed operator note back (the send failed for a passing reason): `pending_operator_notes`
    finds it again."""
    outbox.release_notice(engine, OPERATOR_NOTE_KINDS[kind], booking_id)


def pending_operator_notes(
    engine: Engine, now: datetime | None = None, *, grace: timedelta = timedelta(minutes=2),
    window: timedelta = timedelta(days=1),
) -> list[tuple[str, BookingView]]:
    """Operator notes nobody has claimed: ("booked" | "cancelled", booking) of the last `window`, older than
    `grace` (the worker that handled the tap normally sends them at once). Covers a worker that stopped between
    booking and notifying, and a note released after a failed send."""
    moment = to_local(now).astimezone(UTC)  # stamps are stored in UTC (SQLite keeps the wall time as given)
    newest, oldest = moment - grace, moment - window
    found: list[tuple[str, BookingView]] = []
    claims = outbox.NoticeClaim.__table__
    with session_scope(engine) as session:
        for kind, stamp, extra in (
            ("booked", Booking.created_at, Booking.id.is_not(None)),
            ("cancelled", Booking.cancelled_at, Booking.status == BOOKING_CANCELLED),
        ):
            claimed = select(claims.c.ref).where(claims.c.kind == OPERATOR_NOTE_KINDS[kind])
            query = (
                _view_query()
                .where(
                    extra, Institution.operator_user_id.is_not(None), stamp.is_not(None), stamp <= newest,
                    stamp >= oldest, Booking.id.not_in(claimed),
                )
                .order_by(stamp, Booking.id)
            )
            found += [(kind, _view(*row)) for row in session.execute(query).all()]
    return found


def mark_reminded(engine: Engine, booking_id: int, now: datetime | None = None) -> bool:
    """Record that the reminder was sent; False when it already was (another worker got there first).
    Senders use `claim_reminder` before sending instead."""
    when = to_local(now)
    with session_scope(engine) as session:
        result = session.execute(
            update(Booking)
            .where(Booking.id == booking_id, Booking.reminded_at.is_(None))
            .values(reminded_at=when)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1
