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
also take the booking module's per-parent lock first (same order as `db.care.booking`: parent, then session), so
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
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from db.care.care_rules import PlaceRequest, check_age_range, checked_child, clashing_booking, lock_parent
from db.care.institutions import valid_row_id
from db.care.waitlist_models import (
    ENTRY_ACTIVE,
    ENTRY_LEFT,
    ENTRY_OFFERED,
    ENTRY_WAITING,
    OFFER_OPEN,
    OFFER_PASSED,
    WaitlistEntry,
    WaitlistOffer,
)
from db.care.waitlist_offers import (
    _close_offer,
    change_capacity,
    claim_offer_notifications,
    expire_offers,
    expire_session_offers,
    expiring_sessions,
    find_same_session,
    get_offer,
    offer_freed_places,
    offer_views,
    pass_offer,
    place_freed,
    release_offer_notification,
    take_offer,
    take_offer_outcome,
)
from db.care.waitlist_rules import (
    DEFAULT_HOLD,
    ERROR_MESSAGES,
    CapacityChange,
    Offer,
    OfferView,
    WaitlistEntryView,
    WaitlistError,
    _entry_views,
    _fresh,
    _lock_care,
    _move,
    _starts_at,
    _utc,
)
from db.core.timeutil import combine_local, utcnow
from db.models import CareSession

__all__ = [
    "DEFAULT_HOLD",
    "ERROR_MESSAGES",
    "CapacityChange",
    "Offer",
    "OfferView",
    "PlaceRequest",
    "WaitlistEntryView",
    "WaitlistError",
    "change_capacity",
    "claim_offer_notifications",
    "entries_for_parent",
    "expire_offers",
    "expire_session_offers",
    "expiring_sessions",
    "find_same_session",
    "get_offer",
    "join",
    "leave",
    "leave_outcome",
    "offer_freed_places",
    "offer_views",
    "pass_offer",
    "place_freed",
    "queue_length",
    "queue_lengths",
    "release_offer_notification",
    "take_offer",
    "take_offer_outcome",
]

log = logging.getLogger(__name__)


# --- queue: join, leave, list ----------------------------------------------------------------------------------


def _active_entry(session: Session, session_id: int, parent_id: int, name: str) -> WaitlistEntry | None:
    return session.execute(
        select(WaitlistEntry).where(
            WaitlistEntry.session_id == session_id,
            WaitlistEntry.parent_id == parent_id,
            WaitlistEntry.child_name == name,
            WaitlistEntry.status.in_(ENTRY_ACTIVE),
        )
    ).scalar_one_or_none()


def _new_entry(session: Session, care: CareSession, parent_id: int, name: str, child_age_months: int) -> WaitlistEntry:
    """Check that the child may queue for `care` (not started, age, no clash, full) and add the entry (flushed)."""
    check_age_range(WaitlistError, care, child_age_months)
    clash = clashing_booking(session, parent_id, name, care)
    if clash is not None:
        raise WaitlistError("already_booked" if clash.session_id == care.id else "overlap")
    if care.booked < care.capacity:
        raise WaitlistError("not_full")
    stamp = utcnow()
    entry = WaitlistEntry(
        session_id=care.id,
        parent_id=parent_id,
        child_name=name,
        child_age_months=child_age_months,
        status=ENTRY_WAITING,
        created_at=stamp,
        updated_at=stamp,
    )
    with session.begin_nested():
        session.add(entry)
        session.flush()
    return entry


def join(request: PlaceRequest, now: datetime | None = None, *, session: Session) -> WaitlistEntryView:
    """Queue a parent's child for a full session; returns the entry with its position (1 = next in line).

    Joining again with the same parent, session and child name returns the same active entry.
    Raises WaitlistError: not_found, past, age_out_of_range, already_booked (this child has a confirmed
    booking for the session), overlap (a confirmed booking of this child at an overlapping time elsewhere),
    not_full (a place is free: book it normally), invalid.
    """
    session_id, parent_id, child_age_months = request.session_id, request.parent_id, request.child_age_months
    name = checked_child(WaitlistError, parent_id, child_age_months, request.child_name)
    if not valid_row_id(session_id):
        raise WaitlistError("not_found", "没有找到该时段 (session not found)")
    now_utc = _utc(now)
    lock_parent(session, parent_id)
    care = _lock_care(session, session_id)
    if care is None:
        raise WaitlistError("not_found", "没有找到该时段 (session not found)")
    existing = _active_entry(session, session_id, parent_id, name)
    if existing is not None:
        return _entry_views(session, [existing])[0]
    if _starts_at(care) <= now_utc:
        raise WaitlistError("past")
    try:
        entry = _new_entry(session, care, parent_id, name, child_age_months)
    except IntegrityError:
        # Two joins of the same child raced past the parent lock: the partial unique index kept one.
        existing = _active_entry(session, session_id, parent_id, name)
        if existing is None:
            raise
        return _entry_views(session, [existing])[0]
    view = _entry_views(session, [entry])[0]
    log.info("waitlist join entry=%s session=%s position=%s", view.entry_id, session_id, view.position)
    return view


def leave(entry_id: int, parent_id: int, now: datetime | None = None, *, session: Session) -> WaitlistEntryView:
    """Leave the queue. An entry holding an open offer passes it on (to the next in line, or the place is freed).

    Leaving twice is harmless (returns the left entry). Raises WaitlistError: not_found (no such entry or
    someone else's), not_waiting (the entry was booked, passed or expired).
    """
    return leave_outcome(entry_id, parent_id, now, session=session)[0]


def leave_outcome(
    entry_id: int, parent_id: int, now: datetime | None = None, *, session: Session
) -> tuple[WaitlistEntryView, bool]:
    """`leave`, and whether this call left the queue (False: the entry had left already, e.g. a double tap)."""
    now_utc = _utc(now)
    if not valid_row_id(entry_id):
        raise WaitlistError("not_found", "没有找到该排队 (waitlist entry not found)")
    lock_parent(session, parent_id)
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
    leaving = WaitlistEntry.status.in_((*ENTRY_ACTIVE, ENTRY_LEFT))
    if not _move(session, WaitlistEntry, entry_id, leaving, status=ENTRY_LEFT, updated_at=utcnow()):  # pragma: no cover
        raise WaitlistError("not_waiting")  # the session lock makes this unreachable
    entry = _fresh(session, WaitlistEntry, entry_id)
    view = _entry_views(session, [entry])[0]
    log.info("waitlist leave entry=%s next_offer=%s", entry_id, next_offer.offer_id if next_offer else None)
    return view, True


def entries_for_parent(parent_id: int, now: datetime | None = None, *, session: Session) -> list[WaitlistEntryView]:
    """A parent's active queue entries (waiting or holding an offer) for sessions not yet started, soonest first."""
    now_utc = _utc(now)
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


def queue_lengths(session_ids: Iterable[int], *, session: Session) -> dict[int, int]:
    """Active queue entries (waiting or holding an offer) per session, for the operator's `/today`; 0 if none."""
    ids = sorted(set(session_ids))
    counts = dict.fromkeys(ids, 0)
    if not ids:
        return counts
    for sid, count in session.execute(
        select(WaitlistEntry.session_id, func.count())
        .where(WaitlistEntry.session_id.in_(ids), WaitlistEntry.status.in_(ENTRY_ACTIVE))
        .group_by(WaitlistEntry.session_id)
    ).all():
        counts[sid] = count
    return counts


def queue_length(session_id: int, *, session: Session) -> int:
    """Active queue entries of one session (see `queue_lengths`)."""
    return queue_lengths([session_id], session=session)[session_id]
