"""The operator's care commands: /today (the day's bookings and queues at each of their centres) and
/addsession (a new session, or more places in an existing one), with the centre chosen by a button when the
operator runs several. Routed from `care` (the A_ADD_AT button arrives at `care.on_callback`)."""

from __future__ import annotations

import html
import logging
from datetime import datetime

from sqlmodel import Session
from telegram import Update

from bot.context import BotContext
from bot.handlers import care_views as views
from bot.handlers import care_waitlist
from bot.handlers.care_base import FLOW, _conflict, _has_user, _reply, _stale
from bot.handlers.common import require_private_chat
from bot.state import FlowState, StateConflict, flow_state
from bot.texts import t
from db.care import booking as bookings
from db.care.institutions import institutions_of_operator
from db.care.session_spec import MAX_DAYS_AHEAD, SessionSpec, SpecError, parse_session_spec
from db.core.timeutil import local_today

log = logging.getLogger(__name__)


async def _operator_institutions(update: Update, context: BotContext) -> list:
    """The centres the user operates, in a private chat; [] (after saying why, where there is a user) otherwise."""
    if not _has_user(update) or not await require_private_chat(update, context):
        return []
    institutions = await context.db(institutions_of_operator, update.effective_user.id)
    if not institutions:
        await update.effective_message.reply_text(t("care_operator_only", context.language))
    return institutions


async def today_command(update: Update, context: BotContext) -> None:
    """/today [YYYY-MM-DD]: the day's bookings at each of the operator's institutions (private chats only)."""
    institutions = await _operator_institutions(update, context)
    if not institutions:
        return
    lang = context.language
    day = local_today()
    if context.args:
        try:
            day = datetime.strptime(context.args[0][:10], "%Y-%m-%d").date()
        except ValueError:
            day = local_today()

    def work(*, session: Session) -> list:
        return [
            (
                institution.name,
                bookings.bookings_for_institution_day(institution.id, day, session=session),
                care_waitlist.today_queues(institution.id, day, session=session),
            )
            for institution in institutions
        ]

    for name, found, queues in await context.db(work):
        await update.effective_message.reply_text(views.render_today(name, day, found, lang, queues))


async def addsession_command(update: Update, context: BotContext) -> None:
    """/addsession DATE START-END SERVICE PLACES PRICE [MIN-MAX]: an operator adds a session; an operator of
    several centres chooses which one with a button."""
    institutions = await _operator_institutions(update, context)
    if not institutions:
        return
    lang = context.language
    try:
        spec = parse_session_spec(list(context.args or []), local_today())
    except SpecError as error:
        log.info("addsession refused: %s", error.field)
        key = "care_addsession_usage" if error.field == "usage" else f"care_addsession_bad_{error.field}"
        text = t(key, lang, days=MAX_DAYS_AHEAD) if error.field == "date" else t(key, lang)
        if error.field != "usage":
            text += "\n\n" + t("care_addsession_usage", lang)
        await update.effective_message.reply_text(text)
        return
    if len(institutions) > 1:
        try:
            async with flow_state(context, update.effective_user.id, FLOW) as state:
                state["addsession"] = spec.to_dict()
        except StateConflict:
            await _conflict(update, lang)
            return
        text, markup = views.addsession_choose(spec, institutions, lang)
        await update.effective_message.reply_text(text, reply_markup=markup)
        return
    await _add_session(update, context, institutions[0], spec)


async def _on_add_at(update: Update, context: BotContext, flow: FlowState, institution_id: int) -> None:
    """The operator chose the centre for the session they typed."""
    lang = context.language
    pending = flow.get("addsession")
    institutions = await context.db(institutions_of_operator, update.effective_user.id)
    chosen = next((inst for inst in institutions if inst.id == institution_id), None)
    if pending is None or chosen is None:
        await _stale(update, lang)
        return
    flow.pop("addsession", None)
    await flow.save()
    await update.callback_query.answer()
    await _add_session(update, context, chosen, SessionSpec.from_dict(pending))


async def _add_session(update: Update, context: BotContext, institution, spec: SessionSpec) -> None:
    lang = context.language
    if await care_waitlist.resize_existing(update, context, institution, spec):
        return  # the same session exists: its places were changed (added places go to the waitlist first)
    try:
        await context.db(bookings.add_session, institution.id, spec, operator_user_id=update.effective_user.id)
    except bookings.BookingError as error:
        log.info("addsession refused by the rules: %s", error.code)
        if error.code == "past":
            reason = t("care_addsession_reason_past", lang)
        elif error.code == "invalid":
            reason = t("care_addsession_reason_ages", lang, min=institution.age_min_months, max=institution.age_max_months)
        else:
            reason = t("care_addsession_reason_other", lang)
        await _reply(update, context, t("care_addsession_error", lang, reason=html.escape(reason)))
        return
    await _reply(update, context, html.escape(views.render_addsession_done(institution.name, spec, lang)))
