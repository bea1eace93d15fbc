"""Forged, stale and odd input to the care flow, end to end (real PTB against the fake Bot API server):
every declared care action × `sample_malformed(CODEC)`, plus well-formed data the bot never offered (other
parents' bookings, values outside the menus), a callback without a message, group chats, typed child ages and
/addsession arguments. Each must get an answer, reach no error handler, and leave the database unchanged
(issue 8 §2, §5, §6)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import time, timedelta

import pytest
from sqlalchemy import select

from bot.callbacks import sample_malformed
from bot.console_transport import running_application
from bot.handlers.care import CODEC
from db.care import booking, waitlist
from db.care.waitlist_models import WaitlistEntry, WaitlistOffer
from db.core.engine import run_unit, session_scope
from db.core.timeutil import local_today
from db.models import Booking, CareSession, Institution
from tests.care_harness import HOME, OPERATOR, PARENT, settle
from tests.db_fixtures import add_care_session, book
from tests.e2e_harness import record_errors
from tests.unit_of_work import load_state

OTHER_PARENT = 6262


def _snapshot(db) -> tuple:
    with session_scope(db) as session:
        return (
            sorted(tuple(r) for r in session.execute(select(Booking.id, Booking.status, Booking.parent_id)).all()),
            sorted(tuple(r) for r in session.execute(select(CareSession.id, CareSession.booked, CareSession.capacity)).all()),
            sorted(tuple(r) for r in session.execute(select(Institution.id, Institution.operator_user_id)).all()),
            sorted(tuple(r) for r in session.execute(select(WaitlistEntry.id, WaitlistEntry.status)).all()),
            sorted(tuple(r) for r in session.execute(select(WaitlistOffer.id, WaitlistOffer.status)).all()),
        )


async def _answered(api, app, answers: int, since: int) -> bool:
    """Wait (up to 5 s) until the bot answered the tap or wrote something."""
    for _ in range(250):
        await settle(api, app)
        if len(api.callback_answers) > answers or api.changes_since(since, PARENT):
            return True
        await asyncio.sleep(0.02)
    return False


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


async def _open_results(api, app):
    api.user_sends_text(PARENT, "/find")
    await settle(api, app)
    api.user_shares_location(PARENT, *HOME)
    await settle(api, app)
    return [m for m in api.messages_to(PARENT) if m.buttons][-1]


async def _choose_half_day(api, app, institution_id: int) -> None:
    """/find, share the location, open the centre's card and choose its half-day session (the age is asked)."""
    results = await _open_results(api, app)
    api.user_taps_button(PARENT, results.message_id, f"care:inst:{institution_id}")
    await settle(api, app)
    card = next(m for m in reversed(api.messages_to(PARENT)) if m.kind == "message" and m.buttons)
    api.user_taps_button(PARENT, card.message_id, card.callback_data("半天"))
    await settle(api, app)


@pytest.fixture
def asked_for_age(fake_bot_api, app_for, centre):
    """`async with asked_for_age() as (api, app, errors)`: the bot running, the parent having chosen the centre's
    half-day session and been asked the child's age (`errors`: what its handlers raise)."""

    @asynccontextmanager
    async def running() -> AsyncIterator[tuple]:
        app = app_for(fake_bot_api)
        errors = record_errors(app)
        async with running_application(app):
            await _choose_half_day(fake_bot_api.api, app, centre[0])
            yield fake_bot_api.api, app, errors

    return running


async def test_every_care_action_with_malformed_data(fake_bot_api, app_for, centre, engine):
    api = fake_bot_api.api
    app = app_for(fake_bot_api)
    institution_id, session_id = centre
    others = book(engine, session_id, OTHER_PARENT, 24, idempotency_key="other")
    # Another parent's waitlist entry and offer, on a second, full session.
    full_id = add_care_session(
        engine, institution_id, service="临时托", day=local_today() + timedelta(days=2), start_time=time(14),
        end_time=time(17), capacity=1, price=100,
    ).id
    holder = book(engine, full_id, 7001, 24, idempotency_key="holder")
    entry = run_unit(engine, waitlist.join, waitlist.PlaceRequest(full_id, OTHER_PARENT, 24))
    run_unit(engine, booking.cancel_booking, holder.id, 7001)
    offer_id = run_unit(engine, waitlist.entries_for_parent, OTHER_PARENT)[0].offer_id
    assert offer_id is not None
    api.add_user(OTHER_PARENT)  # the waitlist job may send them the offer meanwhile (it changes no status)
    errors = record_errors(app)
    forged = list(sample_malformed(CODEC))
    forged += [
        f"care:wt:{offer_id}", f"care:wp:{offer_id}", f"care:wl:{entry.entry_id}",  # another parent's queue
        f"care:wj:{full_id}:5", f"care:wj:{session_id}:5", "care:wj:2147483647:24", "care:wt:2147483647",
        f"care:cx:{others.id}", f"care:cxy:{others.id}",  # another parent's booking
        f"care:ok:{session_id}:5", f"care:age:{session_id}:72",  # ages outside the session's range
        "care:set:age:5", "care:set:age:-5", "care:set:budget:7", "care:set:date:2020-01-01", "care:set:svc:临时托",
        f"care:as:{institution_id}",  # only the centre's operator may add sessions
        "care:inst:99999999999999999999", "care:inst:2147483647", "care:sess:2147483647", "care:page:1000",
        "", "care", "care:", "care:inst:", "care:inst:abc", "care:inst:-1", "care:tog:nope",
    ]
    # Telegram delivers callback data as UTF-8: a lone surrogate cannot arrive (the codec test covers it).
    forged = [data for data in forged if _utf8(data)]
    assert len(forged) > 150
    async with running_application(app):
        results = await _open_results(api, app)
        filters_before = dict(load_state(engine, PARENT, "care").data["search"])
        before = _snapshot(engine)
        for data in forged:
            answers, since = len(api.callback_answers), api.seq
            api.user_taps_button(PARENT, results.message_id, data, stale_ok=True)
            answered = await _answered(api, app, answers, since)
            assert answered, f"no answer to {data!r}"
            assert not errors, f"{data!r} raised {errors[0]!r}"
        assert _snapshot(engine) == before
        state = load_state(engine, PARENT, "care").data["search"]
        for key in ("age", "budget", "date", "service"):
            assert state.get(key) == filters_before.get(key), f"a forged value stuck in the {key} filter"
        # And the flow still works afterwards.
        since = api.seq
        api.user_taps_button(PARENT, results.message_id, "care:set:age:24", stale_ok=True)
        await settle(api, app)
        assert "月龄 24个月" in api.changes_since(since, PARENT)[-1].text
    assert not any("出了点问题" in m.text for m in api.messages_to(PARENT) if m.text)


async def test_callback_without_message_and_group_chats(fake_bot_api, app_for, centre, engine):
    api = fake_bot_api.api
    app = app_for(fake_bot_api)
    _, session_id = centre
    book(engine, session_id, PARENT, 24, idempotency_key="mine")
    errors = record_errors(app)
    group = -100777
    async with running_application(app):
        # A callback query without a message (e.g. from an inline message).
        api.add_user(PARENT)
        query_id = "9990001"
        with api._lock:
            api._callback_queries[query_id] = (PARENT, f"care:sess:{session_id}")
            api._queue_update("callback_query", {
                "id": query_id, "from": api._user(PARENT).as_user(), "chat_instance": "ci",
                "inline_message_id": "inline-1", "data": f"care:sess:{session_id}",
            })
        await settle(api, app)
        assert api.callback_answers[-1].callback_query_id == query_id
        assert "失效" in api.callback_answers[-1].text

        # In a group, /bookings and booking buttons answer with "use a private chat": no code, no age.
        api.add_user(group)  # the fake API then accepts messages to this chat id
        code = run_unit(engine, booking.list_bookings, PARENT)[0].code
        for text in ("/bookings", "/today", "/addsession 2030-01-01 09:00-12:00 临时托 5 100"):
            with api._lock:
                message = {
                    "message_id": api._new_message_id(group), "from": api._user(PARENT).as_user(), "date": 0,
                    "chat": {"id": group, "type": "group", "title": "家长群"}, "text": text,
                    "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}],
                }
                api._messages[(group, message["message_id"])] = message  # so a reply can quote it
                api._queue_update("message", message)
            await settle(api, app)
            reply = api.messages_to(group)[-1]
            assert "私聊" in reply.text and code not in reply.text
    assert not errors
    assert len(run_unit(engine, booking.list_bookings, PARENT)) == 1


@pytest.mark.parametrize(
    ("typed", "outcome"),
    [
        ("两岁", "confirm:24"), ("2岁3个月", "confirm:27"), ("1岁半", "confirm:18"), ("1y6m", "confirm:18"),
        ("18 months", "confirm:18"), ("１８个月", "confirm:18"), ("①", "again"), ("100", "again"), ("-3", "again"),
        ("99999999999999999999", "again"), ("5个月", "again"), ("厦门每年新增多少个普惠托位？", "again"),
    ],
)
async def test_typed_child_age_stays_in_the_booking(asked_for_age, centre, engine, typed, outcome):
    session_id = centre[1]
    async with asked_for_age() as (api, app, errors):
        ask = api.messages_to(PARENT)[-1]
        assert "孩子多大" in ask.text and "12–36" in ask.text
        since = api.seq
        api.user_sends_text(PARENT, typed)
        await settle(api, app)
        reply = api.changes_since(since, PARENT)[-1]
        if outcome == "again":
            assert "12–36" in reply.text and "放弃" in reply.button_texts[0]
            assert load_state(engine, PARENT, "care").data["await"]["session"] == session_id
        else:
            months = outcome.split(":")[1]
            assert "请确认预约" in reply.text and f"孩子 {months} 个月" in reply.text and "120元" in reply.text
    assert not errors
    assert run_unit(engine, booking.list_bookings, PARENT) == []


async def test_prices_agree_from_card_to_operator(fake_bot_api, app_for, centre, engine):
    """The session's length and price read the same on the card, the confirmation, the booked message,
    /bookings, the reminder and the operator's notification."""
    from datetime import datetime

    from bot.handlers.care import send_due_reminders

    api = fake_bot_api.api
    api.add_user(OPERATOR)
    app = app_for(fake_bot_api)
    institution_id, session_id = centre
    same = "临时托·半天 09:00–12:00 120元"
    async with running_application(app):
        results = await _open_results(api, app)
        assert "临时托 半天 120元/次" not in results.text  # the list shows 全日托 by default
        api.user_taps_button(PARENT, results.message_id, "care:set:svc:temp", stale_ok=True)
        await settle(api, app)
        assert "临时托 半天 120元/次、全天 204元/次" in api.messages_to(PARENT)[-1].text or any(
            "临时托 半天 120元/次" in (m.text or "") for m in api.messages_to(PARENT)
        )
        api.user_taps_button(PARENT, results.message_id, f"care:inst:{institution_id}")
        await settle(api, app)
        card = next(m for m in reversed(api.messages_to(PARENT)) if m.kind == "message" and m.buttons)
        assert "临时托 半天 120元/次" in card.text and any(same in b for b in card.button_texts)
        assert any("余2位" in b for b in card.button_texts) and "长期托位 5/40 空余" in card.text
        api.user_taps_button(PARENT, card.message_id, card.callback_data("半天"))
        await settle(api, app)
        ask = api.messages_to(PARENT)[-1]
        assert same in ask.text
        api.user_taps_button(PARENT, ask.message_id, ask.callback_data("24个月"))
        await settle(api, app)
        confirm = api.messages_to(PARENT)[-1]
        assert same in confirm.text
        api.user_taps_button(PARENT, confirm.message_id, confirm.callback_data("确认"))
        await settle(api, app)
        assert same in api.messages_to(PARENT)[-1].text
        assert same in api.messages_to(OPERATOR)[-1].text
        api.user_sends_text(PARENT, "/bookings")
        await settle(api, app)
        assert same in api.messages_to(PARENT)[-1].text
        await send_due_reminders(app.bot, engine, now=datetime.combine(local_today(), time(10)))
        assert same in api.messages_to(PARENT)[-1].text


async def test_operator_with_two_centres_chooses(fake_bot_api, app_for, centre, engine):
    api = fake_bot_api.api
    api.add_user(OPERATOR)
    app = app_for(fake_bot_api)
    first_id, _ = centre
    with session_scope(engine) as session:
        second = Institution(
            name="第二托育园", city="厦门市", district="湖里区", lat=24.51, lon=118.14, services=["临时托"],
            fees={"临时托": 100}, total_places=10, free_places=2, operator_user_id=OPERATOR,
        )
        session.add(second)
        session.flush()
        second_id = second.id
    errors = record_errors(app)
    day = (local_today() + timedelta(days=2)).isoformat()
    async with running_application(app):
        for bad in ("", f"{day} 09:00-12:00 临时托 99999999999999999999 100", f"{day} 12:00-09:00 临时托 5 100",
                    f"{day} 09:00-12:00 全日托 5 100", f"{day} 09:00-12:00 临时托 -5 100",
                    f"{day} 09:00-12:00 临时托 5 1e400", "2020-01-01 09:00-12:00 临时托 5 100",
                    f"{day} 09:00-12:00 临时托 5 100 36-12", f"{day} 25:00-26:00 临时托 5 100"):
            since = api.seq
            api.user_sends_text(OPERATOR, f"/addsession {bad}".strip())
            await settle(api, app)
            assert "用法" in api.changes_since(since, OPERATOR)[-1].text
        before = _snapshot(engine)
        api.user_sends_text(OPERATOR, f"/addsession {day} 09:00-12:00 临时托 4 100 12-36")
        await settle(api, app)
        choose = api.messages_to(OPERATOR)[-1]
        assert "哪一家" in choose.text and len(choose.buttons) == 2
        assert _snapshot(engine) == before  # nothing added before the choice
        api.user_taps_button(OPERATOR, choose.message_id, choose.callback_data("第二托育园"))
        await settle(api, app)
        assert "已添加" in api.messages_to(OPERATOR)[-1].text and "第二托育园" in api.messages_to(OPERATOR)[-1].text
        # The same button again: the pending session is gone, nothing is added twice.
        api.user_taps_button(OPERATOR, choose.message_id, choose.callback_data("第二托育园"))
        await settle(api, app)
        api.user_sends_text(OPERATOR, "/today " + day)
        await settle(api, app)
        today = [m.text for m in api.messages_to(OPERATOR)[-2:]]
        assert any("阳光托育中心" in text for text in today) and any("第二托育园" in text for text in today)
    with session_scope(engine) as session:
        added = session.execute(select(CareSession.institution_id).where(CareSession.institution_id == second_id)).all()
        assert len(added) == 1
        assert first_id != second_id
    assert not errors


@pytest.mark.parametrize("ending", ["30 minutes", "/bookings", "damaged"])
async def test_an_abandoned_booking_stops_capturing_typed_text(asked_for_age, centre, engine, ending):
    """The wait for a typed age is stored with a wall-clock time (any process may read it): after
    `AGE_WAIT_S`, after /bookings, or when the stored wait is damaged, typed text is no longer taken as an age."""
    import time as clock

    from bot.handlers.care import AGE_WAIT_S
    from tests.unit_of_work import save_state

    session_id = centre[1]
    async with asked_for_age() as (api, app, errors):
        snapshot = load_state(engine, PARENT, "care")
        assert snapshot.data["await"]["session"] == session_id
        assert abs(snapshot.data["await"]["at"] - clock.time()) < 60, "a wall-clock time, not a monotonic one"
        if ending == "/bookings":
            api.user_sends_text(PARENT, "/bookings")
            await settle(api, app)
        else:
            data = dict(snapshot.data)
            data["await"] = (
                {**data["await"], "at": clock.time() - AGE_WAIT_S - 60} if ending == "30 minutes"
                else {"kind": "age", "session": "1; DROP TABLE", "at": "yesterday"}
            )
            save_state(engine, PARENT, "care", data, expected_version=snapshot.version)
        since = api.seq
        api.user_sends_text(PARENT, "20")
        await settle(api, app)
        assert not any("请确认预约" in (m.text or "") or "12–36" in (m.text or "")
                       for m in api.changes_since(since, PARENT)), "the old booking still captured the text"
        assert "await" not in load_state(engine, PARENT, "care").data
        assert load_state(engine, PARENT, "care").data["search"], "the search itself is kept"
    assert not errors
