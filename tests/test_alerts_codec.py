"""The `al:` callback codec: what the alert buttons carry, and forged data refused; the views are HTML-safe."""

from __future__ import annotations

import pytest

from bot.alert_messages import place_key, place_token, resolve_token
from bot.callbacks import CallbackError, sample_malformed
from bot.handlers.alerts_dispatch import _send_one
from bot.handlers.alerts_views import A_ASK, A_FOLLOW, A_LIST, CODEC, alerts_screen, follow_button
from bot.texts import t
from db.knowledge import alerts


def test_buttons_round_trip_and_fit():
    key = place_key("张家港")
    assert key == "江苏省/苏州市/张家港市"
    button = follow_button("张家港市", "zh")
    assert button.text == "🔔 关注张家港政策更新"
    decoded = CODEC.decode(button.callback_data)
    assert decoded.action == A_FOLLOW and resolve_token(decoded.args[0], []) == key
    assert CODEC.decode(CODEC.encode(A_ASK, 42)).args == (42,)
    assert CODEC.decode(CODEC.encode(A_LIST)).action == A_LIST
    assert follow_button("全国", "zh") is None and follow_button("", "en") is None
    # A place outside the hierarchy resolves among the candidates given (documented cities, follows).
    assert resolve_token(place_token("某某新区"), ["某某新区"]) == "某某新区"


@pytest.mark.parametrize("data", sample_malformed(CODEC) + ["al:f:ABCDEF", "al:f:../..", "al:ask:0", "al:u:"])
def test_forged_data_is_refused_or_means_no_place(data):
    """Forged data fails to decode, or (a well-formed hex token) names no place: the tap changes nothing."""
    try:
        decoded = CODEC.decode(data)
    except CallbackError:
        return
    assert decoded.action in (A_FOLLOW, "u")
    assert resolve_token(decoded.args[0], ["江苏省/苏州市/张家港市"]) is None


def test_alerts_screen_is_html_safe_and_lists_follows_first():
    text, keyboard = alerts_screen(["江苏省/苏州市/张家港市", "A<B&C"], ["广东省/深圳市"], "zh")
    assert "• 张家港市" in text and "• A&lt;B&amp;C" in text and "<B" not in text
    labels = [[b.text for b in row] for row in keyboard.inline_keyboard]
    assert labels == [["❌ 取消关注张家港"], ["❌ 取消关注A<B&C"], ["🔔 关注深圳政策更新"]]
    assert alerts_screen([], [], "en") == (t("al_list_empty", "en"), None)


async def test_an_alert_is_sent_as_escaped_html():
    sent = []

    class Bot:
        async def send_message(self, chat_id, text, **kwargs):
            sent.append((chat_id, text))

    delivery = alerts.Delivery(1, 7, 42, "zh", "《A&B》 <1元> → 2元", "doc")
    assert await _send_one(Bot(), delivery) == ("sent", "", 0.0)
    assert sent == [(42, "《A&amp;B》 &lt;1元&gt; → 2元")]
