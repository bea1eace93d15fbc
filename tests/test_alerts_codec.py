"""The `al:` callback codec: what the alert buttons carry, and forged data refused."""

from __future__ import annotations

import pytest

from bot.alert_messages import place_key, place_token, resolve_token
from bot.callbacks import CallbackError, sample_malformed
from bot.handlers.alerts_views import A_ASK, A_FOLLOW, A_LIST, CODEC, follow_button


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
