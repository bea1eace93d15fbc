"""The waitlist (排队) end to end, through the real python-telegram-bot Application and the fake Bot API over HTTP
(issue 12 §1): a full session offers "排队" instead of a dead end, two parents join, a cancellation offers the
place to the first in line exactly once with Take/Pass, Pass hands it to the next, Take books it (code, price,
the operator told once); forged and stale offer buttons change nothing; /bookings lists queue entries with
positions and a leave button; /today shows the queue length; holds that lapse while the bot is down are
processed when it comes back; a parent who blocked the bot does not hold up the queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.console_transport import running_application
from bot.handlers import care_waitlist
from db.care import booking, waitlist
from db.care.waitlist_models import WaitlistEntry, WaitlistOffer
from db.core.engine import run_unit, session_scope
from db.core.timeutil import local_today
from db.models import Booking, CareSession
from tests.care_harness import OPERATOR, PARENT, settle, tap, tap_as
from tests.db_fixtures import book

SECOND, BOOKED_A, BOOKED_B = 5353, 901, 902
OFFER_MARK = "有空位了"


def _snapshot(db) -> tuple:
    with session_scope(db) as session:
        return (
            sorted(tuple(r) for r in session.execute(select(Booking.id, Booking.status, Booking.parent_id)).all()),
            sorted(tuple(r) for r in session.execute(select(CareSession.id, CareSession.booked)).all()),
            sorted(tuple(r) for r in session.execute(select(WaitlistEntry.id, WaitlistEntry.status)).all()),
            sorted(tuple(r) for r in session.execute(select(WaitlistOffer.id, WaitlistOffer.status)).all()),
        )


def _offers_to(api, parent: int) -> list:
    return [m for m in api.messages_to(parent) if OFFER_MARK in (m.text or "")]


def _open_offer(db, parent: int) -> int | None:
    with session_scope(db) as session:
        return session.execute(
            select(WaitlistOffer.id).where(WaitlistOffer.parent_id == parent, WaitlistOffer.status == "open")
        ).scalar_one_or_none()


async def _send(api, app, user: int, text: str):
    since = api.seq
    api.user_sends_text(user, text)
    await settle(api, app)
    return api.changes_since(since, user)


def _fill(db, session_id: int, queue: tuple[tuple[int, int], ...] = ()) -> None:
    """Both places of the centre's session booked by two other parents; then the parents of `queue`
    ((parent, age in months) pairs) join its waitlist in that order."""
    for parent in (BOOKED_A, BOOKED_B):
        book(db, session_id, parent, 24, idempotency_key=f"k{parent}")
    for parent, months in queue:
        run_unit(db, waitlist.join, waitlist.PlaceRequest(session_id, parent, months))


def _free_a_place(db, **options) -> None:
    """The first of the two booked parents cancels (`options`: those of `booking.cancel_booking`)."""
    run_unit(db, booking.cancel_booking, run_unit(db, booking.list_bookings, BOOKED_A)[0].booking_id, BOOKED_A, **options)



def _users(fake_bot_api, *users: int):
    """The fake Bot API with `users` known to it."""
    api = fake_bot_api.api
    for user in users:
        api.add_user(user)
    return api

async def test_full_session_join_cancel_offer_pass_take(fake_bot_api, app_for, centre, engine):
    api = _users(fake_bot_api, OPERATOR, SECOND, BOOKED_A)
    app = app_for(fake_bot_api)
    institution_id, session_id = centre
    _fill(engine, session_id)
    tomorrow = (local_today() + timedelta(days=1)).isoformat()
    async with running_application(app):
        # Parent 1: the card still lists the full session, and its button leads to the waitlist.
        await _send(api, app, PARENT, "/find")
        results = (await _send(api, app, PARENT, "思明区"))[-1]
        changes = await tap(api, app, results, f"care:inst:{institution_id}")
        card = next(m for m in changes if m.kind == "message")
        assert any("已满·可排队" in b for b in card.button_texts)
        [ask_age] = await tap(api, app, card, card.callback_data("已满"))
        [full] = await tap(api, app, ask_age, f"care:age:{session_id}:24")
        assert "已约满" in full.text and "排队" in full.text and "30 分钟" in full.text
        assert "🙋 排队" in full.button_texts
        [joined] = await tap(api, app, full, full.callback_data("排队"))
        assert "第 1 位" in joined.text

        # Parent 2 taps an old confirm: the "full" answer offers the waitlist instead of a dead end.
        await _send(api, app, SECOND, "/find")
        results2 = (await _send(api, app, SECOND, "思明区"))[-1]
        since = api.seq
        api.user_taps_button(SECOND, results2.message_id, f"care:ok:{session_id}:20", stale_ok=True)
        await settle(api, app)
        full2 = api.changes_since(since, SECOND)[-1]
        assert "约满" in api.callback_answers[-1].text and "已有 1 人排队" in full2.text
        api.user_taps_button(SECOND, full2.message_id, full2.callback_data("排队"))
        await settle(api, app)
        assert "第 2 位" in api.messages_to(SECOND)[-1].text
        entries = run_unit(engine, waitlist.entries_for_parent, SECOND)
        assert [(e.session_id, e.position, e.child_age_months) for e in entries] == [(session_id, 2, 20)]

        # /bookings lists the queue entry with its position and a leave button; /today shows the queue.
        listing = (await _send(api, app, PARENT, "/bookings"))[-1]
        assert "排队中" in listing.text and "第 1 位" in listing.text and "退出排队 1" in listing.button_texts
        today = (await _send(api, app, OPERATOR, f"/today {tomorrow}"))[-1]
        assert "排队 2 人" in today.text and "已约 2/2" in today.text

        # A booked parent cancels: the first in line gets the offer, once, with Take and Pass.
        mine = (await _send(api, app, BOOKED_A, "/bookings"))[-1]
        [ask] = await tap_as(api, app, BOOKED_A, mine, mine.callback_data("取消 1"))
        await tap_as(api, app, BOOKED_A, ask, ask.callback_data("确定取消"))
        [offer] = _offers_to(api, PARENT)
        assert offer.button_texts == ["✅ 确认", "放弃"] and "孩子 24 个月" in offer.text and "保留到" in offer.text
        assert _offers_to(api, SECOND) == []
        # The periodic job (any worker, any number of runs) does not send it again.
        assert await care_waitlist.expire_and_send(app.bot, engine) == (0, 0)
        assert len(_offers_to(api, PARENT)) == 1
        offer1 = _open_offer(engine, PARENT)
        assert offer.callback_data("确认") == f"care:wt:{offer1}"

        # Forged and stale offer buttons: polite answers, nothing changes.
        before = _snapshot(engine)
        for data in (f"care:wt:{offer1}", f"care:wp:{offer1}"):
            answers = len(api.callback_answers)
            api.user_taps_button(SECOND, full2.message_id, data, stale_ok=True)  # another parent's offer
            await settle(api, app)
            assert len(api.callback_answers) == answers + 1 and "失效" in api.callback_answers[-1].text
        for data in ("care:wt:99999999999999", "care:wt:-1", "care:wp:0", "care:wl:99999999", "care:wj:0:20"):
            answers = len(api.callback_answers)
            api.user_taps_button(PARENT, offer.message_id, data, stale_ok=True)
            await settle(api, app)
            assert len(api.callback_answers) == answers + 1, data
        assert _snapshot(engine) == before

        # Pass: the place goes to the next in line at once; the old buttons then say so.
        [passed] = await tap(api, app, offer, offer.callback_data("放弃"))
        assert "已放弃" in passed.text
        [offer_b] = _offers_to(api, SECOND)
        offer2 = _open_offer(engine, SECOND)
        await tap(api, app, offer, f"care:wt:{offer1}")
        assert "已放弃" in api.callback_answers[-1].text
        assert run_unit(engine, waitlist.entries_for_parent, PARENT) == []

        # Take (twice: a double tap): one booking with code and price, the operator told once.
        notes_before = len(api.messages_to(OPERATOR))
        api.user_taps_button(SECOND, offer_b.message_id, offer_b.callback_data("确认"))
        api.user_taps_button(SECOND, offer_b.message_id, f"care:wt:{offer2}", stale_ok=True)
        await settle(api, app)
        [mine2] = run_unit(engine, booking.list_bookings, SECOND)
        booked = next(m for m in api.messages_to(SECOND) if m.message_id == offer_b.message_id)
        assert "预约成功" in booked.text and mine2.code in booked.text and "120元" in booked.text
        notes = api.messages_to(OPERATOR)[notes_before:]
        assert len(notes) == 1 and mine2.code in notes[0].text and "2/2" in notes[0].text
        with session_scope(engine) as session:
            assert session.get(CareSession, session_id).booked == 2
        # Already taken: a Pass on it changes nothing.
        before = _snapshot(engine)
        await tap_as(api, app, SECOND, offer_b, f"care:wp:{offer2}")
        assert "已经确认" in api.callback_answers[-1].text and _snapshot(engine) == before


async def test_leave_from_bookings_passes_a_held_place_on(fake_bot_api, app_for, centre, engine):
    api = _users(fake_bot_api, PARENT, SECOND)
    app = app_for(fake_bot_api)
    _, session_id = centre
    _fill(engine, session_id, queue=((PARENT, 24), (SECOND, 20)))
    _free_a_place(engine)
    async with running_application(app):
        await care_waitlist.expire_and_send(app.bot, engine)
        assert len(_offers_to(api, PARENT)) == 1
        listing = (await _send(api, app, PARENT, "/bookings"))[-1]
        assert "保留中" in listing.text
        [left] = await tap(api, app, listing, listing.callback_data("退出排队 1"))
        assert "已退出排队" in left.text
        assert len(_offers_to(api, SECOND)) == 1 and _open_offer(engine, SECOND) is not None
        before = _snapshot(engine)
        await tap(api, app, listing, listing.callback_data("退出排队 1"))  # again: nothing changes
        assert api.callback_answers[-1].text and _snapshot(engine) == before
        assert "没有待进行的预约" in (await _send(api, app, PARENT, "/bookings"))[-1].text


async def test_holds_lapsing_while_the_bot_is_down_are_processed_on_return(
    fake_bot_api, app_for, centre, engine
):
    api = _users(fake_bot_api, PARENT, SECOND, 5454)
    _, session_id = centre
    _fill(engine, session_id, queue=((PARENT, 24), (SECOND, 20), (5454, 30)))
    hold = timedelta(minutes=30)
    _free_a_place(engine, hold=hold)

    # Up: the offer goes out (its hold starts now).
    app = app_for(fake_bot_api)
    async with running_application(app):
        await care_waitlist.expire_and_send(app.bot, engine)
    assert len(_offers_to(api, PARENT)) == 1
    # Down for longer than the hold; back again: the lapsed hold is expired (told once), the next is offered.
    later = datetime.now(UTC) + hold + timedelta(minutes=5)
    app = app_for(fake_bot_api)
    async with running_application(app):
        assert await care_waitlist.expire_and_send(app.bot, engine, now=later) == (1, 1)
        assert await care_waitlist.expire_and_send(app.bot, engine, now=later) == (0, 0)
    expired_notes = [m for m in api.messages_to(PARENT) if "已过期" in (m.text or "")]
    assert len(expired_notes) == 1 and len(_offers_to(api, SECOND)) == 1 and _offers_to(api, 5454) == []

    # The second parent blocked the bot meanwhile: their lapsed hold passes on, nobody waits on a dead chat.
    api.user_blocks_bot(5454)
    even_later = later + hold + timedelta(minutes=5)
    app = app_for(fake_bot_api)
    async with running_application(app):
        await care_waitlist.expire_and_send(app.bot, engine, now=even_later)
    assert _offers_to(api, 5454) == []
    with session_scope(engine) as session:
        statuses = dict(session.execute(select(WaitlistOffer.parent_id, WaitlistOffer.status)).all())
        booked = session.get(CareSession, session_id).booked
    assert statuses == {PARENT: "expired", SECOND: "expired", 5454: "passed"}
    assert booked == 1  # the place went back to the pool: nobody else waits


async def test_an_offer_made_while_the_bot_is_down_is_sent_with_a_full_hold(
    fake_bot_api, app_for, centre, engine
):
    api = _users(fake_bot_api, PARENT)
    _, session_id = centre
    _fill(engine, session_id, queue=((PARENT, 24),))
    _free_a_place(engine)
    later = datetime.now(UTC) + timedelta(hours=2)  # its first hold would have ended: it was never sent
    app = app_for(fake_bot_api)
    async with running_application(app):
        assert await care_waitlist.expire_and_send(app.bot, engine, now=later) == (0, 1)
    [offer] = _offers_to(api, PARENT)
    found = run_unit(engine, waitlist.get_offer, _open_offer(engine, PARENT))
    assert found.status == "open" and found.expires_at > later


async def test_operator_adding_places_offers_them_to_the_queue_first(fake_bot_api, app_for, centre, engine):
    api = _users(fake_bot_api, OPERATOR, PARENT, SECOND)
    app = app_for(fake_bot_api)
    _, session_id = centre
    _fill(engine, session_id, queue=((PARENT, 24), (SECOND, 20)))
    tomorrow = (local_today() + timedelta(days=1)).isoformat()
    async with running_application(app):
        # Fewer places than are booked: refused, nothing changes.
        before = _snapshot(engine)
        refused = (await _send(api, app, OPERATOR, f"/addsession {tomorrow} 09:00-12:00 临时托 1 120 12-36"))[-1]
        assert "没有添加" in refused.text and "2" in refused.text and _snapshot(engine) == before
        # The same session again with one more place: no second session; the place goes to the first in line.
        done = (await _send(api, app, OPERATOR, f"/addsession {tomorrow} 09:00-12:00 临时托 3 120 12-36"))[-1]
        assert "2 → 3" in done.text and "1 位家长" in done.text
        assert len(_offers_to(api, PARENT)) == 1 and _offers_to(api, SECOND) == []
        with session_scope(engine) as session:
            rows = session.execute(select(CareSession.capacity, CareSession.booked)).all()
        assert rows == [(3, 3)]  # two booked, one held for the offer: nobody outside the queue can take it
        # A parent outside the queue trying to book gets "full" with the waitlist offered.
        await _send(api, app, 5656, "/find")
        results = (await _send(api, app, 5656, "思明区"))[-1]
        since = api.seq
        api.user_taps_button(5656, results.message_id, f"care:ok:{session_id}:20", stale_ok=True)
        await settle(api, app)
        # Two in the queue: one holds the offered place, one waits.
        assert "约满" in api.callback_answers[-1].text and "已有 2 人排队" in api.changes_since(since, 5656)[-1].text
