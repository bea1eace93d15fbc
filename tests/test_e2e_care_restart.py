"""kill -9 the real bot (`python -m bot run`, long polling against the fake Bot API over HTTP) in the middle of
a search and in the middle of a booking; a new process continues from the next tap on the old messages,
because the care flow keeps its state in the database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from db.care import booking
from db.core.engine import run_unit
from db.core.timeutil import local_today
from tests.db_fixtures import COMMUNITY_CENTRE, engine_url, make_institution, make_session
from tests.e2e_harness import WAIT, BotRuns, answer, quiet
from tests.unit_of_work import load_state

PARENT, OPERATOR = 9191, 9292


@pytest.fixture
def centre(db_engine):
    institution_id = make_institution(
        db_engine,
        **COMMUNITY_CENTRE | dict(name="白鹭托育中心", address="思明区测试路3号", lat=24.48, operator_user_id=OPERATOR),
    )
    session_id = make_session(
        db_engine, institution_id, local_today() + timedelta(days=2), capacity=2, price=120, age_min_months=12,
        age_max_months=36,
    )
    return institution_id, session_id


def _current(api, message_id: int):
    return next(m for m in api.messages_to(PARENT) if m.message_id == message_id)


async def test_kill_9_mid_search_and_mid_booking_then_the_next_tap_continues(
    db_engine, fake_bot_api, centre, tmp_path
):
    api = fake_bot_api.api
    api.add_user(OPERATOR)
    institution_id, session_id = centre
    with BotRuns(fake_bot_api, engine_url(db_engine), tmp_path) as runs:
        bot = runs.start()
        since = api.seq
        api.user_sends_text(PARENT, "/find")
        await answer(api, PARENT, since, lambda m: "发送您的位置" in (m.text or ""), bot)
        since = api.seq
        api.user_sends_text(PARENT, "思明区")
        results = await answer(api, PARENT, since, lambda m: bool(m.buttons) and "白鹭托育中心" in m.text, bot)
        since = api.seq
        api.user_taps_button(PARENT, results.message_id, "care:f:svc")
        await answer(api, PARENT, since, lambda m: m.message_id == results.message_id, bot)
        since = api.seq
        api.user_taps_button(PARENT, results.message_id, "care:set:svc:temp")
        await answer(api, PARENT, since, lambda m: m.message_id == results.message_id and "筛选：临时托" in m.text, bot)
        await quiet(api)

        bot.kill9()  # mid-search: the filters live on only in the database
        assert load_state(db_engine, PARENT, "care").data["search"]["service"] == "临时托"
        bot = runs.start()
        since = api.seq
        api.user_taps_button(PARENT, results.message_id, "care:tog:puhui")
        edited = await answer(api, PARENT, since, lambda m: m.message_id == results.message_id, bot)
        assert "筛选：临时托，普惠" in edited.text or "筛选：临时托，只看普惠" in edited.text, edited.text
        since = api.seq
        api.user_taps_button(PARENT, results.message_id, f"care:inst:{institution_id}")
        card = await answer(api, PARENT, since, lambda m: m.kind == "message" and "半天" in " ".join(m.button_texts), bot)
        since = api.seq
        api.user_taps_button(PARENT, card.message_id, card.callback_data("半天"))
        ask = await answer(api, PARENT, since, lambda m: "孩子多大" in (m.text or ""), bot)
        await quiet(api)

        bot.kill9()  # mid-booking: the session chosen waits for a typed age
        assert load_state(db_engine, PARENT, "care").data["await"]["session"] == session_id
        bot = runs.start()
        since = api.seq
        api.user_sends_text(PARENT, "20个月")
        confirm = await answer(api, PARENT, since, lambda m: "请确认预约" in (m.text or ""), bot)
        assert "孩子 20 个月" in confirm.text
        await quiet(api)

        bot.kill9()  # about to confirm
        bot = runs.start()
        since = api.seq
        api.user_taps_button(PARENT, confirm.message_id, confirm.callback_data("确认"))
        booked = await answer(api, PARENT, since, lambda m: "预约成功" in (m.text or ""), bot)
        [view] = run_unit(db_engine, booking.list_bookings, PARENT)
        assert view.session_id == session_id and view.child_age_months == 20 and view.code in booked.text
        await api.wait_for_bot(lambda m: view.code in (m.text or ""), timeout=WAIT, chat_id=OPERATOR, since=since)
        # The age buttons of the old question still work after yet another restart (a second child, same tap).
        await quiet(api)
        bot.kill9()
        bot = runs.start()
        since = api.seq
        api.user_taps_button(PARENT, ask.message_id, ask.buttons[0][0][1])
        again = await answer(api, PARENT, since, lambda m: "请确认预约" in (m.text or ""), bot)
        assert "白鹭托育中心" in again.text
        notes = api.messages_to(OPERATOR)
        assert len(notes) == 1 and view.code in notes[0].text
        assert "出了点问题" not in " ".join(m.text or "" for m in api.messages_to(PARENT))
