"""What booking (`db.care.booking`) and the waitlist (`db.care.waitlist*`) share: the place request, the rule
error, the child checks, the per-parent write lock, the overlap query and booking codes. Nothing here imports
them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import ClassVar

from sqlalchemy import select, update
from sqlmodel import Session

from db.core.engine import serialize_writes
from db.models import BOOKING_CONFIRMED, Booking, CareSession

#: Booking codes: 6 characters without look-alikes (no 0/O, 1/I/L).
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 6
MAX_CHILD_AGE_MONTHS = 72
MAX_CHILD_NAME = 32


#: Refusals booking and the waitlist word alike (each module adds its own codes).
SHARED_MESSAGES = {
    "past": "该时段已开始或已结束 (this session has already started or ended)",
    "age_out_of_range": "孩子月龄不在该时段的年龄范围内 (the child's age is outside the session's age range)",
    "overlap": "该孩子在同一时间已有预约 (this child already has a booking at that time)",
    "invalid": "输入无效 (invalid input)",
    "forbidden": "无权操作该机构 (you do not operate this institution)",
}


@dataclass(frozen=True)
class PlaceRequest:
    """A place asked for in a session for a parent's child (age in months, optional name): what booking
    (`booking.BookingRequest` adds an idempotency key) and joining a waitlist take."""

    session_id: int
    parent_id: int
    child_age_months: int
    child_name: str = ""


class RuleError(Exception):
    """A care rule said no. `code` is one of the class's MESSAGES keys; `message` is Chinese with English."""

    MESSAGES: ClassVar[dict[str, str]] = {}

    def __init__(self, code: str, message: str | None = None) -> None:
        self.code = code
        self.message = message or self.MESSAGES.get(code, code)
        super().__init__(f"{code}: {self.message}")


def new_code() -> str:
    """A random booking code such as "7KQ2MX"."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def unused_code(session: Session) -> str:
    """A booking code no booking has yet."""
    code = new_code()
    while session.execute(select(Booking.id).where(Booking.code == code)).first() is not None:
        code = new_code()  # pragma: no cover - 31^6 codes; a clash is rare
    return code


def checked_child(error: type[RuleError], parent_id: int, child_age_months: int, child_name: str) -> str:
    """The child's name with whitespace collapsed; raises `error("invalid")` for a bad parent id, age or name."""
    if not isinstance(parent_id, int) or isinstance(parent_id, bool) or parent_id <= 0:
        raise error("invalid", "用户编号无效 (invalid user id)")
    if not isinstance(child_age_months, int) or isinstance(child_age_months, bool):
        raise error("invalid", "月龄应为整数 (age in months must be a whole number)")
    if not (0 <= child_age_months <= MAX_CHILD_AGE_MONTHS):
        raise error("invalid", f"月龄应在 0–{MAX_CHILD_AGE_MONTHS} 之间 (age in months must be 0–72)")
    name = " ".join((child_name or "").split())
    if len(name) > MAX_CHILD_NAME:
        raise error("invalid", f"孩子称呼最多 {MAX_CHILD_NAME} 个字 (child's name: at most 32 characters)")
    return name


def check_age_range(error: type[RuleError], care: CareSession, child_age_months: int) -> None:
    """Raise `error("age_out_of_range")` when the child's age is outside the session's range."""
    if not (care.age_min_months <= child_age_months <= care.age_max_months):
        raise error(
            "age_out_of_range",
            f"该时段接收 {care.age_min_months}–{care.age_max_months} 个月的孩子 "
            f"(this session takes children aged {care.age_min_months}–{care.age_max_months} months)",
        )


def take_place(session: Session, session_id: int) -> bool:
    """Take one place of a session: `booked + 1` under the `booked < capacity` guard, in ONE statement (the
    check and the increment cannot be separated by a concurrent booking); True when a place was taken."""
    taken = session.execute(
        update(CareSession)
        .where(CareSession.id == session_id, CareSession.booked < CareSession.capacity)
        .values(booked=CareSession.booked + 1)
        .execution_options(synchronize_session=False)
    )
    return taken.rowcount == 1


def release_place(session: Session, session_id: int) -> None:
    """Give one place of a session back: `booked − 1`, never below 0."""
    session.execute(
        update(CareSession)
        .where(CareSession.id == session_id, CareSession.booked > 0)
        .values(booked=CareSession.booked - 1)
        .execution_options(synchronize_session=False)
    )


def lock_parent(session: Session, parent_id: int) -> None:
    """Serialise this transaction with the same parent's bookings and queue changes (SQLite: with every writer).

    Call it first in a unit of work that books, cancels or changes the parent's waitlist entries or offers:
    the idempotency and overlap checks then cannot race with each other."""
    serialize_writes(session, f"tuoyu-booking:{parent_id}")


def clashing_booking(session: Session, parent_id: int, child_name: str, care: CareSession) -> Booking | None:
    """The same parent's same child's confirmed booking overlapping `care` in time (this session first)."""
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
