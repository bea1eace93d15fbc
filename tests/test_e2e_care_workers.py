"""Two bot workers (two real python-telegram-bot Applications, each with its own database engine) share one
database (SQLite and PostgreSQL) and one fake Bot API over HTTP. Alternate updates of the same parent go to
alternate workers and the care flow continues across them; a repeated confirm tap handled by both workers at
once books once and notifies the operator once; reminders and operator notes go out exactly once however many
workers run them, and a failed send or claim never makes one go out again and again."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta

from telegram import Bot

from bot.handlers import care
from bot.handlers.care_views import A_SET_AGE, CODEC
from db.care import booking, booking_notices
from db.core.engine import run_unit
from db.core.timeutil import local_today
from tests.db_fixtures import book, make_session
from tests.fakes.fixtures import FAKE_TOKEN
from tests.unit_of_work import load_state
from tests.workers_harness import OPERATOR, last_update, operator_centre, two_workers

PARENT = 6161
NOW = datetime.combine(local_today(), time(10))  # reminders go out the day before


async def test_a_flow_continues_on_another_worker_and_books_once(db_engine, fake_bot_api, workers):
    api = fake_bot_api.api
    api.add_user(OPERATOR)
    w1, w2 = workers
    institution_id = operator_centre(db_engine)
    session_id = make_session(
        db_engine, institution_id, local_today() + timedelta(days=2), capacity=3, price=120, age_min_months=12,
        age_max_months=36,
    )

    api.user_sends_text(PARENT, "/find")
    await w1.handle(last_update(api))
    assert "发送您的位置" in api.last_message(PARENT).text
    api.user_sends_text(PARENT, "思明区")
    await w2.handle(last_update(api))  # the place awaited by w1 is understood by w2
    results = [m for m in api.messages_to(PARENT) if m.buttons][-1]
    assert "鹭岛托育中心" in results.text

    api.user_taps_button(PARENT, results.message_id, "care:f:svc")
    await w1.handle(last_update(api))
    api.user_taps_button(PARENT, results.message_id, "care:set:svc:temp")
    await w2.handle(last_update(api))
    api.user_taps_button(PARENT, results.message_id, "care:tog:puhui")
    await w1.handle(last_update(api))
    edited = next(m for m in api.messages_to(PARENT) if m.message_id == results.message_id)
    assert "临时托" in edited.text and "普惠" in edited.text.split("筛选")[1], "w1 saw w2's service filter"
    assert load_state(db_engine, PARENT, "care").data["search"]["service"] == "临时托"

    api.user_taps_button(PARENT, results.message_id, f"care:inst:{institution_id}")
    await w2.handle(last_update(api))
    card = next(m for m in reversed(api.messages_to(PARENT)) if m.kind == "message" and m.buttons)
    api.user_taps_button(PARENT, card.message_id, card.callback_data("半天"))
    await w1.handle(last_update(api))
    assert "孩子多大" in api.last_message(PARENT).text
    api.user_sends_text(PARENT, "1岁8个月")
    await w2.handle(last_update(api))  # the age w1 asked for is typed to w2
    confirm = api.last_message(PARENT)
    assert "请确认预约" in confirm.text and "孩子 20 个月" in confirm.text

    # The same confirm tap reaches both workers at the same moment (a retry racing the original).
    ok = confirm.callback_data("确认")
    api.user_taps_button(PARENT, confirm.message_id, ok)
    tap = last_update(api)
    await asyncio.gather(w1.handle(tap), w2.handle(tap))
    # and a double tap, handled by the other worker
    api.user_taps_button(PARENT, confirm.message_id, ok, stale_ok=True)
    await w2.handle(last_update(api))

    views = run_unit(db_engine, booking.list_bookings, PARENT)
    assert len(views) == 1 and views[0].session_id == session_id and views[0].child_age_months == 20
    assert "预约成功" in next(m for m in api.messages_to(PARENT) if m.message_id == confirm.message_id).text
    notes = api.messages_to(OPERATOR)
    assert len(notes) == 1 and views[0].code in notes[0].text
    # Nothing is left for the sweeper either.
    assert await care.send_pending_operator_notes(w1.app.bot, w1.engine, now=datetime.now(UTC) + timedelta(hours=1)) == 0
    assert not w1.errors and not w2.errors


async def test_operator_note_lost_in_a_crash_is_sent_once_by_the_sweeper(db_engine, fake_bot_api, workers):
    """A worker booked and died before notifying: the next runs on two workers send the note once."""
    api = fake_bot_api.api
    api.add_user(OPERATOR)
    w1, w2 = workers
    institution_id = operator_centre(db_engine)
    session_id = make_session(db_engine, institution_id, local_today() + timedelta(days=2), age_min_months=12)
    made = book(db_engine, session_id, PARENT, 24, idempotency_key="crash")
    cancelled = book(db_engine, session_id, PARENT + 1, 24, idempotency_key="crash2")
    run_unit(db_engine, booking.cancel_booking, cancelled.id, PARENT + 1)
    assert await care.send_pending_operator_notes(w1.app.bot, w1.engine) == 0, "within the grace period: not yet"
    later = datetime.now(UTC) + timedelta(minutes=5)
    counts = await asyncio.gather(
        care.send_pending_operator_notes(w1.app.bot, w1.engine, now=later),
        care.send_pending_operator_notes(w2.app.bot, w2.engine, now=later),
    )
    notes = api.messages_to(OPERATOR)
    assert sum(counts) == 3 and len(notes) == 3  # booked, booked, cancelled — each once
    assert sum(made.code in n.text for n in notes) == 1
    assert sum(cancelled.code in n.text and "取消" in n.text for n in notes) == 1
    assert await care.send_pending_operator_notes(w1.app.bot, w1.engine, now=later) == 0


def _due_bookings(engine, n: int) -> list:
    institution_id = operator_centre(engine)
    session_id = make_session(engine, institution_id, local_today() + timedelta(days=1), capacity=n + 1)
    parents = [50_000 + i for i in range(n)]
    return [book(engine, session_id, p, 24, idempotency_key=f"r{p}") for p in parents]


def _reminders_to(api, made) -> dict[int, int]:
    return {b.parent_id: sum(b.code in (m.text or "") for m in api.messages_to(b.parent_id)) for b in made}


def test_two_workers_running_reminders_at_once_send_each_once(db_engine, fake_bot_api):
    """Two threads, each a worker with its own engine, event loop and HTTP client, run the reminder job at
    the same moment; then both run it again. Every parent gets exactly one reminder (counted at the API)."""
    api = fake_bot_api.api
    made = _due_bookings(db_engine, 12)
    for b in made:
        api.add_user(b.parent_id)
    sent: list[int] = []

    async def job(bot, engine) -> None:
        sent.append(await care.send_due_reminders(bot, engine, now=NOW))
        sent.append(await care.send_due_reminders(bot, engine, now=NOW))

    two_workers(db_engine, fake_bot_api, job)
    assert sum(sent) == len(made), sent
    assert _reminders_to(api, made) == {b.parent_id: 1 for b in made}
    assert run_unit(db_engine, booking_notices.due_reminders, NOW) == []


async def test_failed_sends_and_claims_never_repeat_a_reminder(db_engine, fake_bot_api, monkeypatch):
    api = fake_bot_api.api
    blocked, ok, later = made = _due_bookings(db_engine, 3)
    for b in made:
        api.add_user(b.parent_id)
    api.user_blocks_bot(blocked.parent_id)

    # Telegram unreachable (connection refused): nothing went out, so every claim is given back.
    dead = Bot(FAKE_TOKEN, base_url="http://127.0.0.1:9/bot")  # not initialised: that would call getMe
    assert await care.send_due_reminders(dead, db_engine, now=NOW) == 0
    await dead.shutdown()
    assert len(run_unit(db_engine, booking_notices.due_reminders, NOW)) == 3

    # The database refuses the claim of one reminder: that one is not sent (and not marked), the others are.
    real_claim = booking_notices.claim_reminder

    def flaky_claim(booking_id, now=None, *, session):
        if booking_id == later.id:
            from sqlalchemy.exc import OperationalError

            raise OperationalError("UPDATE bookings", {}, Exception("database is locked"))
        return real_claim(booking_id, now, session=session)

    monkeypatch.setattr(booking_notices, "claim_reminder", flaky_claim)
    async with Bot(FAKE_TOKEN, base_url=fake_bot_api.base_url) as bot:
        for _ in range(3):  # the old bug: a failing mark re-sent on every run
            assert await care.send_due_reminders(bot, db_engine, now=NOW) == (1 if _ == 0 else 0)
        monkeypatch.setattr(booking_notices, "claim_reminder", real_claim)
        assert await care.send_due_reminders(bot, db_engine, now=NOW) == 1
        assert await care.send_due_reminders(bot, db_engine, now=NOW) == 0
    assert _reminders_to(api, made) == {blocked.parent_id: 0, ok.parent_id: 1, later.parent_id: 1}
    # The parent who blocked the bot was tried once (403) and is not tried again.
    tries = [c for c in api.calls if c[0] == "sendMessage" and int(c[1]["chat_id"]) == blocked.parent_id]
    assert len(tries) == 1
    assert run_unit(db_engine, booking_notices.due_reminders, NOW) == []


async def test_two_taps_at_once_on_two_workers_lose_nothing_silently(db_engine, fake_bot_api, workers):
    """Two filter taps of one parent handled at the same moment by two workers: each is either in the stored
    search or was answered "please tap again" — never answered as done and then lost."""
    api = fake_bot_api.api
    w1, w2 = workers
    operator_centre(db_engine)
    api.user_sends_text(PARENT, "/find")
    await w1.handle(last_update(api))
    api.user_sends_text(PARENT, "思明区")
    await w2.handle(last_update(api))
    results = [m for m in api.messages_to(PARENT) if m.buttons][-1]
    for _ in range(5):
        age_tap = api.user_taps_button(PARENT, results.message_id, "care:set:age:12", stale_ok=True)
        age = last_update(api)
        puhui_tap = api.user_taps_button(PARENT, results.message_id, "care:tog:puhui", stale_ok=True)
        puhui = last_update(api)
        before = load_state(db_engine, PARENT, "care").data["search"].get("puhui", False)
        await asyncio.gather(w1.handle(age), w2.handle(puhui))
        search = load_state(db_engine, PARENT, "care").data["search"]
        answers = {a.callback_query_id: a.text or "" for a in api.callback_answers}
        assert search.get("age") == 12 or "再点一次" in answers[age_tap]
        assert search.get("puhui", False) != before or "再点一次" in answers[puhui_tap]
        # reset the age so the next round changes it again
        api.user_taps_button(PARENT, results.message_id, CODEC.encode(A_SET_AGE, None), stale_ok=True)
        await w1.handle(last_update(api))
        assert load_state(db_engine, PARENT, "care").data["search"].get("age") is None
    assert not w1.errors and not w2.errors
