"""End to end over the demo data, in Chinese and English: the 杨舍 + 困境婴幼儿减免 crash of issue 8 §1, a
place with no data (Beijing), filters carried into a new /find (announced), a service change that has to
clear the budget (announced), clearing all filters."""

from __future__ import annotations

import pytest

from bot.console_transport import running_application
from db.care.demo_data import generate_demo
from db.core.engine import run_unit
from db.core.timeutil import local_today
from tests.care_harness import settle
from tests.e2e_harness import record_errors
from tests.unit_of_work import load_state

ZH_PARENT, EN_PARENT = 8181, 8282
WORDS = {
    "zh": {"reduction": "困境婴幼儿", "back": "返回列表", "cities": "厦门市、张家港市", "kept": "沿用了上次的筛选",
           "cleared_budget": "已清除", "all_cleared": "已清除全部筛选", "lang": "zh"},
    "en": {"reduction": "hardship reduction", "back": "Back to list", "cities": "Xiamen, Zhangjiagang",
           "kept": "previous filters still apply", "cleared_budget": "was cleared", "all_cleared": "All filters cleared",
           "lang": "en"},
}


@pytest.fixture
def demo(engine):
    run_unit(engine, generate_demo, today=local_today(), days=7)
    return engine


def _parent_session(server, make_app, lang: str):
    """(api, app, the parent speaking `lang`, the errors the app's handlers raise) for one test."""
    app = make_app(server)
    return server.api, app, ZH_PARENT if lang == "zh" else EN_PARENT, record_errors(app)


async def _send(api, app, user: int, text: str, lang: str) -> None:
    """`user` sends `text` (their Telegram client in `lang`); returns once the bot is idle."""
    api.user_sends_text(user, text, language_code=lang)
    await settle(api, app)


async def _find(api, app, user: int, place: str, lang: str):
    """`user` starts /find and types `place`; the results message (the last one with buttons)."""
    await _send(api, app, user, "/find", lang)
    await _send(api, app, user, place, lang)
    return [m for m in api.messages_to(user) if m.buttons][-1]


async def _tap(api, app, user: int, message, data: str, *, stale_ok: bool = False):
    """`user` taps `data` on `message` (a button it shows now, unless `stale_ok`); that message as it reads once
    the bot is idle."""
    api.user_taps_button(user, message.message_id, data, stale_ok=stale_ok)
    await settle(api, app)
    return next(m for m in api.messages_to(user) if m.message_id == message.message_id)


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_yangshe_reduction_toggle_and_back(fake_bot_api, app_for, demo, lang):
    api, app, user, errors = _parent_session(fake_bot_api, app_for, lang)
    words = WORDS[lang]
    async with running_application(app):
        results = await _find(api, app, user, "杨舍", lang)
        hardship = results.callback_data("减免" if lang == "zh" else "Hardship")
        current = await _tap(api, app, user, results, hardship)
        assert words["reduction"] in current.text and "500" in current.text, current.text
        # open a card, then back to the list: the filter stays on and nothing crashes
        await _tap(api, app, user, current, current.buttons[0][0][1])
        card = next(m for m in reversed(api.messages_to(user)) if m.kind == "message" and m.buttons)
        back = await _tap(api, app, user, card, card.callback_data(words["back"]))
        assert words["reduction"] in back.text
        # a typed place afterwards is still a place, not a policy question
        await _find(api, app, user, "锦丰", lang)
        assert words["kept"] in api.messages_to(user)[-1].text
    assert not errors
    assert not any("出了点问题" in (m.text or "") or "went wrong" in (m.text or "") for m in api.messages_to(user))


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_beijing_budget_reset_and_clear(fake_bot_api, app_for, demo, lang):
    api, app, user, errors = _parent_session(fake_bot_api, app_for, lang)
    words = WORDS[lang]
    async with running_application(app):
        await _send(api, app, user, "/find", lang)
        api.user_shares_location(user, 39.9042, 116.4074, language_code=lang)  # Beijing: no data
        await settle(api, app)
        assert words["cities"] in api.messages_to(user)[-1].text

        results = await _find(api, app, user, "思明", lang)
        for data in ("care:f:budget", "care:set:budget:2000", "care:f:svc", "care:set:svc:half"):
            current = await _tap(api, app, user, results, data, stale_ok=True)
        assert "2000" in current.text and words["cleared_budget"] not in current.text  # same monthly basis: kept
        await _tap(api, app, user, results, "care:f:svc", stale_ok=True)
        current = await _tap(api, app, user, results, "care:set:svc:temp", stale_ok=True)
        assert words["cleared_budget"] in current.text and "2000" in current.text  # says which budget went
        assert load_state(demo, user, "care").data["search"].get("budget") is None
        current = await _tap(api, app, user, results, "care:clr", stale_ok=True)
        assert words["all_cleared"] in current.text
        assert not any(load_state(demo, user, "care").data["search"].get(k) for k in ("age", "budget", "service", "date"))
    assert not errors
