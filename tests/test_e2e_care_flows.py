"""End to end over the demo data, in Chinese and English: the 杨舍 + 困境婴幼儿减免 crash of issue 8 §1, a
place with no data (Beijing), filters carried into a new /find (announced), a service change that has to
clear the budget (announced), clearing all filters."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from telegram.ext import Application

from bot.console_transport import running_application
from bot.local_api import LocalBotApi
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


@dataclass(frozen=True)
class _Parent:
    """The parent of one test, whose Telegram client speaks `lang`, talking to the bot `app` over the fake Bot
    API `api`; each step returns once the bot is idle."""

    api: LocalBotApi
    app: Application
    lang: str

    @property
    def user(self) -> int:
        return ZH_PARENT if self.lang == "zh" else EN_PARENT

    def messages(self) -> list:
        """Every message the bot sent the parent."""
        return self.api.messages_to(self.user)

    async def send(self, text: str) -> None:
        """The parent sends `text`."""
        self.api.user_sends_text(self.user, text, language_code=self.lang)
        await settle(self.api, self.app)

    async def find(self, place: str):
        """The parent starts /find and types `place`; the results message (the last one with buttons)."""
        await self.send("/find")
        await self.send(place)
        return [m for m in self.messages() if m.buttons][-1]

    async def tap(self, message, data: str, *, stale_ok: bool = False):
        """The parent taps `data` on `message` (a button it shows now, unless `stale_ok`); that message as it
        reads afterwards."""
        self.api.user_taps_button(self.user, message.message_id, data, stale_ok=stale_ok)
        await settle(self.api, self.app)
        return next(m for m in self.messages() if m.message_id == message.message_id)


def _parent_session(server, make_app, lang: str) -> tuple[_Parent, list]:
    """The parent speaking `lang` to a new Application, and the errors the app's handlers raise."""
    app = make_app(server)
    return _Parent(server.api, app, lang), record_errors(app)


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_yangshe_reduction_toggle_and_back(fake_bot_api, app_for, demo, lang):
    parent, errors = _parent_session(fake_bot_api, app_for, lang)
    words = WORDS[lang]
    async with running_application(parent.app):
        results = await parent.find("杨舍")
        hardship = results.callback_data("减免" if lang == "zh" else "Hardship")
        current = await parent.tap(results, hardship)
        assert words["reduction"] in current.text and "500" in current.text, current.text
        # open a card, then back to the list: the filter stays on and nothing crashes
        await parent.tap(current, current.buttons[0][0][1])
        card = next(m for m in reversed(parent.messages()) if m.kind == "message" and m.buttons)
        back = await parent.tap(card, card.callback_data(words["back"]))
        assert words["reduction"] in back.text
        # a typed place afterwards is still a place, not a policy question
        await parent.find("锦丰")
        assert words["kept"] in parent.messages()[-1].text
    assert not errors
    assert not any("出了点问题" in (m.text or "") or "went wrong" in (m.text or "") for m in parent.messages())


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_beijing_budget_reset_and_clear(fake_bot_api, app_for, demo, lang):
    parent, errors = _parent_session(fake_bot_api, app_for, lang)
    words, user = WORDS[lang], parent.user
    async with running_application(parent.app):
        await parent.send("/find")
        parent.api.user_shares_location(user, 39.9042, 116.4074, language_code=lang)  # Beijing: no data
        await settle(parent.api, parent.app)
        assert words["cities"] in parent.messages()[-1].text

        results = await parent.find("思明")
        for data in ("care:f:budget", "care:set:budget:2000", "care:f:svc", "care:set:svc:half"):
            current = await parent.tap(results, data, stale_ok=True)
        assert "2000" in current.text and words["cleared_budget"] not in current.text  # same monthly basis: kept
        await parent.tap(results, "care:f:svc", stale_ok=True)
        current = await parent.tap(results, "care:set:svc:temp", stale_ok=True)
        assert words["cleared_budget"] in current.text and "2000" in current.text  # says which budget went
        assert load_state(demo, user, "care").data["search"].get("budget") is None
        current = await parent.tap(results, "care:clr", stale_ok=True)
        assert words["all_cleared"] in current.text
        assert not any(load_state(demo, user, "care").data["search"].get(k) for k in ("age", "budget", "service", "date"))
    assert not errors
