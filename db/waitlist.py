"""Waitlist for full temporary-care sessions (排队, issue 12 §1): join, leave, offers of freed places.

A *held place* is a place counted in `care_sessions.booked` that belongs to an open offer instead of a
booking. The booking guard `booked < capacity` therefore keeps protecting it: nobody else can take it, and
taking the offer converts the hold into a booking without a second increment. At every moment, per session,

    booked == confirmed bookings + open offers        and        booked <= capacity

Freeing a place (a cancellation, more capacity) calls `place_freed` inside the transaction that freed it: when
someone waits, the place is taken back with the same conditional UPDATE the booking uses and offered to the
first waiting entry (queue order = entry id order). Passing, leaving with an offer, or expiry release the
place (booked − 1) and hand it to the next in line in the same transaction.

Concurrency: every transaction that changes a session's entries or offers first locks that session's row
(PostgreSQL: `SELECT ... FOR UPDATE`, which also waits for a booking's or cancellation's UPDATE of the row;
SQLite: the whole transaction runs under `BEGIN IMMEDIATE`, one writer at a time). Parent-initiated writes
also take the booking module's per-parent lock first (same order as `db.booking`: parent, then session), so
a take cannot race the same parent's bookings. Every state change is a conditional UPDATE whose row count
is checked, so a second worker or a double tap changes nothing.

Offer clocks: an offer holds its place for `hold` from creation, capped at the session's start. When a worker
claims it for sending (`claim_offer_notifications`) the parent gets a fresh full `hold` from that moment; an
offer that was never sent (the bot was down) is re-armed by `expire_offers` instead of lapsing, so no parent
loses a turn to an outage. Times: stored UTC; session times are Asia/Shanghai wall-clock.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from db.booking import MAX_CHILD_AGE_MONTHS, MAX_CHILD_NAME, RuleError, _serialized, new_code
from db.engine import session_scope
from db.institutions import valid_row_id
from db.models import BOOKING_CONFIRMED, Booking, CareSession, Institution
from db.timeutil import combine_local, fmt_time, to_local, utcnow
from db.waitlist_models import (
    ENTRY_ACTIVE,
    ENTRY_BOOKED,
    ENTRY_EXPIRED,
    ENTRY_LEFT,
    ENTRY_OFFERED,
    ENTRY_PASSED,
    ENTRY_WAITING,
    OFFER_EXPIRED,
    OFFER_OPEN,
    OFFER_PASSED,
    OFFER_TAKEN,
    WaitlistEntry,
    WaitlistOffer,
)

log = logging.getLogger(__name__)

#: Default time an offered place is held (the bot passes its setting).
DEFAULT_HOLD = timedelta(minutes=30)

ERROR_MESSAGES = {
    "not_found": "没有找到该时段、排队或名额 (session, waitlist entry or offer not found)",
    "past": "该时段已开始或已结束 (this session has already started or ended)",
    "not_full": "该时段还有空位,可直接预约 (this session has free places: book it directly)",
    "age_out_of_range": "孩子月龄不在该时段的年龄范围内 (the child's age is outside the session's age range)",
    "already_booked": "该孩子已预约该时段 (this child already has a booking for this session)",
    "overlap": "该孩子在同一时间已有预约 (this child already has a booking at that time)",
    "invalid": "输入无效 (invalid input)",
    "expired": "名额保留已过期 (the offer has expired)",
    "passed": "已放弃该名额 (the offer was passed on)",
    "taken": "该名额已被确认 (the offer has already been taken)",
    "not_waiting": "不在排队中 (this entry is no longer in the queue)",
    "forbidden": "无权操作该机构 (you do not operate this institution)",
}


class WaitlistError(RuleError):
    """A waitlist rule said no (codes: ERROR_MESSAGES)."""

    MESSAGES = ERROR_MESSAGES


@dataclass(frozen=True)
class Offer:
    """A snapshot of one offer row."""

    offer_id: int
    entry_id: int
    session_id: int
    parent_id: int
    status: str
    hold_seconds: int
    created_at: datetime
    expires_at: datetime
    notified_at: datetime | None
    booking_id: int | None


@dataclass(frozen=True)
class OfferView:
    """An offer with what the parent's message needs: the child, the session and the institution."""

    offer: Offer
    child_name: str
    child_age_months: int
    service: str
    date: date
    start_time: time
    end_time: time
    price: float
    institution_id: int
    institution_name: str
    address: str
    phone: str

    @property
    def offer_id(self) -> int:
        """The offer's id (what the take/pass buttons carry)."""
        return self.offer.offer_id

    @property
    def parent_id(self) -> int:
        """The parent to message."""
        return self.offer.parent_id


@dataclass(frozen=True)
class WaitlistEntryView:
    """A queue entry with its live position (1 = next to be offered) and the session it waits for.

    `position` is None when the entry is not waiting (e.g. it holds an open offer: see `offer_id`).
    """

    entry_id: int
    session_id: int
    parent_id: int
    child_name: str
    child_age_months: int
    status: str
    position: int | None
    offer_id: int | None
    offer_expires_at: datetime | None
    service: str
    date: date
    start_time: time
    end_time: time
    institution_id: int
    institution_name: str
    price: float = 0.0

    def to_dict(self) -> dict:
        """JSON shape used by `python -m bot waitlist list --json`."""
        return {
            "entry_id": self.entry_id,
            "session_id": self.session_id,
            "status": self.status,
            "position": self.position,
            "offer_id": self.offer_id,
            "offer_expires_at": self.offer_expires_at.isoformat() if self.offer_expires_at else None,
            "institution_id": self.institution_id,
            "institution": self.institution_name,
            "service": self.service,
            "date": self.date.isoformat(),
            "start": fmt_time(self.start_time),
            "end": fmt_time(self.end_time),
            "child": self.child_name,
            "child_age_months": self.child_age_months,
        }


# --- helpers ---------------------------------------------------------------------------------------------------


def _utc(moment: datetime | None) -> datetime:
    """`moment` (now when None; naive = Asia/Shanghai) as aware UTC — the only form written to the database."""
    return to_local(moment).astimezone(UTC)


def _aware(value: datetime | None) -> datetime | None:
    """A stored datetime as aware UTC (SQLite hands back naive UTC)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _starts_at(care: CareSession) -> datetime:
    return combine_local(care.date, care.start_time).astimezone(UTC)


def _offer(row: WaitlistOffer) -> Offer:
    return Offer(
        offer_id=row.id,
        entry_id=row.entry_id,
        session_id=row.session_id,
        parent_id=row.parent_id,
        status=row.status,
        hold_seconds=row.hold_seconds,
        created_at=_aware(row.created_at),
        expires_at=_aware(row.expires_at),
        notified_at=_aware(row.notified_at),
        booking_id=row.booking_id,
    )


def _lock_care(session: Session, session_id: int) -> CareSession | None:
    """The session row, locked for this transaction on PostgreSQL (SQLite: the transaction is immediate)."""
    query = select(CareSession).where(CareSession.id == session_id).execution_options(populate_existing=True)
    if session.connection().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.execute(query).scalar_one_or_none()


def _fresh(session: Session, model, row_id: int):
    """A row re-read from the database (after taking the session lock)."""
    query = select(model).where(model.id == row_id).execution_options(populate_existing=True)
    return session.execute(query).scalar_one_or_none()


def _hold_seconds(hold: timedelta) -> int:
    seconds = int(hold.total_seconds())
    if seconds <= 0:
        raise WaitlistError("invalid", "保留时长应为正数 (the hold must be positive)")
    return seconds


def _validate(parent_id: int, child_age_months: int, child_name: str) -> str:
    if not isinstance(parent_id, int) or isinstance(parent_id, bool) or parent_id <= 0:
        raise WaitlistError("invalid", "用户编号无效 (invalid user id)")
    if not isinstance(child_age_months, int) or isinstance(child_age_months, bool):
        raise WaitlistError("invalid", "月龄应为整数 (age in months must be a whole number)")
    if not (0 <= child_age_months <= MAX_CHILD_AGE_MONTHS):
        raise WaitlistError("invalid", f"月龄应在 0–{MAX_CHILD_AGE_MONTHS} 之间 (age in months must be 0–72)")
    name = " ".join((child_name or "").split())
    if len(name) > MAX_CHILD_NAME:
        raise WaitlistError("invalid", f"孩子称呼最多 {MAX_CHILD_NAME} 个字 (child's name: at most 32 characters)")
    return name


def _clashing_booking(session: Session, parent_id: int, child_name: str, care: CareSession) -> Booking | None:
    """The same parent's same child's confirmed booking overlapping `care` in time (this session included)."""
    return session.execute(
        select(Booking)
        .join(CareSession, CareSession.id == Booking.session_id)
        .where(
            Booking.parent_id == parent_id,
            Booking.child_name == child_name,
            Booking.status == BOOKING_CONFIRMED,
            CareSession.date == care.date,
            CareSession.start_time < care.end_time,
            CareSession.end_time > care.start_time,
        )
        .order_by(Booking.session_id != care.id, Booking.id)
        .limit(1)
    ).scalar_one_or_none()


def _position(session: Session, entry: WaitlistEntry) -> int | None:
    if entry.status != ENTRY_WAITING:
        return None
    return session.execute(
        select(func.count())
        .select_from(WaitlistEntry)
        .where(
            WaitlistEntry.session_id == entry.session_id,
            WaitlistEntry.status == ENTRY_WAITING,
            WaitlistEntry.id <= entry.id,
        )
    ).scalar_one()


def _entry_views(session: Session, entries: list[WaitlistEntry]) -> list[WaitlistEntryView]:
    """Views with live positions (one query for the queues, one for the open offers, one for the sessions)."""
    if not entries:
        return []
    session_ids = sorted({e.session_id for e in entries})
    waiting: dict[int, list[int]] = {}
    for sid, eid in session.execute(
        select(WaitlistEntry.session_id, WaitlistEntry.id)
        .where(WaitlistEntry.session_id.in_(session_ids), WaitlistEntry.status == ENTRY_WAITING)
        .order_by(WaitlistEntry.session_id, WaitlistEntry.id)
    ).all():
        waiting.setdefault(sid, []).append(eid)
    offers = {
        row.entry_id: row
        for row in session.execute(
            select(WaitlistOffer).where(
                WaitlistOffer.entry_id.in_([e.id for e in entries]), WaitlistOffer.status == OFFER_OPEN
            )
        ).scalars()
    }
    places = {
        care.id: (care, inst)
        for care, inst in session.execute(
            select(CareSession, Institution)
            .join(Institution, Institution.id == CareSession.institution_id)
            .where(CareSession.id.in_(session_ids))
        ).all()
    }
    views = []
    for entry in entries:
        care, inst = places[entry.session_id]
        queue = waiting.get(entry.session_id, [])
        position = queue.index(entry.id) + 1 if entry.status == ENTRY_WAITING and entry.id in queue else None
        offer = offers.get(entry.id)
        views.append(
            WaitlistEntryView(
                entry_id=entry.id,
                session_id=entry.session_id,
                parent_id=entry.parent_id,
                child_name=entry.child_name,
                child_age_months=entry.child_age_months,
                status=entry.status,
                position=position,
                offer_id=offer.id if offer else None,
                offer_expires_at=_aware(offer.expires_at) if offer else None,
                service=care.service,
                date=care.date,
                start_time=care.start_time,
                end_time=care.end_time,
                institution_id=inst.id,
                institution_name=inst.name,
                price=care.price,
            )
        )
    return views


# --- queue: join, leave, list ----------------------------------------------------------------------------------


def join(
    engine: Engine,
    session_id: int,
    parent_id: int,
    child_age_months: int,
    child_name: str = "",
    now: datetime | None = None,
) -> WaitlistEntryView:
    """Queue a parent's child for a full session; returns the entry with its position (1 = next in line).

    Joining again with the same parent, session and child name returns the same active entry.
    Raises WaitlistError: not_found, past, age_out_of_range, already_booked (this child has a confirmed
    booking for the session), overlap (a confirmed booking of this child at an overlapping time elsewhere),
    not_full (a place is free: book it normally), invalid.
    """
    name = _validate(parent_id, child_age_months, child_name)
    if not valid_row_id(session_id):
        raise WaitlistError("not_found", "没有找到该时段 (session not found)")
    now_utc = _utc(now)
    try:
        with _serialized(engine, parent_id) as session:
            care = _lock_care(session, session_id)
            if care is None:
                raise WaitlistError("not_found", "没有找到该时段 (session not found)")
            existing = session.execute(
                select(WaitlistEntry).where(
                    WaitlistEntry.session_id == session_id,
                    WaitlistEntry.parent_id == parent_id,
                    WaitlistEntry.child_name == name,
                    WaitlistEntry.status.in_(ENTRY_ACTIVE),
                )
            ).scalar_one_or_none()
            if existing is not None:
                return _entry_views(session, [existing])[0]
            if _starts_at(care) <= now_utc:
                raise WaitlistError("past")
            if not (care.age_min_months <= child_age_months <= care.age_max_months):
                raise WaitlistError(
                    "age_out_of_range",
                    f"该时段接收 {care.age_min_months}–{care.age_max_months} 个月的孩子 "
                    f"(this session takes children aged {care.age_min_months}–{care.age_max_months} months)",
                )
            clash = _clashing_booking(session, parent_id, name, care)
            if clash is not None:
                raise WaitlistError("already_booked" if clash.session_id == session_id else "overlap")
            if care.booked < care.capacity:
                raise WaitlistError("not_full")
            stamp = utcnow()
            entry = WaitlistEntry(
                session_id=session_id,
                parent_id=parent_id,
                child_name=name,
                child_age_months=child_age_months,
                status=ENTRY_WAITING,
                created_at=stamp,
                updated_at=stamp,
            )
            session.add(entry)
            session.flush()
            view = _entry_views(session, [entry])[0]
        log.info("waitlist join entry=%s session=%s position=%s", view.entry_id, session_id, view.position)
        return view
    except IntegrityError:
        # Two joins of the same child raced past the parent lock: the partial unique index kept one.
        with session_scope(engine) as session:
            existing = session.execute(
                select(WaitlistEntry).where(
                    WaitlistEntry.session_id == session_id,
                    WaitlistEntry.parent_id == parent_id,
                    WaitlistEntry.child_name == name,
                    WaitlistEntry.status.in_(ENTRY_ACTIVE),
                )
            ).scalar_one_or_none()
            if existing is None:
                raise
            return _entry_views(session, [existing])[0]


def leave(engine: Engine, entry_id: int, parent_id: int, now: datetime | None = None) -> WaitlistEntryView:
    """Leave the queue. An entry holding an open offer passes it on (to the next in line, or the place is freed).

    Leaving twice is harmless (returns the left entry). Raises WaitlistError: not_found (no such entry or
    someone else's), not_waiting (the entry was booked, passed or expired).
    """
    return leave_outcome(engine, entry_id, parent_id, now)[0]


def leave_outcome(
    engine: Engine, entry_id: int, parent_id: int, now: datetime | None = None
) -> tuple[WaitlistEntryView, bool]:
    """`leave`, and whether this call left the queue (False: the entry had left already, e.g. a double tap)."""
    now_utc = _utc(now)
    if not valid_row_id(entry_id):
        raise WaitlistError("not_found", "没有找到该排队 (waitlist entry not found)")
    with _serialized(engine, parent_id) as session:
        entry = session.get(WaitlistEntry, entry_id)
        if entry is None or entry.parent_id != parent_id:
            raise WaitlistError("not_found", "没有找到该排队 (waitlist entry not found)")
        _lock_care(session, entry.session_id)
        entry = _fresh(session, WaitlistEntry, entry_id)
        if entry.status == ENTRY_LEFT:
            return _entry_views(session, [entry])[0], False
        if entry.status not in ENTRY_ACTIVE:
            raise WaitlistError("not_waiting")
        next_offer = None
        if entry.status == ENTRY_OFFERED:
            offer = session.execute(
                select(WaitlistOffer)
                .where(WaitlistOffer.entry_id == entry_id, WaitlistOffer.status == OFFER_OPEN)
                .execution_options(populate_existing=True)
            ).scalar_one_or_none()
            if offer is not None:
                next_offer = _close_offer(session, offer, OFFER_PASSED, ENTRY_LEFT, now_utc)
        changed = session.execute(
            update(WaitlistEntry)
            .where(WaitlistEntry.id == entry_id, WaitlistEntry.status.in_((*ENTRY_ACTIVE, ENTRY_LEFT)))
            .values(status=ENTRY_LEFT, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if changed.rowcount != 1:  # pragma: no cover - the session lock makes this unreachable
            raise WaitlistError("not_waiting")
        entry = _fresh(session, WaitlistEntry, entry_id)
        view = _entry_views(session, [entry])[0]
    log.info("waitlist leave entry=%s next_offer=%s", entry_id, next_offer.offer_id if next_offer else None)
    return view, True


def entries_for_parent(engine: Engine, parent_id: int, now: datetime | None = None) -> list[WaitlistEntryView]:
    """A parent's active queue entries (waiting or holding an offer) for sessions not yet started, soonest first."""
    now_utc = _utc(now)
    with session_scope(engine) as session:
        entries = list(
            session.execute(
                select(WaitlistEntry)
                .join(CareSession, CareSession.id == WaitlistEntry.session_id)
                .where(WaitlistEntry.parent_id == parent_id, WaitlistEntry.status.in_(ENTRY_ACTIVE))
                .order_by(CareSession.date, CareSession.start_time, WaitlistEntry.id)
            ).scalars()
        )
        views = _entry_views(session, entries)
    return [v for v in views if combine_local(v.date, v.start_time) > now_utc]


def queue_lengths(engine: Engine, session_ids: Iterable[int]) -> dict[int, int]:
    """Active queue entries (waiting or holding an offer) per session, for the operator's `/today`; 0 if none."""
    ids = sorted(set(session_ids))
    counts = dict.fromkeys(ids, 0)
    if not ids:
        return counts
    with session_scope(engine) as session:
        for sid, count in session.execute(
            select(WaitlistEntry.session_id, func.count())
            .where(WaitlistEntry.session_id.in_(ids), WaitlistEntry.status.in_(ENTRY_ACTIVE))
            .group_by(WaitlistEntry.session_id)
        ).all():
            counts[sid] = count
    return counts


def queue_length(engine: Engine, session_id: int) -> int:
    """Active queue entries of one session (see `queue_lengths`)."""
    return queue_lengths(engine, [session_id])[session_id]


# --- offers: created when a place frees up ---------------------------------------------------------------------


def place_freed(session: Session, session_id: int, now: datetime | None, hold: timedelta) -> Offer | None:
    """Offer a just-freed place to the first waiting entry, inside the caller's transaction.

    Call it in the transaction that freed the place (after `booked` was decremented or `capacity` raised),
    so the place never shows as free to others while someone waits. When someone waits and the session has
    not started, the place is taken back (`booked + 1` under the `booked < capacity` guard) and an open offer
    is created that holds it until `now + hold` (at most until the session starts). Returns the offer, or
    None when nobody waits, there is no free place, or the session has started.
    On SQLite the caller's transaction must be a write transaction (as `db.booking`'s are).
    """
    seconds = _hold_seconds(hold)
    now_utc = _utc(now)
    care = _lock_care(session, session_id)
    if care is None or _starts_at(care) <= now_utc:
        return None
    entry = session.execute(
        select(WaitlistEntry)
        .where(WaitlistEntry.session_id == session_id, WaitlistEntry.status == ENTRY_WAITING)
        .order_by(WaitlistEntry.id)
        .limit(1)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if entry is None:
        return None
    taken = session.execute(
        update(CareSession)
        .where(CareSession.id == session_id, CareSession.booked < CareSession.capacity)
        .values(booked=CareSession.booked + 1)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:
        return None
    moved = session.execute(
        update(WaitlistEntry)
        .where(WaitlistEntry.id == entry.id, WaitlistEntry.status == ENTRY_WAITING)
        .values(status=ENTRY_OFFERED, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # pragma: no cover - the session lock makes this unreachable
        raise RuntimeError(f"waitlist entry {entry.id} changed under the session lock")
    offer = WaitlistOffer(
        entry_id=entry.id,
        session_id=session_id,
        parent_id=entry.parent_id,
        status=OFFER_OPEN,
        hold_seconds=seconds,
        created_at=utcnow(),
        expires_at=min(now_utc + timedelta(seconds=seconds), _starts_at(care)),
    )
    session.add(offer)
    session.flush()
    log.info("waitlist offer=%s entry=%s session=%s", offer.id, entry.id, session_id)
    return _offer(offer)


def offer_freed_places(
    engine: Engine, session_id: int, now: datetime | None = None, hold: timedelta = DEFAULT_HOLD
) -> list[Offer]:
    """Offer every free place of a session to as many waiting entries, in queue order (own transaction).

    For callers that cannot pass their transaction, e.g. after an operator raised `capacity`, and as a
    repair after a crash between a freeing commit and its offers. Returns the offers made.
    """
    _hold_seconds(hold)
    offers: list[Offer] = []
    with _serialized(engine) as session:
        while (offer := place_freed(session, session_id, now, hold)) is not None:
            offers.append(offer)
    return offers


def change_capacity(
    engine: Engine,
    session_id: int,
    capacity: int,
    *,
    operator_user_id: int | None = None,
    now: datetime | None = None,
    hold: timedelta = DEFAULT_HOLD,
) -> list[Offer]:
    """An operator sets a session's number of places; places added go to the waitlist first, in one transaction.

    Doing both in one transaction means nobody outside the queue can book an added place while parents wait.
    Capacity cannot go below the places taken or held (`booked`). When `operator_user_id` is given it must be
    the institution's operator. Returns the offers made. Raises WaitlistError: not_found, forbidden, invalid.
    """
    if not (isinstance(capacity, int) and not isinstance(capacity, bool) and 1 <= capacity <= 500):
        raise WaitlistError("invalid", "名额应在 1–500 之间 (capacity must be 1–500)")
    _hold_seconds(hold)
    offers: list[Offer] = []
    with _serialized(engine) as session:
        care = _lock_care(session, session_id)
        if care is None:
            raise WaitlistError("not_found", "没有找到该时段 (session not found)")
        if operator_user_id is not None:
            inst = session.get(Institution, care.institution_id)
            if inst is None or inst.operator_user_id != operator_user_id:
                raise WaitlistError("forbidden", "无权操作该机构 (you do not operate this institution)")
        if capacity < care.booked:
            raise WaitlistError(
                "invalid", f"已有 {care.booked} 个名额被预约或保留 ({care.booked} places are booked or held)"
            )
        session.execute(
            update(CareSession)
            .where(CareSession.id == session_id)
            .values(capacity=capacity)
            .execution_options(synchronize_session=False)
        )
        while (offer := place_freed(session, session_id, now, hold)) is not None:
            offers.append(offer)
    log.info("waitlist capacity session=%s capacity=%s offers=%s", session_id, capacity, len(offers))
    return offers


def find_same_session(engine: Engine, institution_id: int, service: str, day: date, start: time, end: time) -> int | None:
    """The id of an institution's session with exactly this service, day and times (the first one), or None.

    An operator who adds a session that exists already means more places in it (`change_capacity`), not a
    second session that parents outside the queue could book while others wait."""
    with session_scope(engine) as session:
        return session.execute(
            select(CareSession.id)
            .where(
                CareSession.institution_id == institution_id,
                CareSession.service == service,
                CareSession.date == day,
                CareSession.start_time == start,
                CareSession.end_time == end,
            )
            .order_by(CareSession.id)
            .limit(1)
        ).scalar_one_or_none()


def _close_offer(
    session: Session, offer: WaitlistOffer, status: str, entry_status: str, now_utc: datetime
) -> Offer | None:
    """Close an open offer (passed/expired), release its held place and offer it to the next in line.

    Caller holds the session lock. Returns the next offer, or None when the place went back to the pool.
    """
    closed = session.execute(
        update(WaitlistOffer)
        .where(WaitlistOffer.id == offer.id, WaitlistOffer.status == OFFER_OPEN)
        .values(status=status, resolved_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if closed.rowcount != 1:  # pragma: no cover - the session lock makes this unreachable
        raise RuntimeError(f"waitlist offer {offer.id} changed under the session lock")
    session.execute(
        update(WaitlistEntry)
        .where(WaitlistEntry.id == offer.entry_id, WaitlistEntry.status == ENTRY_OFFERED)
        .values(status=entry_status, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(CareSession)
        .where(CareSession.id == offer.session_id, CareSession.booked > 0)
        .values(booked=CareSession.booked - 1)
        .execution_options(synchronize_session=False)
    )
    return place_freed(session, offer.session_id, now_utc, timedelta(seconds=offer.hold_seconds))


def _locked_offer(session: Session, offer_id: int, parent_id: int) -> WaitlistOffer:
    offer = session.get(WaitlistOffer, offer_id) if valid_row_id(offer_id) else None
    if offer is None or offer.parent_id != parent_id:
        raise WaitlistError("not_found", "没有找到该名额 (offer not found)")
    _lock_care(session, offer.session_id)
    return _fresh(session, WaitlistOffer, offer_id)


def take_offer_outcome(
    engine: Engine, offer_id: int, parent_id: int, now: datetime | None = None
) -> tuple[Booking, bool]:
    """Turn an offer's held place into a confirmed booking; returns (the booking, whether this call made it).

    No second increment: the place is already counted. A repeated take of a taken offer returns the same
    booking (a double tap books once). Raises WaitlistError: not_found (no such offer or someone else's),
    expired (its hold ended, or the session started), passed, overlap (the child got a confirmed booking at
    an overlapping time meanwhile; the offer stays open for pass or expiry).
    """
    now_utc = _utc(now)
    with _serialized(engine, parent_id) as session:
        offer = _locked_offer(session, offer_id, parent_id)
        if offer.status == OFFER_TAKEN:
            return session.get(Booking, offer.booking_id), False
        if offer.status == OFFER_PASSED:
            raise WaitlistError("passed")
        if offer.status == OFFER_EXPIRED or _aware(offer.expires_at) <= now_utc:
            raise WaitlistError("expired")
        entry = session.get(WaitlistEntry, offer.entry_id)
        care = session.get(CareSession, offer.session_id)
        if _starts_at(care) <= now_utc:  # pragma: no cover - expires_at never exceeds the start
            raise WaitlistError("expired")
        if _clashing_booking(session, parent_id, entry.child_name, care) is not None:
            raise WaitlistError("overlap")
        stamp = utcnow()
        code = new_code()
        while session.execute(select(Booking.id).where(Booking.code == code)).first() is not None:
            code = new_code()  # pragma: no cover - 31^6 codes; a clash is rare
        booking = Booking(
            session_id=offer.session_id,
            parent_id=parent_id,
            child_name=entry.child_name,
            child_age_months=entry.child_age_months,
            status=BOOKING_CONFIRMED,
            code=code,
            idempotency_key=f"waitlist-offer:{offer_id}",
            created_at=stamp,
        )
        session.add(booking)
        session.flush()
        taken = session.execute(
            update(WaitlistOffer)
            .where(WaitlistOffer.id == offer_id, WaitlistOffer.status == OFFER_OPEN)
            .values(status=OFFER_TAKEN, resolved_at=stamp, booking_id=booking.id)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:  # pragma: no cover - the session lock makes this unreachable
            raise RuntimeError(f"waitlist offer {offer_id} changed under the session lock")
        session.execute(
            update(WaitlistEntry)
            .where(WaitlistEntry.id == entry.id, WaitlistEntry.status == ENTRY_OFFERED)
            .values(status=ENTRY_BOOKED, booking_id=booking.id, updated_at=stamp)
            .execution_options(synchronize_session=False)
        )
    log.info("waitlist take offer=%s booking=%s", offer_id, booking.id)
    return booking, True


def take_offer(engine: Engine, offer_id: int, parent_id: int, now: datetime | None = None) -> Booking:
    """Take an offered place: the confirmed Booking (see `take_offer_outcome` for the rules and errors)."""
    return take_offer_outcome(engine, offer_id, parent_id, now)[0]


def pass_offer(engine: Engine, offer_id: int, parent_id: int, now: datetime | None = None) -> Offer | None:
    """Pass on an offer (the entry leaves the queue); returns the offer made to the next in line, or None
    when nobody else waits (the place is released: booked − 1).

    Passing an offer whose hold has just run out (before `expire_offers` saw it) is allowed: same outcome.
    Raises WaitlistError: not_found, passed (already passed), taken, expired (already expired).
    """
    now_utc = _utc(now)
    with _serialized(engine, parent_id) as session:
        offer = _locked_offer(session, offer_id, parent_id)
        if offer.status == OFFER_TAKEN:
            raise WaitlistError("taken")
        if offer.status == OFFER_PASSED:
            raise WaitlistError("passed")
        if offer.status == OFFER_EXPIRED:
            raise WaitlistError("expired")
        next_offer = _close_offer(session, offer, OFFER_PASSED, ENTRY_PASSED, now_utc)
    log.info("waitlist pass offer=%s next_offer=%s", offer_id, next_offer.offer_id if next_offer else None)
    return next_offer


def expire_offers(engine: Engine, now: datetime | None = None) -> list[Offer]:
    """Expire the open offers whose hold has ended; each place goes to the next in line or back to the pool.

    For a periodic job, on any number of workers at once, and at start-up (offers that lapsed while the bot
    was down are processed then). Each session is handled in its own transaction under its lock, so every
    offer is expired exactly once. An offer never claimed for sending (`claim_offer_notifications`) and whose
    session has not started is not expired but re-armed for a full hold: its parent was never told.
    Returns the offers this call expired (to tell those parents); new offers are sent via the claim.
    """
    now_utc = _utc(now)
    with session_scope(engine) as session:
        session_ids = list(
            session.execute(
                select(WaitlistOffer.session_id)
                .where(WaitlistOffer.status == OFFER_OPEN, WaitlistOffer.expires_at <= now_utc)
                .distinct()
                .order_by(WaitlistOffer.session_id)
            ).scalars()
        )
    expired: list[Offer] = []
    for session_id in session_ids:
        with _serialized(engine) as session:
            care = _lock_care(session, session_id)
            due = list(
                session.execute(
                    select(WaitlistOffer)
                    .where(
                        WaitlistOffer.session_id == session_id,
                        WaitlistOffer.status == OFFER_OPEN,
                        WaitlistOffer.expires_at <= now_utc,
                    )
                    .order_by(WaitlistOffer.id)
                    .execution_options(populate_existing=True)
                ).scalars()
            )
            started = care is None or _starts_at(care) <= now_utc
            for offer in due:
                if offer.notified_at is None and not started:
                    rearmed = min(now_utc + timedelta(seconds=offer.hold_seconds), _starts_at(care))
                    session.execute(
                        update(WaitlistOffer)
                        .where(WaitlistOffer.id == offer.id, WaitlistOffer.status == OFFER_OPEN)
                        .values(expires_at=rearmed)
                        .execution_options(synchronize_session=False)
                    )
                    log.info("waitlist rearm offer=%s (never sent)", offer.id)
                    continue
                next_offer = _close_offer(session, offer, OFFER_EXPIRED, ENTRY_EXPIRED, now_utc)
                expired.append(_offer(_fresh(session, WaitlistOffer, offer.id)))
                log.info(
                    "waitlist expire offer=%s next_offer=%s", offer.id, next_offer.offer_id if next_offer else None
                )
    return expired


# --- notifications ---------------------------------------------------------------------------------------------


def claim_offer_notifications(engine: Engine, now: datetime | None = None, limit: int = 50) -> list[OfferView]:
    """Claim up to `limit` open offers not yet sent; each is returned to exactly one caller, whichever worker.

    The claim is a conditional UPDATE (`notified_at IS NULL` → now) whose row count is checked, after a
    `SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL (workers take different offers) or under SQLite's
    immediate transaction. The hold restarts at the claim: the parent gets a full hold (capped at the
    session's start) from the moment the message goes out. Send, then on a failure that may pass call
    `release_offer_notification` to have it sent again; when the parent can never be reached (blocked the
    bot), pass the offer on their behalf with `pass_offer`.
    """
    now_utc = _utc(now)
    claimed: list[int] = []
    with _serialized(engine) as session:
        query = (
            select(WaitlistOffer)
            .where(WaitlistOffer.status == OFFER_OPEN, WaitlistOffer.notified_at.is_(None))
            .order_by(WaitlistOffer.id)
            .limit(max(0, limit))
            .execution_options(populate_existing=True)
        )
        if session.connection().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        for offer in list(session.execute(query).scalars()):
            care = session.get(CareSession, offer.session_id)
            if care is None or _starts_at(care) <= now_utc:
                continue  # the session started: expire_offers closes it
            result = session.execute(
                update(WaitlistOffer)
                .where(
                    WaitlistOffer.id == offer.id,
                    WaitlistOffer.status == OFFER_OPEN,
                    WaitlistOffer.notified_at.is_(None),
                )
                .values(
                    notified_at=now_utc,
                    expires_at=min(now_utc + timedelta(seconds=offer.hold_seconds), _starts_at(care)),
                )
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 1:
                claimed.append(offer.id)
    views = offer_views(engine, claimed)
    if claimed:
        log.info("waitlist claimed offers=%s", claimed)
    return views


def release_offer_notification(engine: Engine, offer_id: int) -> bool:
    """Un-claim an open offer whose message could not be sent, so a later claim sends it; False if not claimed."""
    with session_scope(engine) as session:
        result = session.execute(
            update(WaitlistOffer)
            .where(
                WaitlistOffer.id == offer_id,
                WaitlistOffer.status == OFFER_OPEN,
                WaitlistOffer.notified_at.is_not(None),
            )
            .values(notified_at=None)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1


def offer_views(engine: Engine, offer_ids: Iterable[int]) -> list[OfferView]:
    """Offers with their child, session and institution, in id order (missing ids are left out)."""
    ids = sorted(set(offer_ids))
    if not ids:
        return []
    with session_scope(engine) as session:
        rows = session.execute(
            select(WaitlistOffer, WaitlistEntry, CareSession, Institution)
            .join(WaitlistEntry, WaitlistEntry.id == WaitlistOffer.entry_id)
            .join(CareSession, CareSession.id == WaitlistOffer.session_id)
            .join(Institution, Institution.id == CareSession.institution_id)
            .where(WaitlistOffer.id.in_(ids))
            .order_by(WaitlistOffer.id)
        ).all()
        return [
            OfferView(
                offer=_offer(offer),
                child_name=entry.child_name,
                child_age_months=entry.child_age_months,
                service=care.service,
                date=care.date,
                start_time=care.start_time,
                end_time=care.end_time,
                price=care.price,
                institution_id=inst.id,
                institution_name=inst.name,
                address=inst.address,
                phone=inst.phone,
            )
            for offer, entry, care, inst in rows
        ]


def get_offer(engine: Engine, offer_id: int) -> Offer | None:
    """One offer, or None."""
    with session_scope(engine) as session:
        row = session.get(WaitlistOffer, offer_id)
        return _offer(row) if row else None
