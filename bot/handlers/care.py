"""Find care nearby and book temporary care: /find, locations, filters, details, booking, /bookings,
reminders, and the operator's /today and /addsession. The waitlist of full sessions (join, offers with
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

import asyncio
import html
import logging
import time
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError
from telegram import KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot import texts_care
from bot.callbacks import CallbackError
from bot.handlers import care_views as views
from bot.handlers import care_waitlist
from bot.handlers.care_views import CODEC  # noqa: F401  (the care buttons' codec, for tests and registration)
from bot.handlers.common import require_private_chat
from bot.runtime import runtime, user_language
from bot.state import FlowState, StateConflict, flow_state
from bot.texts import t
from db import booking as bookings
from db import care_search
from db.booking import BOOKING_CANCELLED
from db.child_age import parse_child_age
from db.geo import valid_coordinates
from db.institutions import get_institution, get_session, institutions_of_operator, list_sessions
from db.session_spec import MAX_DAYS_AHEAD, SessionSpec, SpecError, parse_session_spec
from db.timeutil import local_today, to_local

log = logging.getLogger(__name__)
FLOW = "care"
REMINDER_INTERVAL_S = 600
AGE_WAIT_S = 30 * 60  # a booking left half-way this long no longer captures typed text
send_message_errors = (Forbidden, BadRequest)
SENT, GIVE_UP, RETRY = "sent", "give_up", "retry"


# --- small helpers ----------------------------------------------------------------------------------------------


def _search_state(state: FlowState) -> dict | None:
    """The parent's current search (place, filters, page), or None when there is none."""
    found = state.get("search")
    return found if isinstance(found, dict) else None


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


async def _safe_edit(query, text: str, markup) -> None:
    """Edit a message, ignoring "message is not modified" (a repeated tap changes nothing)."""
    try:
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
    except BadRequest as error:
        if "not modified" not in str(error).lower():
            raise


async def _reply(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str, markup=None) -> None:
    """Send into the chat the update came from (HTML)."""
    await context.bot.send_message(
        update.effective_chat.id, text, parse_mode=ParseMode.HTML, reply_markup=markup
    )


def _await_age(state: FlowState, session_id: int) -> None:
    """From now on typed text is the child's age for this session (until confirmed, dropped or `AGE_WAIT_S` old;
    wall-clock time, as another process may read it)."""
    state["await"] = {"kind": "age", "session": session_id, "at": time.time()}


def _echo(text: str, limit: int = 40) -> str:
    """User text safe to echo back in HTML: no lone surrogates or control characters, short, escaped."""
    cleaned = "".join(ch for ch in text[:limit] if ch.isprintable() and not 0xD800 <= ord(ch) <= 0xDFFF)
    return html.escape(cleaned)


def _has_user(update: Update) -> bool:
    """Channel posts and anonymous updates have no user: the care flow ignores them."""
    return update.effective_user is not None and update.effective_chat is not None


# --- search -----------------------------------------------------------------------------------------------------


def _search(engine, state: dict, *, unfiltered: bool = False) -> care_search.SearchPage | None:
    kwargs: dict = {"limit": views.PAGE_SIZE, "offset": 0 if unfiltered else state.get("page", 0) * views.PAGE_SIZE}
    if not unfiltered:
        kwargs.update(
            age_months=state.get("age"),
            max_price=state.get("budget"),
            puhui_only=bool(state.get("puhui")),
            service=state.get("service"),
            date=datetime.fromisoformat(state["date"]).date() if state.get("date") else None,
            reduction_key=views.REDUCTION_KEY if state.get("reduction") else None,
        )
    if state.get("place"):
        return care_search.search_by_district(engine, state["place"], **kwargs)
    return care_search.search_nearby(
        engine, state["lat"], state["lon"], radius_km=state.get("radius", views.DEFAULT_RADIUS_KM), **kwargs
    )


def _search_with_fallbacks(engine, state: dict) -> tuple[care_search.SearchPage | None, bool]:
    """(page, whether anything at all is within reach). A page past the end goes back to the first page."""
    page = _search(engine, state)
    if page is not None and not page.results and page.total > 0 and state.get("page", 0) > 0:
        state["page"] = 0
        page = _search(engine, state)
    if page is None or page.total > 0:
        return page, True
    if not views.has_filters(state):
        return page, False
    everything = _search(engine, state, unfiltered=True)
    return page, bool(everything and everything.total)


async def _show_results(update: Update, context: ContextTypes.DEFAULT_TYPE, flow: FlowState, *, edit: bool) -> None:
    """Run the stored search, store the state, then show (or edit in place) the result list."""
    lang = user_language(update, context)
    state = flow["search"]
    notice = state.pop("notice", None)
    try:
        page, anything = await asyncio.to_thread(_search_with_fallbacks, runtime(context).engine, state)
    except care_search.SearchError as error:
        log.info("care search refused: %s", error.code)
        flow.pop("search", None)  # never keep a state that makes every later search fail
        await flow.save()
        await _reply(update, context, t("care_location_invalid", lang))
        return
    if page is None:
        flow.pop("search", None)
        flow["await"] = "place"
        await flow.save()
        await _reply(update, context, t("care_unknown_place", lang, name=_echo(state.get("place", "")),
                                        cities=html.escape(views.covered_cities(lang))))
        return
    await flow.save()
    if not anything:
        text, markup = views.render_no_data(lang, notice), views.no_data_keyboard(state, lang)
    else:
        text, markup = views.render_results(page, state, lang, notice), views.results_keyboard(page, state, lang)
    log.info("care search: total=%s page=%s", page.total, state.get("page", 0))
    if edit and update.callback_query is not None and update.callback_query.message is not None:
        await _safe_edit(update.callback_query, text, markup)
    else:
        await _reply(update, context, text, markup)


async def find_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/find: ask for a location or a district name."""
    if not _has_user(update):
        return
    lang = user_language(update, context)
    try:
        async with flow_state(context, update.effective_user.id, FLOW) as state:
            state["await"] = "place"
    except StateConflict:
        await _conflict(update, lang)
        return
    keyboard = ReplyKeyboardMarkup(
        [[KeyboardButton(t("care_btn_location", lang), request_location=True)]], resize_keyboard=True, one_time_keyboard=True
    )
    await update.effective_message.reply_text(t("care_ask_place", lang), reply_markup=keyboard)


async def on_location(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A shared location: search around it with the parent's current filters."""
    if not _has_user(update) or update.effective_message is None:
        return
    lang = user_language(update, context)
    location = update.effective_message.location
    if location is None or not valid_coordinates(location.latitude, location.longitude):
        await update.effective_message.reply_text(t("care_location_invalid", lang))
        return
    try:
        async with flow_state(context, update.effective_user.id, FLOW) as state:
            await _new_search(update, context, state, lat=location.latitude, lon=location.longitude)
    except StateConflict:
        await _conflict(update, lang)


async def _new_search(update: Update, context: ContextTypes.DEFAULT_TYPE, flow: FlowState, **where: object) -> None:
    """Search around a new point or place, keeping (and announcing) the parent's filters from before."""
    previous = _search_state(flow) or {}
    kept = {k: previous[k] for k in views.FILTER_KEYS if previous.get(k) not in (None, False)}
    search = {**kept, **where, "page": 0}
    if kept:
        search["notice"] = {"kind": "kept", "filters": dict(kept)}
    flow["search"] = search
    flow.pop("await", None)
    await update.effective_message.reply_text("🔎", reply_markup=ReplyKeyboardRemove())
    await _show_results(update, context, flow, edit=False)


async def on_awaited_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Text while the flow waits for a place or a child's age; other text falls through to policy QA."""
    if not _has_user(update) or update.effective_message is None:
        return
    try:
        async with flow_state(context, update.effective_user.id, FLOW) as state:
            handled = await _awaited_text(update, context, state)
    except StateConflict:
        await _conflict(update, user_language(update, context))
        handled = True
    if handled:
        raise ApplicationHandlerStop


def _age_hold_expired(awaiting: dict) -> bool:
    """Whether a booking's wait for a typed age is over (`AGE_WAIT_S`; a damaged time counts as over)."""
    at = awaiting.get("at")
    return not isinstance(at, int | float) or not 0 <= time.time() - at <= AGE_WAIT_S


async def _awaited_text(update: Update, context: ContextTypes.DEFAULT_TYPE, state: FlowState) -> bool:
    """Handle text the flow waits for; True when it was the flow's (stop there), False to let others see it."""
    awaiting = state.get("await")
    if not awaiting:
        return False
    text = " ".join((update.effective_message.text or "").split())
    lang = user_language(update, context)
    if awaiting == "place":
        if care_search.find_place(text) is None:
            if len(text) > 12 or "?" in text or "？" in text:
                state.pop("await", None)
                return False  # a question, not a place: let policy QA answer it
            await update.effective_message.reply_text(
                t("care_unknown_place", lang, name=_echo(text), cities=html.escape(views.covered_cities(lang))),
                parse_mode=ParseMode.HTML,
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


async def _typed_age(
    update: Update, context: ContextTypes.DEFAULT_TYPE, state: FlowState, session_id: int, text: str
) -> None:
    """A typed child age during a booking: understood → confirm; not understood → ask again (still booking)."""
    lang = user_language(update, context)
    session = await asyncio.to_thread(get_session, runtime(context).engine, session_id)
    if session is None:
        state.pop("await", None)
        await state.save()
        await _reply(update, context, t("care_err_not_found", lang))
        return
    months = parse_child_age(text)
    log.info("care typed age: understood=%s", months is not None)
    if months is None or not session.age_min_months <= months <= session.age_max_months:
        body, markup = views.age_retry(
            session, lang, unreadable=months is None, age_filter=(_search_state(state) or {}).get("age")
        )
        await _reply(update, context, body, markup)
        return
    await _confirm(update, context, state, session_id, months)


# --- callbacks: one dispatcher ----------------------------------------------------------------------------------


async def on_callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every `care:` button: decode with the codec, refuse anything forged or stale, route by action."""
    query = update.callback_query
    if query is None or update.effective_user is None:
        return
    lang = user_language(update, context)
    try:
        decoded = CODEC.decode(query.data)
    except CallbackError:
        log.info("care: refused callback data (%s bytes)", len((query.data or "").encode("utf-8", "surrogatepass")))
        await _stale(update, lang)
        return
    if query.message is None:  # an inline message or one too old to reach: nothing to edit or reply to
        await _stale(update, lang)
        return
    handler = _ROUTES[decoded.action]
    try:
        async with flow_state(context, update.effective_user.id, FLOW) as state:
            await handler(update, context, state, *decoded.args)
    except StateConflict:
        await _conflict(update, lang)


async def _on_filter_menu(update: Update, context: ContextTypes.DEFAULT_TYPE, flow: FlowState, kind: str) -> None:
    """Show the choices of one filter in place of the result buttons."""
    lang = user_language(update, context)
    state = _search_state(flow)
    if state is None:
        await _stale(update, lang)
        return
    await update.callback_query.answer()
    await update.callback_query.edit_message_reply_markup(views.filter_menu(kind, state, lang, local_today()))


async def _apply_filter(
    update: Update, context: ContextTypes.DEFAULT_TYPE, flow: FlowState, kind: str, value: object
) -> None:
    """Set one filter to an offered value (anything else is stale), announce a budget reset, show page 1."""
    lang = user_language(update, context)
    state = _search_state(flow)
    if state is None:
        await _stale(update, lang)
        return
    menu_kind = {"age": "age", "budget": "budget", "service": "svc", "date": "date"}[kind]
    if value is not None and value not in views.filter_choices(menu_kind, state, local_today()):
        await _stale(update, lang)  # not a value this bot offered (forged, or a menu from another day/service)
        return
    if kind == "service":
        new_service = views.CODE_SERVICES[value] if value is not None else None
        old_service = state.get("service")
        if state.get("budget") is not None and views.budget_basis(new_service) != views.budget_basis(old_service):
            state["notice"] = {"kind": "budget_reset", "service": new_service or "全日托", "old_service": old_service,
                               "budget": state.pop("budget")}
        value = new_service
    if kind == "date" and value is not None:
        value = value.isoformat()
    if value is None:
        state.pop(kind, None)
    else:
        state[kind] = value
    state["page"] = 0
    await update.callback_query.answer()
    await _show_results(update, context, flow, edit=True)


async def _on_set_age(update, context, flow, value):
    await _apply_filter(update, context, flow, "age", value)


async def _on_set_budget(update, context, flow, value):
    await _apply_filter(update, context, flow, "budget", value)


async def _on_set_service(update, context, flow, value):
    await _apply_filter(update, context, flow, "service", value)


async def _on_set_date(update, context, flow, value):
    await _apply_filter(update, context, flow, "date", value)


async def _on_toggle(update: Update, context: ContextTypes.DEFAULT_TYPE, flow: FlowState, which: str) -> None:
    lang = user_language(update, context)
    state = _search_state(flow)
    if state is None:
        await _stale(update, lang)
        return
    key = {"puhui": "puhui", "red": "reduction"}[which]
    state[key] = not state.get(key)
    state["page"] = 0
    await update.callback_query.answer()
    await _show_results(update, context, flow, edit=True)


async def _on_clear(update: Update, context: ContextTypes.DEFAULT_TYPE, flow: FlowState) -> None:
    lang = user_language(update, context)
    state = _search_state(flow)
    if state is None:
        await _stale(update, lang)
        return
    for key in views.FILTER_KEYS:
        state.pop(key, None)
    state["page"] = 0
    state["notice"] = {"kind": "cleared"}
    await update.callback_query.answer()
    await _show_results(update, context, flow, edit=True)


async def _on_page(update: Update, context: ContextTypes.DEFAULT_TYPE, flow: FlowState, number: int) -> None:
    """Previous/next page, or back to the list from a details card."""
    lang = user_language(update, context)
    state = _search_state(flow)
    if state is None:
        await _stale(update, lang)
        return
    state["page"] = number
    await update.callback_query.answer()
    await _show_results(update, context, flow, edit=True)


# --- details and booking ----------------------------------------------------------------------------------------


def _card_data(engine, institution_id: int, state: dict):
    institution = get_institution(engine, institution_id)
    if institution is None:
        return None
    day = datetime.fromisoformat(state["date"]).date() if state.get("date") else None
    # Full sessions stay on the card: their button leads to the waitlist instead of a dead end.
    now = to_local(None)
    slots = [
        s for s in list_sessions(engine, institution.id, date_from=day, days=1 if day else 7)
        if (s.date, s.start_time) > (now.date(), now.time().replace(tzinfo=None))
    ]
    if state.get("service") in ("临时托", "计时托"):
        slots = [s for s in slots if s.service == state["service"]]
    if state.get("age") is not None:
        slots = [s for s in slots if s.age_min_months <= state["age"] <= s.age_max_months]
    return institution, slots


async def _on_institution(
    update: Update, context: ContextTypes.DEFAULT_TYPE, flow: FlowState, institution_id: int
) -> None:
    """Details card (fees, hours, address, sessions) and a map pin."""
    query = update.callback_query
    lang = user_language(update, context)
    state = _search_state(flow) or {}
    found = await asyncio.to_thread(_card_data, runtime(context).engine, institution_id, state)
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


def _session_view(engine, session_id: int):
    """(session, institution), or None when the session is gone."""
    session = get_session(engine, session_id)
    if session is None:
        return None
    return session, get_institution(engine, session.institution_id)


async def _on_session(update: Update, context: ContextTypes.DEFAULT_TYPE, flow: FlowState, session_id: int) -> None:
    """A session was chosen: ask the child's age (offering the age filter first, never assuming it)."""
    if not await require_private_chat(update, context):
        return
    query = update.callback_query
    lang = user_language(update, context)
    found = await asyncio.to_thread(_session_view, runtime(context).engine, session_id)
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
    update: Update, context: ContextTypes.DEFAULT_TYPE, flow: FlowState, session_id: int, months: int
) -> None:
    """The child's age chosen with a button."""
    if not await require_private_chat(update, context):
        return
    await update.callback_query.answer()
    await _confirm(update, context, flow, session_id, months)


async def _confirm(
    update: Update, context: ContextTypes.DEFAULT_TYPE, flow: FlowState, session_id: int, months: int
) -> None:
    """Show the summary to confirm (the age fits the session), or ask the age again."""
    lang = user_language(update, context)
    found = await asyncio.to_thread(_session_view, runtime(context).engine, session_id)
    if found is None:
        flow.pop("await", None)
        await flow.save()
        await _reply(update, context, t("care_err_not_found", lang))
        return
    session, institution = found
    if not session.age_min_months <= months <= session.age_max_months:
        _await_age(flow, session_id)
        await flow.save()
        age_filter = (_search_state(flow) or {}).get("age")
        body, markup = views.age_retry(session, lang, unreadable=False, age_filter=age_filter)
        await _reply(update, context, body, markup)
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


def _error_text(code: str, lang: str) -> str:
    key = f"care_err_{code}"
    return t(key if key in texts_care.CARE_TEXTS else "care_err_other", lang)


async def _on_confirm(
    update: Update, context: ContextTypes.DEFAULT_TYPE, flow: FlowState, session_id: int, months: int
) -> None:
    """Book. The confirm message's id is the idempotency key: a double tap or a re-delivered update books once."""
    if not await require_private_chat(update, context):
        return
    query = update.callback_query
    lang = user_language(update, context)
    engine = runtime(context).engine
    user_id = update.effective_user.id
    key = f"tg:{user_id}:{query.message.chat_id}:{query.message.message_id}"
    try:
        booked, created = await asyncio.to_thread(
            bookings.book_session_outcome, engine, session_id, user_id, months, "", key
        )
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
    view = await asyncio.to_thread(bookings.get_booking, engine, booked.id)
    await _safe_edit(query, views.render_booked(view, lang), None)
    if created:
        log.info("care booking %s created", view.booking_id)
    # Also when not created: a re-delivered tap after a crash sends the note the first worker could not; the
    # claim in the database makes sure it goes out once.
    await _notify_operator(context, view, "booked")


async def _on_drop(update: Update, context: ContextTypes.DEFAULT_TYPE, flow: FlowState) -> None:
    """The parent changed their mind before confirming."""
    flow.pop("await", None)
    await flow.save()
    await update.callback_query.answer()
    await _safe_edit(update.callback_query, t("care_flow_dropped", user_language(update, context)), None)


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


async def _release(release, *args) -> None:
    """Give a claim back; if even that fails, the message stays claimed (never sent twice)."""
    try:
        await asyncio.to_thread(release, *args)
    except SQLAlchemyError:
        log.warning("claim %s could not be released; it stays claimed", args[1:2])


async def send_operator_note(bot, engine, view, kind: str) -> bool:
    """Tell the centre's operator about a booking ("booked") or its cancellation ("cancelled"), at most once:
    claimed in the database first, released again only when the send failed for a passing reason."""
    if not view.operator_user_id:
        return False
    try:
        mine = await asyncio.to_thread(bookings.claim_operator_note, engine, view.booking_id, kind)
    except SQLAlchemyError:
        log.warning("operator note %s of booking %s: claim failed, left for a later run", kind, view.booking_id)
        return False
    if not mine:
        return False
    lang = await asyncio.to_thread(_language_of, engine, view.operator_user_id)
    session = await asyncio.to_thread(get_session, engine, view.session_id)
    booked, capacity = (session.booked, session.capacity) if session else (0, 0)
    text = views.render_operator_note(f"care_operator_{kind}", view, lang, booked, capacity)
    outcome = await _deliver(bot, view.operator_user_id, text)
    log.info("operator note %s of booking %s: %s", kind, view.booking_id, outcome)
    if outcome == RETRY:
        await _release(bookings.release_operator_note, engine, view.booking_id, kind)
    return outcome == SENT


async def _notify_operator(context: ContextTypes.DEFAULT_TYPE, view, kind: str) -> None:
    await send_operator_note(context.bot, runtime(context).engine, view, kind)


def _language_of(engine, telegram_id: int) -> str:
    from db.users import get_language

    return get_language(engine, telegram_id)


# --- my bookings ------------------------------------------------------------------------------------------------


async def bookings_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/bookings: upcoming bookings with cancel buttons (private chats only)."""
    if not _has_user(update) or not await require_private_chat(update, context):
        return
    lang = user_language(update, context)
    try:
        async with flow_state(context, update.effective_user.id, FLOW) as state:
            state.pop("await", None)  # a half-finished booking stops capturing typed text
    except StateConflict:
        await _conflict(update, lang)
        return
    engine = runtime(context).engine
    found = await asyncio.to_thread(bookings.list_bookings, engine, update.effective_user.id)
    queued = await asyncio.to_thread(care_waitlist.entries_of, engine, update.effective_user.id)
    if not found and not queued:
        await update.effective_message.reply_text(t("care_bookings_none", lang))
        return
    text, markup = views.render_bookings(found, lang, queued)
    await update.effective_message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def _on_cancel_ask(update: Update, context: ContextTypes.DEFAULT_TYPE, flow: FlowState, booking_id: int) -> None:
    """Ask before cancelling (only the parent's own bookings; anything else is a stale button)."""
    if not await require_private_chat(update, context):
        return
    query = update.callback_query
    lang = user_language(update, context)
    view = await asyncio.to_thread(bookings.get_booking, runtime(context).engine, booking_id)
    if view is None or view.parent_id != update.effective_user.id:
        await _stale(update, lang)
        return
    if view.status == BOOKING_CANCELLED:
        await query.answer(t("care_err_already_cancelled", lang), show_alert=True)
        return
    await query.answer()
    text, markup = views.render_cancel_ask(view, lang)
    await context.bot.send_message(update.effective_chat.id, text, reply_markup=markup)


async def _on_cancel_yes(update: Update, context: ContextTypes.DEFAULT_TYPE, flow: FlowState, booking_id: int) -> None:
    """Cancel and free the place; an already-cancelled or someone else's booking gets a polite note."""
    if not await require_private_chat(update, context):
        return
    query = update.callback_query
    lang = user_language(update, context)
    engine = runtime(context).engine
    try:
        await asyncio.to_thread(
            bookings.cancel_booking, engine, booking_id, update.effective_user.id, None, care_waitlist.hold_of(context)
        )
    except bookings.BookingError as error:
        log.info("care cancel refused: %s", error.code)
        if error.code == "not_found":
            await _stale(update, lang)
        else:
            await query.answer(_error_text(error.code, lang), show_alert=True)
        return
    await query.answer()
    view = await asyncio.to_thread(bookings.get_booking, engine, booking_id)
    await _safe_edit(query, t("care_cancelled", lang, code=view.code), None)
    await _notify_operator(context, view, "cancelled")
    await care_waitlist.send_offers(context.bot, engine)  # the freed place, offered to the first in line


async def _on_cancel_no(update: Update, context: ContextTypes.DEFAULT_TYPE, flow: FlowState) -> None:
    """Keep the booking."""
    await update.callback_query.answer()
    await _safe_edit(update.callback_query, t("care_kept", user_language(update, context)), None)


# --- reminders --------------------------------------------------------------------------------------------------


async def send_due_reminders(bot, engine, now: datetime | None = None) -> int:
    """Remind parents of tomorrow's bookings, each exactly once across runs and workers; returns how many this
    run sent. Each reminder is claimed in the database before it is sent (`bookings.claim_reminder`); a send
    that failed for a passing reason gives the claim back for the next run (see `_deliver`)."""
    due = await asyncio.to_thread(bookings.due_reminders, engine, now)
    sent = 0
    for view in due:
        try:
            mine = await asyncio.to_thread(bookings.claim_reminder, engine, view.booking_id, now)
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
            await _release(bookings.release_reminder, engine, view.booking_id)
    return sent


async def send_pending_operator_notes(bot, engine, now: datetime | None = None) -> int:
    """Operator notes nobody sent (a worker stopped between booking and notifying, or a send to retry)."""
    pending = await asyncio.to_thread(bookings.pending_operator_notes, engine, now)
    sent = 0
    for kind, view in pending:
        sent += await send_operator_note(bot, engine, view, kind)
    return sent


async def _reminder_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    engine = runtime(context).engine
    await send_due_reminders(context.bot, engine)
    await send_pending_operator_notes(context.bot, engine)


# --- operators --------------------------------------------------------------------------------------------------


async def today_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/today [YYYY-MM-DD]: the day's bookings at each of the operator's institutions (private chats only)."""
    if not _has_user(update) or not await require_private_chat(update, context):
        return
    lang = user_language(update, context)
    engine = runtime(context).engine
    institutions = await asyncio.to_thread(institutions_of_operator, engine, update.effective_user.id)
    if not institutions:
        await update.effective_message.reply_text(t("care_operator_only", lang))
        return
    day = local_today()
    if context.args:
        try:
            day = datetime.strptime(context.args[0][:10], "%Y-%m-%d").date()
        except ValueError:
            day = local_today()
    for institution in institutions:
        found = await asyncio.to_thread(bookings.bookings_for_institution_day, engine, institution.id, day)
        queues = await asyncio.to_thread(care_waitlist.today_queues, engine, institution.id, day)
        await update.effective_message.reply_text(
            views.render_today(institution.name, day, found, lang, queues), parse_mode=ParseMode.HTML
        )


async def addsession_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/addsession DATE START-END SERVICE PLACES PRICE [MIN-MAX]: an operator adds a session; an operator of
    several centres chooses which one with a button."""
    if not _has_user(update) or not await require_private_chat(update, context):
        return
    lang = user_language(update, context)
    engine = runtime(context).engine
    institutions = await asyncio.to_thread(institutions_of_operator, engine, update.effective_user.id)
    if not institutions:
        await update.effective_message.reply_text(t("care_operator_only", lang))
        return
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


async def _on_add_at(update: Update, context: ContextTypes.DEFAULT_TYPE, flow: FlowState, institution_id: int) -> None:
    """The operator chose the centre for the session they typed."""
    if not await require_private_chat(update, context):
        return
    lang = user_language(update, context)
    pending = flow.get("addsession")
    institutions = await asyncio.to_thread(institutions_of_operator, runtime(context).engine, update.effective_user.id)
    chosen = next((inst for inst in institutions if inst.id == institution_id), None)
    if pending is None or chosen is None:
        await _stale(update, lang)
        return
    flow.pop("addsession", None)
    await flow.save()
    await update.callback_query.answer()
    await _add_session(update, context, chosen, SessionSpec.from_dict(pending))


async def _add_session(update: Update, context: ContextTypes.DEFAULT_TYPE, institution, spec: SessionSpec) -> None:
    lang = user_language(update, context)
    engine = runtime(context).engine
    if await care_waitlist.resize_existing(update, context, institution, spec):
        return  # the same session exists: its places were changed (added places go to the waitlist first)
    try:
        await asyncio.to_thread(
            lambda: bookings.add_session(
                engine, institution.id, service=spec.service, day=spec.day, start_time=spec.start, end_time=spec.end,
                capacity=spec.capacity, price=spec.price, age_min_months=spec.age_min, age_max_months=spec.age_max,
                operator_user_id=update.effective_user.id,
            )
        )
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
