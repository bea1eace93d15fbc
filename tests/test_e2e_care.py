"""End to end: a parent shares a location, filters, opens a centre, books temporary care, lists and cancels
it; the operator is notified; the reminder arrives; stale and repeated taps are handled — all through the
real python-telegram-bot Application and a fake Bot API server over HTTP."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from bot.console_transport import running_application
from bot.handlers.care import send_due_reminders
from db.care import booking
from db.core.engine import run_unit
from db.core.timeutil import local_today
from tests.care_harness import HOME, OPERATOR, PARENT, settle, tap
from tests.db_fixtures import book
from tests.unit_of_work import clear_state


async def test_find_filter_details_book_list_cancel(fake_bot_api, app_for, centre, engine):
    api = fake_bot_api.api
    api.add_user(OPERATOR)
    app = app_for(fake_bot_api)
    institution_id, session_id = centre
    async with running_application(app):
        api.user_sends_text(PARENT, "/find")
        await settle(api, app)
        prompt = api.last_message(PARENT)
        assert "发送您的位置" in prompt.text and prompt.reply_keyboard

        since = api.seq
        api.user_shares_location(PARENT, *HOME)
        await settle(api, app)
        results = [m for m in api.changes_since(since, PARENT) if m.buttons][-1]
        assert "阳光托育中心" in results.text and "【普惠】" in results.text and "远方托育园" not in results.text
        assert "1.0 公里" in results.text and "全日托 1600元/月" in results.text

        await tap(api, app, results, "care:f:svc")
        [updated] = await tap(api, app, results, "care:set:svc:temp")
        assert "临时托 半天 120元/次、全天 204元/次" in updated.text and "筛选：临时托" in updated.text
        await tap(api, app, results, "care:tog:puhui")
        assert "☑️ 只看普惠" in api.last_message(PARENT).button_texts or any(
            "☑️ 只看普惠" in b for b in api.messages_to(PARENT)[-1].button_texts
        )

        changes = await tap(api, app, results, f"care:inst:{institution_id}")
        card = next(m for m in changes if m.kind == "message")
        venue = next(m for m in changes if m.kind == "venue")
        assert "0592-1234567" in card.text and "临时托 半天 120元/次" in card.text and "周一至周五" in card.text
        assert venue.latitude == pytest.approx(HOME[0] + 0.009)

        [ask_age] = await tap(api, app, card, f"care:sess:{session_id}")
        assert "孩子多大" in ask_age.text
        since = api.seq
        api.user_sends_text(PARENT, "5个月")
        await settle(api, app)
        assert "12–36" in api.changes_since(since, PARENT)[-1].text  # out of range: asked again, nothing booked
        since = api.seq
        api.user_sends_text(PARENT, "20")
        await settle(api, app)
        confirm = api.changes_since(since, PARENT)[-1]
        assert "请确认预约" in confirm.text and "孩子 20 个月" in confirm.text

        # A double tap on "confirm" (and Telegram re-delivering it) books once.
        api.user_taps_button(PARENT, confirm.message_id, confirm.callback_data("确认"))
        api.user_taps_button(PARENT, confirm.message_id, confirm.callback_data("确认"))
        await settle(api, app)
        booked = api.messages_to(PARENT)[-1]
        assert "预约成功" in booked.text
        views = run_unit(engine, booking.list_bookings, PARENT)
        assert len(views) == 1 and views[0].session_id == session_id
        code = views[0].code
        assert code in booked.text
        operator_messages = api.messages_to(OPERATOR)
        assert len(operator_messages) == 1 and code in operator_messages[0].text and "1/2" in operator_messages[0].text

        # The reminder the day before, once.
        sent = await send_due_reminders(app.bot, engine, now=datetime.combine(local_today(), time(10)))
        assert sent == 1 and code in api.messages_to(PARENT)[-1].text and "明天" in api.messages_to(PARENT)[-1].text
        assert await send_due_reminders(app.bot, engine, now=datetime.combine(local_today(), time(10))) == 0

        since = api.seq
        api.user_sends_text(PARENT, "/bookings")
        await settle(api, app)
        listing = api.changes_since(since, PARENT)[-1]
        assert code in listing.text and "阳光托育中心" in listing.text
        [ask] = await tap(api, app, listing, listing.callback_data("取消 1"))
        [done] = await tap(api, app, ask, ask.callback_data("确定取消"))
        assert "已取消" in done.text and code in done.text
        assert run_unit(engine, booking.list_bookings, PARENT) == []
        assert "已取消" in api.messages_to(OPERATOR)[-1].text

        # Old buttons after the cancel: polite answers, nothing changes.
        assert await tap(api, app, ask, f"care:cxy:{views[0].booking_id}") == []
        assert "已经取消" in api.callback_answers[-1].text
        await tap(api, app, listing, f"care:cx:{views[0].booking_id}")
        assert "已经取消" in api.callback_answers[-1].text


async def test_district_name_full_session_and_operator_commands(fake_bot_api, app_for, centre, engine):
    api = fake_bot_api.api
    api.add_user(OPERATOR)
    app = app_for(fake_bot_api)
    institution_id, session_id = centre
    for parent in (901, 902):
        book(engine, session_id, parent, 24, idempotency_key=f"k{parent}")
    async with running_application(app):
        api.user_sends_text(PARENT, "/find")
        await settle(api, app)
        since = api.seq
        api.user_sends_text(PARENT, "思明区")
        await settle(api, app)
        results = api.changes_since(since, PARENT)[-1]
        assert "厦门市思明区" in results.text and "阳光托育中心" in results.text

        since = api.seq
        api.user_sends_text(PARENT, "/find")
        await settle(api, app)
        api.user_sends_text(PARENT, "火星")
        await settle(api, app)
        assert "没有找到“火星”" in api.messages_to(PARENT)[-1].text

        # A question typed instead of a place goes to policy QA.
        since = api.seq
        api.user_sends_text(PARENT, "厦门每年新增多少个普惠托位？")
        await settle(api, app)
        assert "2000个普惠托位" in api.changes_since(since, PARENT)[-1].text

        # The session is full now: a polite no, and the card offers no such session.
        changes = await tap(api, app, results, f"care:ok:{session_id}:24")
        assert "约满" in api.callback_answers[-1].text
        assert changes == [] or "约满" in changes[-1].text

        # Stale buttons: a page button without a search in memory, an unknown institution.
        clear_state(engine, PARENT, "care")  # no search stored any more
        await tap(api, app, results, "care:page:1")
        assert "失效" in api.callback_answers[-1].text
        await tap(api, app, results, "care:inst:999999")
        assert "失效" in api.callback_answers[-1].text

        api.user_sends_text(OPERATOR, "/today " + (local_today() + timedelta(days=1)).isoformat())
        await settle(api, app)
        today = api.messages_to(OPERATOR)[-1].text
        assert "阳光托育中心" in today and today.count("已确认") == 2
        day = (local_today() + timedelta(days=3)).isoformat()
        api.user_sends_text(OPERATOR, f"/addsession {day} 14:00-17:00 临时托 4 100 12-36")
        await settle(api, app)
        assert "已添加" in api.messages_to(OPERATOR)[-1].text
        api.user_sends_text(OPERATOR, "/addsession tomorrow")
        await settle(api, app)
        assert "用法" in api.messages_to(OPERATOR)[-1].text
        api.user_sends_text(PARENT, "/today")
        await settle(api, app)
        assert "只对已关联托育机构的经营者开放" in api.messages_to(PARENT)[-1].text
