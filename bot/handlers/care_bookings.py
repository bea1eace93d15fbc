"""A parent's bookings: /bookings (upcoming bookings and waitlist entries) and cancelling one, which tells the
operator and offers the freed place to the first in line. Routed from `care`."""

from __future__ import annotations

import logging

from sqlmodel import Session
from telegram import Update

from bot.context import BotContext
from bot.handlers import care_views as views
from bot.handlers import care_waitlist
from bot.handlers.care_base import FLOW, _conflict, _error_text, _has_user, _refused, _safe_edit, _stale
from bot.handlers.care_notify import _notify_operator
from bot.handlers.common import require_private_chat
from bot.state import FlowState, StateConflict, flow_state
from bot.texts import t
from db.care import booking as bookings
from db.care import waitlist
from db.care.booking import BOOKING_CANCELLED

log = logging.getLogger(__name__)


async def bookings_command(update: Update, context: BotContext) -> None:
    """/bookings: upcoming bookings with cancel buttons (private chats only)."""
    if not _has_user(update) or not await require_private_chat(update, context):
        return
    lang = context.language
    try:
        async with flow_state(context, update.effective_user.id, FLOW) as state:
            state.pop("await", None)  # a half-finished booking stops capturing typed text
    except StateConflict:
        await _conflict(update, lang)
        return
    parent_id = update.effective_user.id

    def work(*, session: Session):
        return (
            bookings.list_bookings(parent_id, session=session),
            waitlist.entries_for_parent(parent_id, session=session),
        )

    found, queued = await context.db(work)
    if not found and not queued:
        await update.effective_message.reply_text(t("care_bookings_none", lang))
        return
    text, markup = views.render_bookings(found, lang, queued)
    await update.effective_message.reply_text(text, reply_markup=markup)


async def _on_cancel_ask(update: Update, context: BotContext, flow: FlowState, booking_id: int) -> None:
    """Ask before cancelling (only the parent's own bookings; anything else is a stale button)."""
    query = update.callback_query
    lang = context.language
    view = await context.db(bookings.get_booking, booking_id)
    if view is None or view.parent_id != update.effective_user.id:
        await _stale(update, lang)
        return
    if view.status == BOOKING_CANCELLED:
        await query.answer(t("care_err_already_cancelled", lang), show_alert=True)
        return
    await query.answer()
    text, markup = views.render_cancel_ask(view, lang)
    await context.bot.send_message(update.effective_chat.id, text, reply_markup=markup)


async def _on_cancel_yes(update: Update, context: BotContext, flow: FlowState, booking_id: int) -> None:
    """Cancel and free the place; an already-cancelled or someone else's booking gets a polite note."""
    query = update.callback_query
    lang = context.language
    parent_id, hold = update.effective_user.id, care_waitlist.hold_of(context)

    def work(*, session: Session):
        bookings.cancel_booking(booking_id, parent_id, None, hold, session=session)
        return bookings.get_booking(booking_id, session=session)

    try:
        view = await context.db(work)
    except bookings.BookingError as error:
        log.info("care cancel refused: %s", error.code)
        await _refused(update, lang, error.code, _error_text(error.code, lang))
        return
    await query.answer()
    await _safe_edit(query, t("care_cancelled", lang, code=view.code), None)
    await _notify_operator(context, view, "cancelled")
    await care_waitlist.send_offers(context.bot, context.runtime.engine)  # the freed place, offered to the first in line


async def _on_cancel_no(update: Update, context: BotContext, flow: FlowState) -> None:
    """Keep the booking."""
    await update.callback_query.answer()
    await _safe_edit(update.callback_query, t("care_kept", context.language), None)
