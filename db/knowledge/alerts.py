"""Policy-change alerts (issue #12, part 2): who follows which place, and the deliveries that tell them.

Three tables:

* `policy_follows` — (user, place): a parent follows a place of the place hierarchy (`place` is its path in
  knowledge/places.yaml, e.g. 江苏省/苏州市/张家港市, or the plain name for a place outside it). A document
  about a place reaches the followers of that place and of every place below it (a provincial rule applies to
  张家港 too).
* `alert_messages` — one row per knowledge-base change that warrants a message: its generation (kb_changes
  id), the document, and the rendered text per language. Written by the planner together with the deliveries.
* `alert_deliveries` — one row per (change, follower): pending → sending → sent | failed | unknown. A sender
  CLAIMS a batch (pending → sending, under a claim token) before sending, marks each row sent or failed after,
  and gives rows it did not get to back (→ pending). Rows are unique per (generation, user), so a follower is
  told about one change at most once however many planners run; a restart picks up the pending rows. A row
  left `sending` by a crash may or may not have gone out: after the lease it becomes `unknown`, never resent.
* `alert_cursor` — the newest generation the planner has turned into deliveries (one row, compare-and-set).

The caller owns the session: every public function takes `session` keyword-only and never commits. The delivery
guarantees rest on the caller committing each step on its own (the dispatcher in `bot.handlers.alerts_dispatch`):
a claim is committed before anything is sent, an outcome after; a planned change (cursor moved, message and
deliveries queued) commits as one.

Nothing here keeps user text: ids, place names, statuses and counts only.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Index,
    Integer,
    String,
    UniqueConstraint,
    delete,
    func,
    insert,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, Session, SQLModel

from db.accounts.models import User
from db.core.columns import aware_datetime
from db.knowledge.changes import Change, changes_since

PLACE_MAX = 64
CURSOR_NAME = "alerts"
PENDING, SENDING, SENT, FAILED, UNKNOWN = "pending", "sending", "sent", "failed", "unknown"
DELIVERY_STATUSES = (PENDING, SENDING, SENT, FAILED, UNKNOWN)
#: Follows per user (a parent follows a handful of places; the list must fit one message).
MAX_FOLLOWS = 20
_INSERT_BATCH = 500


def _utcnow() -> datetime:
    return datetime.now(UTC)


class PolicyFollow(SQLModel, table=True):
    """A user follows the policy documents of a place."""

    __tablename__ = "policy_follows"
    __table_args__ = (Index("ix_policy_follows_place", "place"),)

    user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    place: str = Field(sa_column=Column(String(PLACE_MAX), primary_key=True))
    #: The language the user had when following (used when the user has no stored language).
    lang: str = Field(default="zh", sa_column=Column(String(8), nullable=False, server_default="zh"))
    created_at: datetime = aware_datetime(default_factory=_utcnow)


class AlertMessage(SQLModel, table=True):
    """The message about one knowledge-base change, rendered once per language."""

    __tablename__ = "alert_messages"

    generation: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    action: str = Field(sa_column=Column(String(16), nullable=False))
    doc_id: str = Field(sa_column=Column(String(48), nullable=False))
    index_id: str = Field(sa_column=Column(String(56), nullable=False))
    place: str = Field(sa_column=Column(String(PLACE_MAX), nullable=False))
    #: {"zh": text, "en": text}
    texts: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = aware_datetime(default_factory=_utcnow)


class AlertDelivery(SQLModel, table=True):
    """One follower's copy of one alert."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (
        UniqueConstraint("generation", "user_id", name="uq_alert_deliveries_generation_user"),
        Index("ix_alert_deliveries_status", "status", "id"),
    )

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    generation: int = Field(sa_column=Column(Integer, nullable=False))
    user_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    lang: str = Field(default="zh", sa_column=Column(String(8), nullable=False))
    status: str = Field(default=PENDING, sa_column=Column(String(12), nullable=False))
    claim: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    claimed_at: datetime | None = aware_datetime(nullable=True, default=None)
    sent_at: datetime | None = aware_datetime(nullable=True, default=None)
    error: str = Field(default="", sa_column=Column(String(32), nullable=False, server_default=""))


class AlertCursor(SQLModel, table=True):
    """The newest knowledge-base generation the planner has handled."""

    __tablename__ = "alert_cursor"

    name: str = Field(sa_column=Column(String(16), primary_key=True))
    generation: int = Field(default=0, sa_column=Column(Integer, nullable=False))


def _insert_if_absent(session: Session, table, values: dict) -> bool:
    """INSERT … ON CONFLICT DO NOTHING (SQLite and PostgreSQL); True when the row was inserted. A concurrent
    insert of the same key neither fails nor spoils the caller's transaction."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    key = next(iter(table.primary_key.columns))
    statement = dialect.insert(table).values(**values).on_conflict_do_nothing().returning(key)
    return session.execute(statement).first() is not None  # rowcount is not reported by every driver here


# --- follows ----------------------------------------------------------------------------------------------------


class FollowLimit(ValueError):
    """The user follows MAX_FOLLOWS places already."""


def follow(user_id: int, place: str, lang: str = "zh", *, session: Session) -> bool:
    """Follow `place`; True when new, False when already followed. FollowLimit past MAX_FOLLOWS."""
    if not place or len(place) > PLACE_MAX:
        raise ValueError("bad place")
    table = PolicyFollow.__table__
    exists = session.execute(
        select(func.count()).select_from(table).where(table.c.user_id == user_id, table.c.place == place)
    ).scalar_one()
    if exists:
        return False
    count = session.execute(select(func.count()).select_from(table).where(table.c.user_id == user_id)).scalar_one()
    if count >= MAX_FOLLOWS:
        raise FollowLimit(place)
    # The same tap twice at once: the second insert does nothing.
    return _insert_if_absent(session, table, {"user_id": user_id, "place": place, "lang": lang,
                                              "created_at": _utcnow()})


def unfollow(user_id: int, place: str, *, session: Session) -> bool:
    """Stop following `place`; True when the user followed it."""
    table = PolicyFollow.__table__
    result = session.execute(delete(table).where(table.c.user_id == user_id, table.c.place == place))
    return result.rowcount > 0


def follows_of(user_id: int, *, session: Session) -> list[str]:
    """The places a user follows, in the order followed."""
    table = PolicyFollow.__table__
    query = select(table.c.place).where(table.c.user_id == user_id).order_by(table.c.created_at, table.c.place)
    return [row[0] for row in session.execute(query)]


def _reach(table, place: str):
    """Follows that a document about `place` concerns: the place itself and every place below it (`*`: all)."""
    if place == "*":
        return true()
    escaped = place.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return or_(table.c.place == place, table.c.place.like(escaped + "/%", escape="\\"))


def _reaching(table, places: Iterable[str]):
    """The condition "a follow that a document about any of `places` reaches" (None: no place given)."""
    wanted = [p for p in dict.fromkeys(places) if p]
    return or_(*(_reach(table, p) for p in wanted)) if wanted else None


def followers(places: Iterable[str], *, session: Session) -> list[int]:
    """Distinct users who follow any of `places` or a place below one of them, ascending."""
    table = PolicyFollow.__table__
    reached = _reaching(table, places)
    if reached is None:
        return []
    query = select(table.c.user_id).where(reached).distinct().order_by(table.c.user_id)
    return [int(row[0]) for row in session.execute(query)]


def count_followers(places: Iterable[str], *, session: Session) -> int:
    """How many users a document about `places` would reach."""
    table = PolicyFollow.__table__
    reached = _reaching(table, places)
    if reached is None:
        return 0
    query = select(func.count(func.distinct(table.c.user_id))).where(reached)
    return int(session.execute(query).scalar_one())


def follow_counts(*, session: Session) -> tuple[int, int]:
    """(follows, distinct followers) over everyone."""
    table = PolicyFollow.__table__
    follows, users = session.execute(
        select(func.count(), func.count(func.distinct(table.c.user_id))).select_from(table)
    ).one()
    return int(follows), int(users)


# --- planning: kb_changes → alert_messages + alert_deliveries -----------------------------------------------------


@dataclass(frozen=True)
class Planned:
    """What the planner made of one change: the message (None: nothing to tell) and the places it reaches."""

    texts: dict[str, str] | None
    places: tuple[str, ...] = ()
    doc_id: str = ""
    index_id: str = ""


def cursor(*, session: Session) -> int:
    """The newest generation handled (0 before the first run)."""
    table = AlertCursor.__table__
    value = session.execute(select(table.c.generation).where(table.c.name == CURSOR_NAME)).scalar_one_or_none()
    return int(value or 0)


def notifies(change: Change) -> bool:
    """Whether a change may warrant a message (its planner `build` is asked only then)."""
    return change.notify and change.action in ("publish", "replace", "retire")


def changes_to_plan(limit: int = 50, *, session: Session) -> list[Change]:
    """The changes after the cursor, oldest first (at most `limit`); creates the cursor on the first run."""
    _insert_if_absent(session, AlertCursor.__table__, {"name": CURSOR_NAME, "generation": 0})
    start = cursor(session=session)
    # The change log still takes the engine (a read; the cursor row above is its own key).
    return changes_since(start, session=session, limit=limit)


def queue_change(change: Change, planned: Planned | None, *, session: Session) -> int | None:
    """Move the cursor to `change` by compare-and-set and queue its message and one delivery per follower;
    returns the deliveries queued, or None when another planner moved the cursor first (nothing written).

    Commit each change on its own: two planners then never queue a change twice (the loser's update matches
    nothing, and deliveries are unique per (generation, user) besides: an IntegrityError means the same)."""
    cursor_table = AlertCursor.__table__
    moved = session.execute(
        update(cursor_table)
        .where(cursor_table.c.name == CURSOR_NAME, cursor_table.c.generation < change.generation)
        .values(generation=change.generation)
    ).rowcount
    if not moved:
        return None
    if planned is None or not planned.texts:
        return 0
    session.execute(
        insert(AlertMessage.__table__).values(
            generation=change.generation, action=change.action, doc_id=planned.doc_id or change.doc_id,
            index_id=planned.index_id or change.index_id, place=(planned.places or ("",))[0][:PLACE_MAX],
            texts=planned.texts, created_at=_utcnow(),
        )
    )
    follow_langs = _followers_in(session, planned.places)
    users = sorted(follow_langs)
    languages = _user_languages(session, users, follow_langs)
    rows = [
        {"generation": change.generation, "user_id": uid, "lang": languages.get(uid, "zh"), "status": PENDING,
         "error": ""}
        for uid in users
    ]
    for start in range(0, len(rows), _INSERT_BATCH):
        session.execute(insert(AlertDelivery.__table__), rows[start:start + _INSERT_BATCH])
    return len(rows)


def _followers_in(session: Session, places: Iterable[str]) -> dict[int, str]:
    """user id → the language of (one of) their follows, for the follows `places` reach."""
    table = PolicyFollow.__table__
    reached = _reaching(table, places)
    if reached is None:
        return {}
    return {int(uid): lang for uid, lang in session.execute(select(table.c.user_id, table.c.lang).where(reached))}


def _user_languages(session: Session, user_ids: list[int], fallback: dict[int, str]) -> dict[int, str]:
    """Each user's stored language; the language they followed in when they have no user row."""
    out: dict[int, str] = dict(fallback)
    table = User.__table__
    for start in range(0, len(user_ids), _INSERT_BATCH):
        part = user_ids[start:start + _INSERT_BATCH]
        for telegram_id, language in session.execute(
            select(table.c.telegram_id, table.c.language).where(table.c.telegram_id.in_(part))
        ):
            out[int(telegram_id)] = language or "zh"
    return out


# --- sending ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """A claimed delivery, ready to send."""

    id: int
    generation: int
    user_id: int
    lang: str
    text: str
    doc_id: str


def claim_batch(limit: int, *, session: Session, now: datetime | None = None) -> list[Delivery]:
    """Claim up to `limit` pending deliveries (oldest first) for this sender: pending → sending. Commit the claim
    before sending anything.

    Two senders may pick the same candidates; the conditional UPDATE gives each row to one of them (the other's
    update matches nothing, and it looks again with a fresh read), so no delivery is claimed twice."""
    now = now or _utcnow()
    table = AlertDelivery.__table__
    messages = AlertMessage.__table__
    token = uuid.uuid4().hex
    for _attempt in range(5):  # candidates all taken by another sender meanwhile: look again
        ids = list(session.execute(
            select(table.c.id).where(table.c.status == PENDING).order_by(table.c.id).limit(limit)
        ).scalars())
        if not ids:
            return []
        got = session.execute(
            update(table).where(table.c.id.in_(ids), table.c.status == PENDING)
            .values(status=SENDING, claim=token, claimed_at=now)
        ).rowcount
        if got:
            break
    query = (
        select(table.c.id, table.c.generation, table.c.user_id, table.c.lang, messages.c.texts, messages.c.doc_id)
        .join(messages, messages.c.generation == table.c.generation)
        .where(table.c.claim == token, table.c.status == SENDING)
        .order_by(table.c.id)
    )
    out = []
    for row in session.execute(query).all():
        texts = row.texts or {}
        text = texts.get(row.lang) or texts.get("zh") or next(iter(texts.values()), "")
        out.append(Delivery(row.id, row.generation, row.user_id, row.lang, text, row.doc_id))
    return out


@dataclass
class Outcome:
    """A claimed batch's outcome: sent, failed for good (id → a short error code), given back (→ pending)."""

    sent: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    released: list[int] = field(default_factory=list)


def finish(outcome: Outcome, *, session: Session, now: datetime | None = None) -> None:
    """Record a batch's outcome (only rows still `sending` change)."""
    now = now or _utcnow()
    table = AlertDelivery.__table__
    if outcome.sent:
        session.execute(update(table).where(table.c.id.in_(outcome.sent), table.c.status == SENDING)
                        .values(status=SENT, sent_at=now, claim=None))
    for delivery_id, error in outcome.failed.items():
        session.execute(update(table).where(table.c.id == delivery_id, table.c.status == SENDING)
                        .values(status=FAILED, error=error[:32], claim=None))
    if outcome.released:
        session.execute(update(table).where(table.c.id.in_(outcome.released), table.c.status == SENDING)
                        .values(status=PENDING, claim=None, claimed_at=None))


def expire_stale(*, session: Session, lease: timedelta = timedelta(minutes=15), now: datetime | None = None) -> int:
    """Deliveries left `sending` longer than `lease` (their sender died mid-send) become `unknown`: they may
    have arrived, so they are never sent again. Returns how many."""
    now = now or _utcnow()
    table = AlertDelivery.__table__
    return session.execute(
        update(table).where(table.c.status == SENDING, table.c.claimed_at < now - lease)
        .values(status=UNKNOWN, claim=None)
    ).rowcount


def delivery_counts(generation: int | None = None, *, session: Session) -> dict[str, int]:
    """Deliveries per status (of one change, or all)."""
    table = AlertDelivery.__table__
    query = select(table.c.status, func.count()).group_by(table.c.status)
    if generation is not None:
        query = query.where(table.c.generation == generation)
    found = {status: int(n) for status, n in session.execute(query)}
    return {status: found.get(status, 0) for status in DELIVERY_STATUSES}


def alert_message(generation: int, *, session: Session) -> AlertMessage | None:
    """The message of one change (for the "ask about it" button)."""
    table = AlertMessage.__table__
    row = session.execute(select(table).where(table.c.generation == generation)).first()
    return None if row is None else AlertMessage(**row._mapping)
