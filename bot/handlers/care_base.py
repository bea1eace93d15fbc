"""Small helpers every care handler module shares (`care`, `care_operator`, `care_notify`, `care_waitlist`):
the state-conflict and stale-button answers, safe edits and replies, echoing user text, units of work for jobs
and the session a button names."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import TypeVar

from sqlmodel import Session
from telegram import Update
from telegram.error import BadRequest

from bot.context import BotContext
from bot.texts import t, texts_of
from db.care.booking import get_booking
from db.care.booking_views import BookingView
from db.care.institutions import get_institution, get_session
from db.models import Booking, CareSession, Institution

T = TypeVar("T")

FLOW = "care"
_CARE_TEXTS = texts_of("care")


async def _conflict(update: Update, lang: str) -> None:
    """Another update of this parent changed the same state at the same moment: nothing was done, tap again."""
    if update.callback_query is not None:
        try:
            await update.callback_query.answer(t("care_state_conflict", lang), show_alert=True)
            return
        except BadRequest:  # the tap was answered already (Telegram takes one answer): say it in the chat
            pass
    if update.effective_chat is not None:
        await update.get_bot().send_message(update.effective_chat.id, t("care_state_conflict", lang))


async def _stale(update: Update, lang: str) -> None:
    await update.callback_query.answer(t("stale_button", lang) + " /find", show_alert=False)


async def _refused(update: Update, lang: str, code: str, text: str) -> None:
    """A rule said no to a tap: "this button has expired" when the thing is gone or not the user's (`not_found`),
    else `text` (the reason) as an alert."""
    if code == "not_found":
        await _stale(update, lang)
    else:
        await update.callback_query.answer(text, show_alert=True)


async def _safe_edit(query, text: str, markup) -> None:
    """Edit a message, ignoring "message is not modified" (a repeated tap changes nothing)."""
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest as error:
        if "not modified" not in str(error).lower():
            raise


async def _reply(update: Update, context: BotContext, text: str, markup=None) -> None:
    """Send into the chat the update came from (HTML)."""
    await context.bot.send_message(
        update.effective_chat.id, text, reply_markup=markup
    )


def _echo(text: str, limit: int = 40) -> str:
    """User text safe to echo back in HTML: no lone surrogates or control characters, short, escaped."""
    cleaned = "".join(ch for ch in text[:limit] if ch.isprintable() and not 0xD800 <= ord(ch) <= 0xDFFF)
    return html.escape(cleaned)


def _has_user(update: Update) -> bool:
    """Channel posts and anonymous updates have no user: the care flow ignores them."""
    return update.effective_user is not None and update.effective_chat is not None


def _error_text(code: str, lang: str) -> str:
    """A booking refusal in the parent's words."""
    return _error_text_in(code, lang, "care_err_")


def _error_text_in(code: str, lang: str, *prefixes: str) -> str:
    """A refusal in the user's words: the first `{prefix}{code}` text that exists, else the generic one."""
    for prefix in prefixes:
        if f"{prefix}{code}" in _CARE_TEXTS:
            return t(f"{prefix}{code}", lang)
    return t("care_err_other", lang)


def session_view(session_id: int, *, session: Session) -> tuple[CareSession, Institution] | None:
    """(care session, its institution), or None when the session is gone."""
    care = get_session(session_id, session=session)
    if care is None:
        return None
    return care, get_institution(care.institution_id, session=session)


def booked_view(
    book: Callable[..., tuple[Booking, bool]], /, *args, session: Session
) -> tuple[BookingView | None, bool]:
    """Book with `book(*args, session=…)` (a session booked, an offer taken) in the caller's unit of work;
    returns (the booking's view, whether this call created it)."""
    booked, created = book(*args, session=session)
    return get_booking(booked.id, session=session), created
