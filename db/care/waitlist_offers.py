"""Waitlist offers (see `db.care.waitlist` for the held-place invariant): a freed place offered to the first in
line, taken, passed, expired or re-armed, and the claim that sends each offer exactly once.

Import from `db.care.waitlist`: it re-exports everything public here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlmodel import Session

from db.care.care_rules import clashing_booking, lock_parent, release_place, take_place, unused_code
from db.care.institutions import valid_row_id
from db.care.place_view import place_fields
from db.care.session_spec import SessionSpec
from db.care.waitlist_models import (
    ENTRY_BOOKED,
    ENTRY_EXPIRED,
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
from db.care.waitlist_rules import (
    DEFAULT_HOLD,
    CapacityChange,
    Offer,
    OfferView,
    WaitlistError,
    _aware,
    _fresh,
    _hold_seconds,
    _lock_care,
    _move,
    _must_move,
    _offer,
    _starts_at,
    _utc,
)
from db.core.engine import serialize_writes
from db.core.timeutil import utcnow
from db.models import BOOKING_CONFIRMED, Booking, CareSession, Institution

log = logging.getLogger(__name__)


# --- offers: created when a place frees up ---------------------------------------------------------------------


def place_freed(session_id: int, now: datetime | None, hold: timedelta, *, session: Session) -> Offer | None:
    """Offer a just-freed place to the first waiting entry, inside the caller's transaction.

    Call it in the transaction that freed the place (after `booked` was decremented or `capacity` raised),
    so the place never shows as free to others while someone waits. When someone waits and the session has
    not started, the place is taken back (`booked + 1` under the `booked < capacity` guard) and an open offer
    is created that holds it until `now + hold` (at most until the session starts). Returns the offer, or
    None when nobody waits, there is no free place, or the session has started.
    The caller's transaction must be a serialised writer (`serialize_writes`, as `db.care.booking`'s are).
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
    if not take_place(session, session_id):
        return None
    _must_move(session, WaitlistEntry, entry.id, WaitlistEntry.status == ENTRY_WAITING, status=ENTRY_OFFERED,
               updated_at=utcnow())
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
    session_id: int, now: datetime | None = None, hold: timedelta = DEFAULT_HOLD, *, session: Session
) -> list[Offer]:
    """Offer every free place of a session to as many waiting entries, in queue order.

    For callers that cannot pass their transaction, e.g. after an operator raised `capacity`, and as a
    repair after a crash between a freeing commit and its offers. Returns the offers made.
    """
    _hold_seconds(hold)
    offers: list[Offer] = []
    serialize_writes(session)
    while (offer := place_freed(session_id, now, hold, session=session)) is not None:
        offers.append(offer)
    return offers


def change_capacity(
    change: CapacityChange, now: datetime | None = None, hold: timedelta = DEFAULT_HOLD, *, session: Session
) -> list[Offer]:
    """An operator sets a session's number of places; places added go to the waitlist first, in one transaction.

    Doing both in one transaction means nobody outside the queue can book an added place while parents wait.
    Capacity cannot go below the places taken or held (`booked`). When `change.operator_user_id` is given it
    must be the institution's operator. Returns the offers made. Raises WaitlistError: not_found, forbidden,
    invalid.
    """
    session_id, capacity, operator_user_id = change.session_id, change.capacity, change.operator_user_id
    if not (isinstance(capacity, int) and not isinstance(capacity, bool) and 1 <= capacity <= 500):
        raise WaitlistError("invalid", "名额应在 1–500 之间 (capacity must be 1–500)")
    _hold_seconds(hold)
    offers: list[Offer] = []
    serialize_writes(session)
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
    while (offer := place_freed(session_id, now, hold, session=session)) is not None:
        offers.append(offer)
    log.info("waitlist capacity session=%s capacity=%s offers=%s", session_id, capacity, len(offers))
    return offers


def find_same_session(institution_id: int, spec: SessionSpec, *, session: Session) -> int | None:
    """The id of an institution's session with exactly the service, day and times of `spec` (the first one),
    or None.

    An operator who adds a session that exists already means more places in it (`change_capacity`), not a
    second session that parents outside the queue could book while others wait."""
    return session.execute(
        select(CareSession.id)
        .where(
            CareSession.institution_id == institution_id,
            CareSession.service == spec.service,
            CareSession.date == spec.day,
            CareSession.start_time == spec.start,
            CareSession.end_time == spec.end,
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
    _must_move(session, WaitlistOffer, offer.id, WaitlistOffer.status == OFFER_OPEN, status=status,
               resolved_at=utcnow())
    _move(session, WaitlistEntry, offer.entry_id, WaitlistEntry.status == ENTRY_OFFERED, status=entry_status,
          updated_at=utcnow())
    release_place(session, offer.session_id)
    return place_freed(offer.session_id, now_utc, timedelta(seconds=offer.hold_seconds), session=session)


def _locked_offer(session: Session, offer_id: int, parent_id: int) -> WaitlistOffer:
    offer = session.get(WaitlistOffer, offer_id) if valid_row_id(offer_id) else None
    if offer is None or offer.parent_id != parent_id:
        raise WaitlistError("not_found", "没有找到该名额 (offer not found)")
    _lock_care(session, offer.session_id)
    return _fresh(session, WaitlistOffer, offer_id)


def take_offer_outcome(
    offer_id: int, parent_id: int, now: datetime | None = None, *, session: Session
) -> tuple[Booking, bool]:
    """Turn an offer's held place into a confirmed booking; returns (the booking, whether this call made it).

    No second increment: the place is already counted. A repeated take of a taken offer returns the same
    booking (a double tap books once). Raises WaitlistError: not_found (no such offer or someone else's),
    expired (its hold ended, or the session started), passed, overlap (the child got a confirmed booking at
    an overlapping time meanwhile; the offer stays open for pass or expiry).
    """
    now_utc = _utc(now)
    lock_parent(session, parent_id)
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
    if clashing_booking(session, parent_id, entry.child_name, care) is not None:
        raise WaitlistError("overlap")
    stamp = utcnow()
    booking = Booking(
        session_id=offer.session_id,
        parent_id=parent_id,
        child_name=entry.child_name,
        child_age_months=entry.child_age_months,
        status=BOOKING_CONFIRMED,
        code=unused_code(session),
        idempotency_key=f"waitlist-offer:{offer_id}",
        created_at=stamp,
    )
    session.add(booking)
    session.flush()
    _must_move(session, WaitlistOffer, offer_id, WaitlistOffer.status == OFFER_OPEN, status=OFFER_TAKEN,
               resolved_at=stamp, booking_id=booking.id)
    _move(session, WaitlistEntry, entry.id, WaitlistEntry.status == ENTRY_OFFERED, status=ENTRY_BOOKED,
          booking_id=booking.id, updated_at=stamp)
    log.info("waitlist take offer=%s booking=%s", offer_id, booking.id)
    return booking, True


def take_offer(offer_id: int, parent_id: int, now: datetime | None = None, *, session: Session) -> Booking:
    """Take an offered place: the confirmed Booking (see `take_offer_outcome` for the rules and errors)."""
    return take_offer_outcome(offer_id, parent_id, now, session=session)[0]


def pass_offer(offer_id: int, parent_id: int, now: datetime | None = None, *, session: Session) -> Offer | None:
    """Pass on an offer (the entry leaves the queue); returns the offer made to the next in line, or None
    when nobody else waits (the place is released: booked − 1).

    Passing an offer whose hold has just run out (before `expire_offers` saw it) is allowed: same outcome.
    Raises WaitlistError: not_found, passed (already passed), taken, expired (already expired).
    """
    now_utc = _utc(now)
    lock_parent(session, parent_id)
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


def expiring_sessions(now: datetime | None = None, *, session: Session) -> list[int]:
    """The sessions with open offers whose hold has ended (for `expire_session_offers`, one unit each)."""
    now_utc = _utc(now)
    return list(
        session.execute(
            select(WaitlistOffer.session_id)
            .where(WaitlistOffer.status == OFFER_OPEN, WaitlistOffer.expires_at <= now_utc)
            .distinct()
            .order_by(WaitlistOffer.session_id)
        ).scalars()
    )


def expire_session_offers(session_id: int, now: datetime | None = None, *, session: Session) -> list[Offer]:
    """Expire one session's open offers whose hold has ended, under the session's lock; each place goes to the
    next in line or back to the pool. An offer never claimed for sending (`claim_offer_notifications`) whose
    session has not started is not expired but re-armed for a full hold: its parent was never told.
    Returns the offers expired (to tell those parents); new offers are sent via the claim."""
    now_utc = _utc(now)
    serialize_writes(session)
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
    expired: list[Offer] = []
    for offer in due:
        if offer.notified_at is None and not started:
            rearmed = min(now_utc + timedelta(seconds=offer.hold_seconds), _starts_at(care))
            _move(session, WaitlistOffer, offer.id, WaitlistOffer.status == OFFER_OPEN, expires_at=rearmed)
            log.info("waitlist rearm offer=%s (never sent)", offer.id)
            continue
        next_offer = _close_offer(session, offer, OFFER_EXPIRED, ENTRY_EXPIRED, now_utc)
        expired.append(_offer(_fresh(session, WaitlistOffer, offer.id)))
        log.info("waitlist expire offer=%s next_offer=%s", offer.id, next_offer.offer_id if next_offer else None)
    return expired


def expire_offers(now: datetime | None = None, *, session: Session) -> list[Offer]:
    """Expire the open offers whose hold has ended, every session in the caller's unit of work (see
    `expire_session_offers`; a job on several workers runs one unit per session from `expiring_sessions`).

    For a periodic job, on any number of workers at once, and at start-up (offers that lapsed while the bot
    was down are processed then): each offer is expired exactly once.
    """
    expired: list[Offer] = []
    for session_id in expiring_sessions(now, session=session):
        expired += expire_session_offers(session_id, now, session=session)
    return expired


# --- notifications ---------------------------------------------------------------------------------------------


def claim_offer_notifications(now: datetime | None = None, limit: int = 50, *, session: Session) -> list[OfferView]:
    """Claim up to `limit` open offers not yet sent; each is returned to exactly one caller, whichever worker.

    The claim is a conditional UPDATE (`notified_at IS NULL` → now) whose row count is checked, after a
    `SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL (workers take different offers) or under SQLite's
    immediate transaction. The hold restarts at the claim: the parent gets a full hold (capped at the
    session's start) from the moment the message goes out. Commit the claim, send, then on a failure that may
    pass call `release_offer_notification` to have it sent again; when the parent can never be reached
    (blocked the bot), pass the offer on their behalf with `pass_offer`.
    """
    now_utc = _utc(now)
    claimed: list[int] = []
    serialize_writes(session)
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
        if _move(
            session, WaitlistOffer, offer.id, WaitlistOffer.status == OFFER_OPEN, WaitlistOffer.notified_at.is_(None),
            notified_at=now_utc, expires_at=min(now_utc + timedelta(seconds=offer.hold_seconds), _starts_at(care)),
        ):
            claimed.append(offer.id)
    if claimed:
        log.info("waitlist claimed offers=%s", claimed)
    return offer_views(claimed, session=session)


def release_offer_notification(offer_id: int, *, session: Session) -> bool:
    """Un-claim an open offer whose message could not be sent, so a later claim sends it; False if not claimed."""
    return _move(
        session, WaitlistOffer, offer_id, WaitlistOffer.status == OFFER_OPEN, WaitlistOffer.notified_at.is_not(None),
        notified_at=None,
    )


def offer_views(offer_ids: Iterable[int], *, session: Session) -> list[OfferView]:
    """Offers with their child, session and institution, in id order (missing ids are left out)."""
    ids = sorted(set(offer_ids))
    if not ids:
        return []
    rows = session.execute(
        select(WaitlistOffer, WaitlistEntry, CareSession, Institution)
        .join(WaitlistEntry, WaitlistEntry.id == WaitlistOffer.entry_id)
        .join(CareSession, CareSession.id == WaitlistOffer.session_id)
        .join(Institution, Institution.id == CareSession.institution_id)
        .where(WaitlistOffer.id.in_(ids))
        .order_by(WaitlistOffer.id)
        .execution_options(populate_existing=True)  # rows this unit changed with UPDATE statements
    ).all()
    return [
        OfferView(
            offer=_offer(offer),
            child_name=entry.child_name,
            child_age_months=entry.child_age_months,
            **place_fields(care, inst),
            address=inst.address,
            phone=inst.phone,
        )
        for offer, entry, care, inst in rows
    ]


def get_offer(offer_id: int, *, session: Session) -> Offer | None:
    """One offer, or None."""
    row = session.get(WaitlistOffer, offer_id)
    return _offer(row) if row else None
