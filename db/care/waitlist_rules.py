"""Waitlist rules shared by the queue (`db.care.waitlist`) and the offers (`db.care.waitlist_offers`): error codes, the
snapshots handed to callers, and the helpers every transaction uses (session lock, clocks, validation, views).

Import from `db.care.waitlist`: it re-exports everything public here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlmodel import Session

from db.care.care_rules import SHARED_MESSAGES, RuleError
from db.care.institutions import schedule_json
from db.care.place_view import SessionPlace, place_fields
from db.care.waitlist_models import (
    ENTRY_WAITING,
    OFFER_OPEN,
    WaitlistEntry,
    WaitlistOffer,
)
from db.core.rows import from_row
from db.core.timeutil import combine_local, to_local
from db.models import CareSession, Institution

log = logging.getLogger(__name__)

#: Default time an offered place is held (the bot passes its setting).
DEFAULT_HOLD = timedelta(minutes=30)

ERROR_MESSAGES = {
    "not_found": "没有找到该时段、排队或名额 (session, waitlist entry or offer not found)",
    "not_full": "该时段还有空位,可直接预约 (this session has free places: book it directly)",
    "already_booked": "该孩子已预约该时段 (this child already has a booking for this session)",
    "expired": "名额保留已过期 (the offer has expired)",
    "passed": "已放弃该名额 (the offer was passed on)",
    "taken": "该名额已被确认 (the offer has already been taken)",
    "not_waiting": "不在排队中 (this entry is no longer in the queue)",
    **SHARED_MESSAGES,
}


class WaitlistError(RuleError):
    """A waitlist rule said no (codes: ERROR_MESSAGES)."""

    MESSAGES = ERROR_MESSAGES


@dataclass(frozen=True)
class CapacityChange:
    """An operator's new number of places for a session; `operator_user_id`, when given, must be the operator
    of the session's institution."""

    session_id: int
    capacity: int
    operator_user_id: int | None = None


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
class OfferView(SessionPlace):
    """An offer with what the parent's message needs: the child, the session and the institution."""

    offer: Offer
    child_name: str
    child_age_months: int
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
class WaitlistEntryView(SessionPlace):
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
            **schedule_json(self.date, self.start_time, self.end_time),
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
    return from_row(
        Offer,
        row,
        offer_id=row.id,
        created_at=_aware(row.created_at),
        expires_at=_aware(row.expires_at),
        notified_at=_aware(row.notified_at),
    )


def _lock_care(session: Session, session_id: int) -> CareSession | None:
    """The session row, locked for this transaction on PostgreSQL (SQLite: the transaction is immediate)."""
    query = select(CareSession).where(CareSession.id == session_id).execution_options(populate_existing=True)
    if session.connection().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.execute(query).scalar_one_or_none()


def _move(session: Session, model, row_id: int, *conditions, **values) -> bool:
    """UPDATE the `model` row `row_id` where `conditions` still hold (e.g. its status); True when it changed.
    The ORM's copies are not touched: re-read with `_fresh`."""
    result = session.execute(
        update(model)
        .where(model.id == row_id, *conditions)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _must_move(session: Session, model, row_id: int, *conditions, **values) -> None:
    """`_move` where the session lock rules out a concurrent change (a failure is a bug)."""
    if not _move(session, model, row_id, *conditions, **values):  # pragma: no cover - unreachable under the lock
        raise RuntimeError(f"{model.__tablename__} {row_id} changed under the session lock")


def _fresh(session: Session, model, row_id: int):
    """A row re-read from the database (after taking the session lock)."""
    query = select(model).where(model.id == row_id).execution_options(populate_existing=True)
    return session.execute(query).scalar_one_or_none()


def _hold_seconds(hold: timedelta) -> int:
    seconds = int(hold.total_seconds())
    if seconds <= 0:
        raise WaitlistError("invalid", "保留时长应为正数 (the hold must be positive)")
    return seconds


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
            from_row(
                WaitlistEntryView,
                entry,
                entry_id=entry.id,
                position=position,
                offer_id=offer.id if offer else None,
                offer_expires_at=_aware(offer.expires_at) if offer else None,
                **place_fields(care, inst),
            )
        )
    return views
