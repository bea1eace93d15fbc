"""Messages the bot sends on its own for the care flow: booking reminders and the operator's notes about
bookings and cancellations, each claimed in the database first so it goes out at most once across workers.

`care.register` schedules `_reminder_job`; `care_waitlist` reuses `_language_of` and `_release`.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.context import BotContext, unit_of_work
from bot.handlers import care_views as views
from db.accounts.users import get_language
from db.care import booking_notices as notices
from db.care.institutions import get_session
from db.core.engine import run_unit

log = logging.getLogger(__name__)
SENT, GIVE_UP, RETRY = "sent", "give_up", "retry"
send_message_errors = (Forbidden, BadRequest)


async def _deliver(bot, chat_id: int, text: str) -> str:
    """Send a message the bot sends on its own (reminder, operator note) and say how it went:

    SENT; GIVE_UP when it can never arrive (the user blocked the bot, the chat is gone: Forbidden, BadRequest)
    or may have arrived (a read/write timeout after the request went out) — sending again could repeat it;
    RETRY when it surely did not go out and may later (flood control, a refused or timed-out connection,
    Telegram's 5xx).
    """
    try:
        await bot.send_message(chat_id, text)
    except send_message_errors as error:
        log.info("message to %s refused for good: %s", chat_id, type(error).__name__)
        return GIVE_UP
    except RetryAfter:
        log.info("message to %s deferred: flood control", chat_id)
        return RETRY
    except TimedOut as error:
        cause = error.__cause__
        unsent = cause is not None and type(cause).__name__ in ("ConnectTimeout", "PoolTimeout")
        log.info("message to %s timed out (%s)", chat_id, "not sent" if unsent else "maybe sent")
        return RETRY if unsent else GIVE_UP
    except NetworkError as error:
        log.info("message to %s not sent: %s", chat_id, type(error).__name__)
        return RETRY
    return SENT


async def _release(engine, release, ref: int, *args) -> None:
    """Give claim `ref` back in its own unit of work; if even that fails, the message stays claimed (never sent
    twice)."""
    try:
        await unit_of_work(engine, release, ref, *args)
    except SQLAlchemyError:
        log.warning("claim %s could not be released; it stays claimed", ref)


async def send_operator_note(bot, engine, view, kind: str) -> bool:
    """Tell the centre's operator about a booking ("booked") or its cancellation ("cancelled"), at most once:
    claimed (and committed) in the database first, released again only when the send failed for a passing
    reason."""
    if not view.operator_user_id:
        return False
    try:
        mine = await unit_of_work(engine, notices.claim_operator_note, view.booking_id, kind)
    except SQLAlchemyError:
        log.warning("operator note %s of booking %s: claim failed, left for a later run", kind, view.booking_id)
        return False
    if not mine:
        return False
    lang = await asyncio.to_thread(_language_of, engine, view.operator_user_id)
    care = await unit_of_work(engine, get_session, view.session_id)
    booked, capacity = (care.booked, care.capacity) if care else (0, 0)
    text = views.render_operator_note(f"care_operator_{kind}", view, lang, booked, capacity)
    outcome = await _deliver(bot, view.operator_user_id, text)
    log.info("operator note %s of booking %s: %s", kind, view.booking_id, outcome)
    if outcome == RETRY:
        await _release(engine, notices.release_operator_note, view.booking_id, kind)
    return outcome == SENT


async def _notify_operator(context: BotContext, view, kind: str) -> None:
    await send_operator_note(context.bot, context.runtime.engine, view, kind)


def _language_of(engine, telegram_id: int) -> str:
    return run_unit(engine, get_language, telegram_id)


async def send_due_reminders(bot, engine, now: datetime | None = None) -> int:
    """Remind parents of tomorrow's bookings, each exactly once across runs and workers; returns how many this
    run sent. Each reminder is claimed (and committed) in the database before it is sent
    (`notices.claim_reminder`); a send that failed for a passing reason gives the claim back for the next run
    (see `_deliver`)."""
    due = await unit_of_work(engine, notices.due_reminders, now)
    sent = 0
    for view in due:
        try:
            mine = await unit_of_work(engine, notices.claim_reminder, view.booking_id, now)
        except SQLAlchemyError:
            log.warning("reminder of booking %s: claim failed, left for a later run", view.booking_id)
            continue
        if not mine:
            continue  # another worker or run has it
        lang = await asyncio.to_thread(_language_of, engine, view.parent_id)
        outcome = await _deliver(bot, view.parent_id, views.render_reminder(view, lang))
        log.info("reminder of booking %s: %s", view.booking_id, outcome)
        if outcome == SENT:
            sent += 1
        elif outcome == RETRY:
            await _release(engine, notices.release_reminder, view.booking_id)
    return sent


async def send_pending_operator_notes(bot, engine, now: datetime | None = None) -> int:
    """Operator notes nobody sent (a worker stopped between booking and notifying, or a send to retry)."""
    pending = await unit_of_work(engine, notices.pending_operator_notes, now)
    sent = 0
    for kind, view in pending:
        sent += await send_operator_note(bot, engine, view, kind)
    return sent


async def _reminder_job(context: BotContext) -> None:
    engine = context.runtime.engine
    await send_due_reminders(context.bot, engine)
    await send_pending_operator_notes(context.bot, engine)
