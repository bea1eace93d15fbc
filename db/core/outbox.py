"""Claims for messages the bot sends on its own (a booking's note to the operator, its cancellation note):
each goes out at most once, however many workers, retries or re-delivered updates try to send it.

A sender first CLAIMS the message in the database — an INSERT of (kind, ref) under a primary key, so exactly
one of any number of concurrent claimants gets it — and only then sends. When the send fails for a reason that
will pass (network, flood control), the claim is RELEASED so a later run sends it; when it fails for good (the
user blocked the bot) or when it is unclear whether it arrived, the claim stays: a message lost in the rare
crash between claim and send is better than one sent on every run. (Reminders claim the same way, on
`bookings.reminded_at`.)
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, Integer, String, delete
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Field, Session, SQLModel

from db.core.columns import aware_datetime

KIND_MAX = 24

#: A booking's note to its centre's operator, and the note that it was cancelled.
OPERATOR_BOOKED = "op_booked"
OPERATOR_CANCELLED = "op_cancelled"


class NoticeClaim(SQLModel, table=True):
    """One message the bot has claimed (and so sent, or decided not to send again)."""

    __tablename__ = "notice_claims"

    kind: str = Field(sa_column=Column(String(KIND_MAX), primary_key=True))
    ref: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    claimed_at: datetime = aware_datetime()


def claim_notice(kind: str, ref: int, now: datetime | None = None, *, session: Session) -> bool:
    """Claim message (`kind`, `ref`); True for exactly one caller, False when it is already claimed.

    An INSERT that does nothing on a conflict (a concurrent claimant's uncommitted row is waited for): the
    caller's transaction stays usable either way. Commit the claim before sending the message."""
    table = NoticeClaim.__table__
    dialect = session.connection().dialect.name
    make_insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        make_insert(table)
        .values(kind=kind, ref=ref, claimed_at=now or datetime.now(UTC))
        .on_conflict_do_nothing(index_elements=["kind", "ref"])
        .returning(table.c.ref)
    )
    return session.execute(statement).first() is not None


def release_notice(kind: str, ref: int, *, session: Session) -> None:
    """Give a claim back (the send failed for a passing reason): a later run may send the message."""
    table = NoticeClaim.__table__
    session.execute(delete(table).where(table.c.kind == kind, table.c.ref == ref))
