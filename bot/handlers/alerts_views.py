"""Policy-change alerts, the views: the callback data of every `al:` button and the pure builders of the texts and
keyboards (no I/O). Other handlers use `follow_button` (under a policy answer) and `settings_row` (/start) from
here, so they need not import the alerts handlers."""

from __future__ import annotations

import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import alert_messages as words
from bot.callbacks import CallbackCodec, Id, Token
from bot.texts import t

CODEC = CallbackCodec("al")
_PLACE = Token(words.TOKEN_LENGTH, r"^[0-9a-f]+$")
A_FOLLOW = CODEC.action("f", _PLACE)
A_UNFOLLOW = CODEC.action("u", _PLACE)
A_ASK = CODEC.action("ask", Id())
A_LIST = CODEC.action("ls")


def follow_button(city_or_key: str, lang: str) -> InlineKeyboardButton | None:
    """The "🔔 关注XX政策更新" button for a city an answer is about (None when no place is known)."""
    key = words.place_key(city_or_key)
    if not key or key == words.EVERYONE:
        return None
    return InlineKeyboardButton(
        t("al_btn_follow", lang, place=words.place_name(key, short=True)),
        callback_data=CODEC.encode(A_FOLLOW, words.place_token(key)),
    )


def settings_row(lang: str) -> list[InlineKeyboardButton]:
    """The /start settings entry: one button opening the alerts screen."""
    return [InlineKeyboardButton(t("al_btn_settings", lang), callback_data=CODEC.encode(A_LIST))]


def alert_keyboard(generation: int, lang: str) -> InlineKeyboardMarkup:
    """The buttons under an alert: ask about the document, manage alerts."""
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(t("al_btn_ask", lang), callback_data=CODEC.encode(A_ASK, generation)),
        InlineKeyboardButton(t("al_btn_manage", lang), callback_data=CODEC.encode(A_LIST)),
    ]])


def alerts_screen(followed: list[str], offered: list[str], lang: str) -> tuple[str, InlineKeyboardMarkup | None]:
    """/alerts: the places followed (each with a button to stop), and buttons to follow the `offered` ones."""
    rows = [[InlineKeyboardButton(t("al_btn_unfollow", lang, place=words.place_name(k, short=True)),
                                  callback_data=CODEC.encode(A_UNFOLLOW, words.place_token(k)))] for k in followed]
    follow_buttons = [b for b in (follow_button(k, lang) for k in offered) if b is not None]
    rows += [follow_buttons[i:i + 2] for i in range(0, len(follow_buttons), 2)]
    if followed:
        names = "\n".join(f"• {html.escape(words.place_name(k))}" for k in followed)
        text = t("al_list_title", lang, places=names)
    else:
        text = t("al_list_empty", lang)
    return text, InlineKeyboardMarkup(rows) if rows else None
