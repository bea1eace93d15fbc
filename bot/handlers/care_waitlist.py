"""The waitlist (排队) of full temporary-care sessions in the bot (issue 12 §1): join, take or pass an offered
place, leave a queue, and the periodic job that expires holds and sends offers.

Rules live in `db.care.waitlist`; this module only parses taps, calls it off the event loop and renders with
`care_views`. Buttons are care actions (`care_views.A_WL_*`) routed by `care.on_callback`, so forged or stale
data is refused there first; ids that decode but are not the parent's (another parent's offer, a gone entry)
get the same polite "this button has expired" and change nothing.

Offers go out exactly once, whatever the number of workers: `db.waitlist.claim_offer_notifications` hands each
offer to one caller (a conditional UPDATE). A send that failed for a passing reason gives the claim back
(`release_offer_notification`); a parent who blocked the bot passes the offer (the next in line gets it); a
send that may have arrived keeps the claim (never two offer messages).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session
from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.context import BotContext, unit_of_work
from bot.handlers import care_views as views
from bot.handlers.care_base import (
    _error_text_in,
    _refused,
    _safe_edit,
    booked_view,
    session_view,
)
from bot.handlers.care_notify import _language_of, _notify_operator, _release
from bot.state import FlowState
from bot.texts import t
from db.care import waitlist
from db.care.institutions import get_session, list_sessions

log = logging.getLogger(__name__)
WAITLIST_INTERVAL_S = 45
OFFER_BATCH = 50
SENT, BLOCKED, KEEP, RETRY = "sent", "blocked", "keep", "retry"


def hold_of(context: BotContext) -> timedelta:
    """How long a freed place is held for a waiting parent (setting `WAITLIST_HOLD_MINUTES`)."""
    return timedelta(minutes=context.runtime.settings.waitlist_hold_minutes)


def _error_text(code: str, lang: str) -> str:
    """A waitlist refusal in the parent's words (waitlist-specific text first, then the booking's)."""
    return _error_text_in(code, lang, "care_wl_err_", "care_err_")


# --- a full session -----------------------------------------------------------------------------------------------


def _full_view(session_id: int, *, session: Session) -> views.FullSession | None:
    """The session, its institution and its queue length for the "join the waitlist" message, or None."""
    found = session_view(session_id, session=session)
    if found is None:
        return None
    return views.FullSession(*found, waitlist.queue_length(session_id, session=session))


async def full_session_markup(context: BotContext, session_id: int, months: int, lang: str):
    """The "this session is full — join the waitlist?" text and buttons, or None when the session is gone."""
    full = await context.db(_full_view, session_id)
    if full is None:
        return None
    return views.render_waitlist_full(full, context.runtime.settings.waitlist_hold_minutes, months, lang)


async def on_join(
    update: Update, context: BotContext, flow: FlowState, session_id: int, months: int
) -> None:
    """Join a full session's queue; a place that freed meanwhile is offered for booking directly."""
    query = update.callback_query
    lang = context.language
    flow.pop("await", None)
    await flow.save()
    try:
        request = waitlist.PlaceRequest(session_id, update.effective_user.id, months)
        entry = await context.db(waitlist.join, request)
    except waitlist.WaitlistError as error:
        log.info("waitlist join refused: %s", error.code)
        if error.code == "not_full":
            found = await context.db(session_view, session_id)
            if found is not None:
                await query.answer()
                text, markup = views.render_confirm(found[0], found[1], months, lang)
                await _safe_edit(query, t("care_wl_not_full", lang) + "\n\n" + text, markup)
                return
        await _refused(update, lang, error.code, _error_text(error.code, lang))
        return
    await query.answer()
    log.info("waitlist joined entry=%s position=%s", entry.entry_id, entry.position)
    await _safe_edit(query, views.render_waitlist_joined(entry, lang), None)


# --- offers: take, pass -------------------------------------------------------------------------------------------


async def on_take(update: Update, context: BotContext, flow: FlowState, offer_id: int) -> None:
    """Take an offered place: a confirmed booking (code and price), the operator told once."""
    query = update.callback_query
    lang = context.language
    try:
        view, created = await context.db(booked_view, waitlist.take_offer_outcome, offer_id, update.effective_user.id)
    except waitlist.WaitlistError as error:
        log.info("waitlist take offer=%s refused: %s", offer_id, error.code)
        message = _error_text(error.code, lang)
        await _refused(update, lang, error.code, message)
        if error.code in ("expired", "passed"):
            await _safe_edit(query, message, None)
        return
    await query.answer()
    await _safe_edit(query, views.render_booked(view, lang), None)
    log.info("waitlist offer=%s taken booking=%s created=%s", offer_id, view.booking_id, created)
    await _notify_operator(context, view, "booked")  # claimed in the database: once


async def on_pass(update: Update, context: BotContext, flow: FlowState, offer_id: int) -> None:
    """Pass on an offered place: it goes to the next in line at once."""
    query = update.callback_query
    lang = context.language
    try:
        await context.db(waitlist.pass_offer, offer_id, update.effective_user.id)
    except waitlist.WaitlistError as error:
        log.info("waitlist pass offer=%s refused: %s", offer_id, error.code)
        await _refused(update, lang, error.code, _error_text(error.code, lang))
        return
    await query.answer()
    await _safe_edit(query, t("care_wl_passed", lang), None)
    await send_offers(context.bot, context.runtime.engine)


async def on_leave(update: Update, context: BotContext, flow: FlowState, entry_id: int) -> None:
    """Leave a queue (from /bookings); a place held for the entry goes to the next in line."""
    query = update.callback_query
    lang = context.language
    try:
        entry, left = await context.db(waitlist.leave_outcome, entry_id, update.effective_user.id)
    except waitlist.WaitlistError as error:
        log.info("waitlist leave entry=%s refused: %s", entry_id, error.code)
        await _refused(update, lang, error.code, _error_text(error.code, lang))
        return
    if not left:  # a second tap on the same button
        await query.answer(_error_text("not_waiting", lang), show_alert=True)
        return
    await query.answer()
    await context.bot.send_message(
        update.effective_chat.id, views.render_waitlist_left(entry, lang)
    )
    await send_offers(context.bot, context.runtime.engine)


def today_queues(institution_id: int, day: date, *, session: Session) -> list:
    """(session slot, queue length) of an institution's sessions on `day`, for /today."""
    slots = list_sessions(institution_id, session=session, date_from=day, days=1)
    lengths = waitlist.queue_lengths([s.session_id for s in slots], session=session)
    return [(s, lengths.get(s.session_id, 0)) for s in slots]


# --- operators: more places in an existing session ----------------------------------------------------------------


async def resize_existing(update: Update, context: BotContext, institution, spec) -> bool:
    """/addsession of a session that exists already (same centre, service, day and times) sets its number of
    places instead of adding a second one: added places are offered to the waitlist first, in the same
    transaction (`waitlist.change_capacity`). False when there is no such session (add it as usual)."""
    lang = context.language

    def same_session(*, session: Session):
        found = waitlist.find_same_session(institution.id, spec, session=session)
        return (found, get_session(found, session=session)) if found is not None else (None, None)

    session_id, before = await context.db(same_session)
    if session_id is None:
        return False
    try:
        change = waitlist.CapacityChange(session_id, spec.capacity, operator_user_id=update.effective_user.id)
        offers = await context.db(waitlist.change_capacity, change, hold=hold_of(context))
    except waitlist.WaitlistError as error:
        log.info("addsession capacity refused: %s", error.code)
        reason = t("care_addsession_reason_booked", lang, booked=before.booked if before else 0)
        if error.code != "invalid":
            reason = t("care_addsession_reason_other", lang)
        await context.bot.send_message(update.effective_chat.id, t("care_addsession_error", lang, reason=reason))
        return True
    log.info("addsession capacity session=%s offers=%s", session_id, len(offers))
    await context.bot.send_message(
        update.effective_chat.id,
        t("care_addsession_resized", lang, inst=institution.name, date=views.day_label(spec.day, lang),
          session=views.spec_session(spec, lang), old=before.capacity if before else "—", capacity=spec.capacity,
          offered=len(offers)),
    )
    await send_offers(context.bot, context.runtime.engine)
    return True


# --- sending: the periodic job ------------------------------------------------------------------------------------


async def _send(bot, chat_id: int, text: str, markup=None) -> str:
    """Send one waitlist message: SENT; BLOCKED (the parent blocked the bot or the chat is gone); RETRY (surely
    not sent, may later: flood control, refused connection, 5xx); KEEP (may have arrived — a timeout after the
    request went out — or was refused as malformed: sending again could repeat it or fail again; the hold then
    lapses normally)."""
    try:
        await bot.send_message(chat_id, text, reply_markup=markup)
    except Forbidden:
        log.info("waitlist message to %s refused: the bot is blocked", chat_id)
        return BLOCKED
    except BadRequest as error:
        gone = any(word in str(error).lower() for word in ("chat not found", "deactivated"))
        log.warning("waitlist message to %s refused: %s", chat_id, "chat gone" if gone else "bad request")
        return BLOCKED if gone else KEEP
    except RetryAfter:
        return RETRY
    except TimedOut as error:
        cause = error.__cause__
        unsent = cause is not None and type(cause).__name__ in ("ConnectTimeout", "PoolTimeout")
        return RETRY if unsent else KEEP
    except NetworkError as error:
        log.info("waitlist message to %s not sent: %s", chat_id, type(error).__name__)
        return RETRY
    return SENT


async def send_offers(bot, engine, now: datetime | None = None, limit: int = OFFER_BATCH) -> int:
    """Claim and send the offers not sent yet (each to exactly one worker); returns how many were sent.

    A parent who cannot be reached passes the offer, and the next parent's offer is claimed in the next round
    of this call (bounded: a few rounds, the job does the rest)."""
    sent = 0
    for _ in range(5):
        try:
            claimed = await unit_of_work(engine, waitlist.claim_offer_notifications, now, limit)
        except SQLAlchemyError:
            log.warning("waitlist offers: claim failed, left for a later run")
            return sent
        if not claimed:
            break
        passed_any = False
        for view in claimed:
            lang = await asyncio.to_thread(_language_of, engine, view.parent_id)
            text, markup = views.render_offer(view, lang)
            outcome = await _send(bot, view.parent_id, text, markup)
            log.info("waitlist offer=%s sent: %s", view.offer_id, outcome)
            if outcome == SENT:
                sent += 1
            elif outcome == RETRY:
                await _release(engine, waitlist.release_offer_notification, view.offer_id)
            elif outcome == BLOCKED:
                try:
                    await unit_of_work(engine, waitlist.pass_offer, view.offer_id, view.parent_id, now)
                    passed_any = True
                except (waitlist.WaitlistError, SQLAlchemyError) as error:
                    log.info("waitlist offer=%s not passed for a blocked parent: %s", view.offer_id, error)
        if not passed_any:
            break
    return sent


async def _expire(engine, now: datetime | None) -> list[waitlist.Offer]:
    """Expire lapsed holds, one unit of work per session (a failure leaves that session for a later run)."""
    try:
        session_ids = await unit_of_work(engine, waitlist.expiring_sessions, now)
    except SQLAlchemyError:
        log.warning("waitlist expiry failed, left for a later run")
        return []
    expired: list[waitlist.Offer] = []
    for session_id in session_ids:
        try:
            expired += await unit_of_work(engine, waitlist.expire_session_offers, session_id, now)
        except SQLAlchemyError:
            log.warning("waitlist expiry of session %s failed, left for a later run", session_id)
    return expired


async def expire_and_send(bot, engine, now: datetime | None = None) -> tuple[int, int]:
    """One run of the waitlist job: expire lapsed holds (telling those parents once), then send new offers.
    Safe on any number of workers and at start-up (holds that lapsed while the bot was down). Returns
    (offers expired, offers sent)."""
    expired = await _expire(engine, now)
    if expired:
        for view in await unit_of_work(engine, waitlist.offer_views, [o.offer_id for o in expired]):
            lang = await asyncio.to_thread(_language_of, engine, view.parent_id)
            outcome = await _send(bot, view.parent_id, views.render_offer_expired(view, lang))
            log.info("waitlist offer=%s expiry note: %s", view.offer_id, outcome)
    return len(expired), await send_offers(bot, engine, now)


async def waitlist_job(context: BotContext) -> None:
    """The repeating job (and its first run at start-up)."""
    await expire_and_send(context.bot, context.runtime.engine)
