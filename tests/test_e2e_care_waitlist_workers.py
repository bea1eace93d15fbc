"""Waitlist offers with several workers sharing one database (SQLite and PostgreSQL) and one fake Bot API over
HTTP (issue 12 §1): two threads, each a worker with its own engine, event loop and HTTP client, run the waitlist
job at the same moment, again and again — every offer, and every expiry note, reaches its parent exactly once;
the same Take tap handled by two Applications at once books once and tells the operator once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.handlers import care_waitlist
from db.care import booking, waitlist
from db.care.waitlist_models import WaitlistOffer
from db.core.engine import run_unit, session_scope
from db.core.timeutil import local_today
from db.models import CareSession
from tests.db_fixtures import book, make_session
from tests.workers_harness import OPERATOR, last_update, operator_centre, two_workers

SESSIONS = 4


def _queues(engine) -> list[tuple[int, int, int]]:
    """SESSIONS full one-place sessions, each with two parents waiting; every booking cancelled, so the first
    in each line holds an offer not sent yet. Returns (session, first parent, second parent)."""
    institution_id = operator_centre(engine)
    made = []
    for n in range(SESSIONS):
        sid = make_session(engine, institution_id, local_today() + timedelta(days=2), capacity=1, age_min_months=12)
        holder = 8000 + n
        placed = book(engine, sid, holder, 24, idempotency_key=f"h{n}")
        first, second = 8100 + n, 8200 + n
        run_unit(engine, waitlist.join, waitlist.PlaceRequest(sid, first, 24))
        run_unit(engine, waitlist.join, waitlist.PlaceRequest(sid, second, 20))
        run_unit(engine, booking.cancel_booking, placed.id, holder)
        made.append((sid, first, second))
    return made


def _count(api, parent: int, mark: str) -> int:
    return sum(mark in (m.text or "") for m in api.messages_to(parent))


def _run_workers(db_engine, fake_bot_api, now: datetime | None, runs: int = 3) -> list[tuple[int, int]]:
    """Two worker threads start the job at the same moment, `runs` times each; their (expired, sent) results."""
    results: list[tuple[int, int]] = []

    async def job(bot, engine) -> None:
        for _ in range(runs):
            results.append(await care_waitlist.expire_and_send(bot, engine, now=now))

    two_workers(db_engine, fake_bot_api, job, timeout=120)
    return results


def test_two_workers_send_each_offer_and_each_expiry_note_once(db_engine, fake_bot_api):
    api = fake_bot_api.api
    made = _queues(db_engine)
    for _, first, second in made:
        api.add_user(first)
        api.add_user(second)

    results = _run_workers(db_engine, fake_bot_api, now=None)
    assert sum(sent for _, sent in results) == SESSIONS, results
    assert {first: _count(api, first, "有空位了") for _, first, _ in made} == {first: 1 for _, first, _ in made}
    assert all(_count(api, second, "有空位了") == 0 for _, _, second in made)

    # Every hold lapses; both workers process it at once: one expiry note each, the next in line offered once.
    later = datetime.now(UTC) + waitlist.DEFAULT_HOLD + timedelta(minutes=5)
    results = _run_workers(db_engine, fake_bot_api, now=later)
    assert sum(expired for expired, _ in results) == SESSIONS and sum(sent for _, sent in results) == SESSIONS
    for _, first, second in made:
        assert _count(api, first, "已过期") == 1 and _count(api, first, "有空位了") == 1
        assert _count(api, second, "有空位了") == 1
    with session_scope(db_engine) as session:
        open_offers = session.execute(
            select(WaitlistOffer.session_id, WaitlistOffer.parent_id).where(WaitlistOffer.status == "open")
        ).all()
        booked = dict(session.execute(select(CareSession.id, CareSession.booked)).all())
    assert sorted(open_offers) == sorted((sid, second) for sid, _, second in made)
    assert all(booked[sid] == 1 for sid, _, _ in made)  # one place each, held: never two offers at once


async def test_the_same_take_tap_on_two_workers_books_once(db_engine, fake_bot_api, workers):
    api = fake_bot_api.api
    api.add_user(OPERATOR)
    w1, w2 = workers
    [(sid, first, second)] = _queues(db_engine)[:1]
    for parent in (first, second):
        api.add_user(parent)
    await asyncio.gather(
        care_waitlist.expire_and_send(w1.app.bot, w1.engine), care_waitlist.expire_and_send(w2.app.bot, w2.engine)
    )
    [offer] = [m for m in api.messages_to(first) if "有空位了" in (m.text or "")]
    api.user_taps_button(first, offer.message_id, offer.callback_data("确认"))
    tap = last_update(api)
    await asyncio.gather(w1.handle(tap), w2.handle(tap))
    assert w1.errors == [] and w2.errors == []
    [mine] = run_unit(db_engine, booking.list_bookings, first)
    assert mine.session_id == sid
    assert sum(mine.code in (m.text or "") for m in api.messages_to(OPERATOR)) == 1
    assert sum("预约成功" in (m.text or "") for m in api.messages_to(first)) == 1
    with session_scope(db_engine) as session:
        assert session.get(CareSession, sid).booked == 1
