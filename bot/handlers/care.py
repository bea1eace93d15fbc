"""Find care nearby and book temporary care: /find, locations, filters, details, booking, /bookings,
reminders, and the operator's /today and /addsession. This module holds the dispatcher, the typed text the
flow awaits, details and booking; finding and filters live in `care_find`, /bookings and cancelling in
`care_bookings`, reminders and operator notes in `care_notify`, /today and /addsession in `care_operator`,
shared helpers in `care_base`. The waitlist of full sessions (join, offers with
Take/Pass, leave, its job) lives in `care_waitlist`; its buttons are care actions routed here.

Handlers stay thin: parse the update, call `db/`, render with `care_views`. Every care button is declared in
`care_views.CODEC` and arrives at one dispatcher, `on_callback`, which decodes it (forged, stale or damaged
data gets a polite "this button has expired" and changes nothing) and routes it by action.

State lives in the database, not in the process (`bot.state`, flow "care"), so a restart or another worker
continues where the parent was. Its keys:

* "search": the place (`place`, or `lat`/`lon`/`radius`), the filters (`views.FILTER_KEYS`), the `page`, and a
  one-time `notice`;
* "await": what typed text means now: "place", or {"kind": "age", "session": id, "at": epoch seconds} while a
  booking waits for the child's age (for `AGE_WAIT_S`);
* "addsession": the session an operator of several centres typed, until they choose the centre.

Each update opens the state once (`flow_state`) and saves it before answering; a tap racing another update of
the same parent on another worker gets "please tap again" (`StateConflict`). Every button that acts on the
database carries the ids it needs. Personal things (booking, /bookings, cancelling, /today) answer only in a
private chat.
"""

from __future__ import annotations

import html
import logging
import time
from datetime import datetime

from sqlmodel import Session
from telegram import Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.callbacks import CallbackError
from bot.context import BotContext
from bot.handlers import care_views as views
from bot.handlers import care_waitlist
from bot.handlers.care_base import (
    FLOW,
    _conflict,
    _echo,
    _error_text,
    _has_user,
    _reply,
    _safe_edit,
    _stale,
    booked_view,
    session_view,
)
from bot.handlers.care_bookings import _on_cancel_ask, _on_cancel_no, _on_cancel_yes, bookings_command
from bot.handlers.care_find import (
    _new_search,
    _on_clear,
    _on_filter_menu,
    _on_page,
    _on_set_age,
    _on_set_budget,
    _on_set_date,
    _on_set_service,
    _on_toggle,
    _search_state,
    _search_with_fallbacks,  # noqa: F401  (tests reach it through `care`)
    find_command,
    on_location,
)
from bot.handlers.care_notify import (  # noqa: F401  (public names callers and tests reach through `care`)
    _notify_operator,
    _reminder_job,
    send_due_reminders,
    send_operator_note,
    send_pending_operator_notes,
)
from bot.handlers.care_operator import _on_add_at, addsession_command, today_command
from bot.handlers.care_views import CODEC  # noqa: F401  (the care buttons' codec, for tests and registration)
from bot.handlers.common import require_private_chat
from bot.state import FlowState, StateConflict, flow_state
from bot.texts import t
from db.care import booking as bookings
from db.care import search as care_search
from db.care.child_age import parse_child_age
from db.care.institutions import get_institution, get_session, list_sessions
from db.core.timeutil import to_local
from db.models import CareSession

log = logging.getLogger(__name__)
REMINDER_INTERVAL_S = 600
AGE_WAIT_S = 30 * 60  # a booking left half-way this long no longer captures typed text


# --- small helpers ----------------------------------------------------------------------------------------------


def _await_age(state: FlowState, session_id: int) -> None:
    """From now on typed text is the child's age for this session (until confirmed, dropped or `AGE_WAIT_S` old;
    wall-clock time, as another process may read it)."""
    state["await"] = {"kind": "age", "session": session_id, "at": time.time()}


async def on_awaited_text(update: Update, context: BotContext) -> None:
    """Text while the flow waits for a place or a child's age; other text falls through to policy QA."""
    if not _has_user(update) or update.effective_message is None:
        return
    try:
        async with flow_state(context, update.effective_user.id, FLOW) as state:
            handled = await _awaited_text(update, context, state)
    except StateConflict:
        await _conflict(update, context.language)
        handled = True
    if handled:
        raise ApplicationHandlerStop


def _age_hold_expired(awaiting: dict) -> bool:
    """Whether a booking's wait for a typed age is over (`AGE_WAIT_S`; a damaged time counts as over)."""
    at = awaiting.get("at")
    return not isinstance(at, int | float) or not 0 <= time.time() - at <= AGE_WAIT_S


async def _awaited_text(update: Update, context: BotContext, state: FlowState) -> bool:
    """Handle text the flow waits for; True when it was the flow's (stop there), False to let others see it."""
    awaiting = state.get("await")
    if not awaiting:
        return False
    text = " ".join((update.effective_message.text or "").split())
    lang = context.language
    if awaiting == "place":
        if care_search.find_place(text) is None:
            if len(text) > 12 or "?" in text or "？" in text:
                state.pop("await", None)
                return False  # a question, not a place: let policy QA answer it
            await update.effective_message.reply_text(
                t("care_unknown_place", lang, name=_echo(text), cities=html.escape(views.covered_cities(lang))),
            )
            return True
        await _new_search(update, context, state, place=text)
        return True
    if isinstance(awaiting, dict) and awaiting.get("kind") == "age" and isinstance(awaiting.get("session"), int):
        if _age_hold_expired(awaiting):
            state.pop("await", None)
            return False  # an old, abandoned booking: the text is something else
        await _typed_age(update, context, state, awaiting["session"], text)
        return True
    state.pop("await", None)  # a damaged or unknown wait: forget it
    return False


async def _session_gone(update: Update, context: BotContext, flow: FlowState) -> None:
    """The session of a booking in progress is gone: stop capturing typed text and say so."""
    flow.pop("await", None)
    await flow.save()
    await _reply(update, context, t("care_err_not_found", context.language))


async def _ask_age_again(
    update: Update, context: BotContext, flow: FlowState, session: CareSession, *, unreadable: bool
) -> None:
    """The age was not understood or does not fit the session: say so and offer the session's ages again."""
    age_filter = (_search_state(flow) or {}).get("age")
    body, markup = views.age_retry(session, context.language, unreadable=unreadable, age_filter=age_filter)
    await _reply(update, context, body, markup)


async def _typed_age(
    update: Update, context: BotContext, state: FlowState, session_id: int, text: str
) -> None:
    """A typed child age during a booking: understood → confirm; not understood → ask again (still booking)."""
    session = await context.db(get_session, session_id)
    if session is None:
        await _session_gone(update, context, state)
        return
    months = parse_child_age(text)
    log.info("care typed age: understood=%s", months is not None)
    if months is None or not session.age_min_months <= months <= session.age_max_months:
        await _ask_age_again(update, context, state, session, unreadable=months is None)
        return
    await _confirm(update, context, state, session_id, months)


# --- callbacks: one dispatcher ----------------------------------------------------------------------------------


async def on_callback(update: Update, context: BotContext) -> None:
    """Every `care:` button: decode with the codec, refuse anything forged or stale, route by action."""
    query = update.callback_query
    if query is None or update.effective_user is None:
        return
    lang = context.language
    try:
        decoded = CODEC.decode(query.data)
    except CallbackError:
        log.info("care: refused callback data (%s bytes)", len((query.data or "").encode("utf-8", "surrogatepass")))
        await _stale(update, lang)
        return
    if query.message is None:  # an inline message or one too old to reach: nothing to edit or reply to
        await _stale(update, lang)
        return
    if decoded.action in _PRIVATE_ACTIONS and not await require_private_chat(update, context):
        return
    handler = _ROUTES[decoded.action]
    try:
        async with flow_state(context, update.effective_user.id, FLOW) as state:
            await handler(update, context, state, *decoded.args)
    except StateConflict:
        await _conflict(update, lang)


# --- details and booking ----------------------------------------------------------------------------------------


def _card_data(institution_id: int, state: dict, *, session: Session):
    institution = get_institution(institution_id, session=session)
    if institution is None:
        return None
    day = datetime.fromisoformat(state["date"]).date() if state.get("date") else None
    # Full sessions stay on the card: their button leads to the waitlist instead of a dead end.
    now = to_local(None)
    slots = [
        s for s in list_sessions(institution.id, session=session, date_from=day, days=1 if day else 7)
        if (s.date, s.start_time) > (now.date(), now.time().replace(tzinfo=None))
    ]
    if state.get("service") in ("临时托", "计时托"):
        slots = [s for s in slots if s.service == state["service"]]
    if state.get("age") is not None:
        slots = [s for s in slots if s.age_min_months <= state["age"] <= s.age_max_months]
    return institution, slots


async def _on_institution(
    update: Update, context: BotContext, flow: FlowState, institution_id: int
) -> None:
    """Details card (fees, hours, address, sessions) and a map pin."""
    query = update.callback_query
    lang = context.language
    state = _search_state(flow) or {}
    found = await context.db(_card_data, institution_id, state)
    if found is None:
        await _stale(update, lang)
        return
    institution, slots = found
    await query.answer()
    await _reply(update, context, views.render_card(institution, slots, lang), views.card_keyboard(slots, state, lang))
    await context.bot.send_venue(
        update.effective_chat.id, institution.lat, institution.lon, institution.name[:64],
        (institution.address or institution.district)[:64],
    )


async def _on_session(update: Update, context: BotContext, flow: FlowState, session_id: int) -> None:
    """A session was chosen: ask the child's age (offering the age filter first, never assuming it)."""
    query = update.callback_query
    lang = context.language
    found = await context.db(session_view, session_id)
    if found is None:
        await query.answer(t("care_err_not_found", lang), show_alert=True)
        return
    await query.answer()
    session, institution = found
    text, markup = views.ask_age(session, institution, lang, (_search_state(flow) or {}).get("age"))
    _await_age(flow, session_id)
    await flow.save()
    await _reply(update, context, text, markup)


async def _on_age(
    update: Update, context: BotContext, flow: FlowState, session_id: int, months: int
) -> None:
    """The child's age chosen with a button."""
    await update.callback_query.answer()
    await _confirm(update, context, flow, session_id, months)


async def _confirm(
    update: Update, context: BotContext, flow: FlowState, session_id: int, months: int
) -> None:
    """Show the summary to confirm (the age fits the session), or ask the age again."""
    lang = context.language
    found = await context.db(session_view, session_id)
    if found is None:
        await _session_gone(update, context, flow)
        return
    session, institution = found
    if not session.age_min_months <= months <= session.age_max_months:
        _await_age(flow, session_id)
        await flow.save()
        await _ask_age_again(update, context, flow, session, unreadable=False)
        return
    flow.pop("await", None)
    await flow.save()
    if session.booked >= session.capacity:
        full = await care_waitlist.full_session_markup(context, session_id, months, lang)
        if full is not None:
            await _reply(update, context, *full)
            return
    text, markup = views.render_confirm(session, institution, months, lang)
    await _reply(update, context, text, markup)


async def _on_confirm(
    update: Update, context: BotContext, flow: FlowState, session_id: int, months: int
) -> None:
    """Book. The confirm message's id is the idempotency key: a double tap or a re-delivered update books once."""
    query = update.callback_query
    lang = context.language
    user_id = update.effective_user.id
    request = bookings.BookingRequest(
        session_id, user_id, months, idempotency_key=f"tg:{user_id}:{query.message.chat_id}:{query.message.message_id}"
    )
    try:
        view, created = await context.db(booked_view, bookings.book_session_outcome, request)
    except bookings.BookingError as error:
        log.info("care booking refused: %s", error.code)
        message = _error_text(error.code, lang)
        full = None
        if error.code == "full":  # not a dead end: offer the waitlist
            full = await care_waitlist.full_session_markup(context, session_id, months, lang)
        await query.answer(message, show_alert=full is None)
        if full is not None:
            await _safe_edit(query, *full)
        elif error.code in ("full", "past", "not_found"):
            await _safe_edit(query, message, None)
        return
    await query.answer()
    await _safe_edit(query, views.render_booked(view, lang), None)
    if created:
        log.info("care booking %s created", view.booking_id)
    # Also when not created: a re-delivered tap after a crash sends the note the first worker could not; the
    # claim in the database makes sure it goes out once.
    await _notify_operator(context, view, "booked")


async def _on_drop(update: Update, context: BotContext, flow: FlowState) -> None:
    """The parent changed their mind before confirming."""
    flow.pop("await", None)
    await flow.save()
    await update.callback_query.answer()
    await _safe_edit(update.callback_query, t("care_flow_dropped", context.language), None)


_ROUTES = {
    views.A_FILTER: _on_filter_menu,
    views.A_SET_AGE: _on_set_age,
    views.A_SET_BUDGET: _on_set_budget,
    views.A_SET_SERVICE: _on_set_service,
    views.A_SET_DATE: _on_set_date,
    views.A_TOGGLE: _on_toggle,
    views.A_CLEAR: _on_clear,
    views.A_PAGE: _on_page,
    views.A_INSTITUTION: _on_institution,
    views.A_SESSION: _on_session,
    views.A_AGE: _on_age,
    views.A_CONFIRM: _on_confirm,
    views.A_DROP: _on_drop,
    views.A_CANCEL_ASK: _on_cancel_ask,
    views.A_CANCEL_YES: _on_cancel_yes,
    views.A_CANCEL_NO: _on_cancel_no,
    views.A_ADD_AT: _on_add_at,
    views.A_WL_JOIN: care_waitlist.on_join,
    views.A_WL_TAKE: care_waitlist.on_take,
    views.A_WL_PASS: care_waitlist.on_pass,
    views.A_WL_LEAVE: care_waitlist.on_leave,
}
assert set(_ROUTES) == set(CODEC.actions), "every declared care action has a handler"
#: Buttons about a parent's own child, bookings and queues, or an operator's sessions: answered only in a
#: private chat (elsewhere `require_private_chat` points to it), checked here once for all of them.
_PRIVATE_ACTIONS = frozenset(
    {
        views.A_SESSION, views.A_AGE, views.A_CONFIRM, views.A_CANCEL_ASK, views.A_CANCEL_YES, views.A_ADD_AT,
        views.A_WL_JOIN, views.A_WL_TAKE, views.A_WL_PASS, views.A_WL_LEAVE,
    }
)


def register(application: Application) -> None:
    """Register the care flow (text awaited by the flow is looked at first, in group -1)."""
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_awaited_text), group=-1)
    application.add_handler(CommandHandler("find", find_command))
    application.add_handler(CommandHandler("bookings", bookings_command))
    application.add_handler(CommandHandler("today", today_command))
    application.add_handler(CommandHandler("addsession", addsession_command))
    application.add_handler(MessageHandler(filters.LOCATION, on_location))
    application.add_handler(CallbackQueryHandler(on_callback, pattern=CODEC.pattern))
    if application.job_queue is not None:
        application.job_queue.run_repeating(_reminder_job, interval=REMINDER_INTERVAL_S, first=5, name="care-reminders")
        # The waitlist: expire lapsed holds and send new offers; the first run right after start-up processes
        # holds that lapsed while the bot was down.
        application.job_queue.run_repeating(
            care_waitlist.waitlist_job, interval=care_waitlist.WAITLIST_INTERVAL_S, first=2, name="care-waitlist"
        )
