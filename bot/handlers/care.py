"""Find care nearby and book temporary care: /find, locations, filters, details, booking, /bookings,
reminders, and the operator's /today and /addsession.

Search filters live in `user_data["care"]`; every button that acts on the database carries the ids it
needs, so booking and cancelling work after a restart, and a button whose context is gone gets a polite
answer instead of an error.
"""

from __future__ import annotations

import asyncio
import html
import logging
from datetime import date, datetime, timedelta

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot import texts_care  # noqa: F401  (registers the texts)
from bot.runtime import runtime, user_language
from bot.texts import t
from db import booking as bookings
from db import care_search
from db.geo import valid_coordinates
from db.institutions import (
    fee_list,
    get_institution,
    get_session,
    institutions_of_operator,
    list_sessions,
    reductions_for_city,
)
from db.models import BOOKING_CANCELLED
from db.timeutil import fmt_time, local_today, parse_date, parse_time

log = logging.getLogger(__name__)
PAGE_SIZE = 5
DEFAULT_RADIUS_KM = 10.0
AGE_CHOICES = (6, 12, 18, 24, 30)
BUDGETS = {"全日托": (1000, 1500, 2000, 3000), "半日托": (800, 1000, 1500), "临时托": (80, 120, 200), "计时托": (30, 50, 80)}
SERVICES = ("全日托", "半日托", "临时托", "计时托")
REDUCTION_KEY = "困境婴幼儿"
UNITS = {"全日托": ("元/月", "/month"), "半日托": ("元/月", "/month"), "临时托": ("元/次", "/session"), "计时托": ("元/小时", "/hour")}
WEEKDAYS = {"zh": "一二三四五六日", "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")}
REMINDER_INTERVAL_S = 600


# --- small helpers ----------------------------------------------------------------------------------------------


def _day(d: date, lang: str) -> str:
    if lang == "zh":
        return f"{d.month}/{d.day} 周{WEEKDAYS['zh'][d.weekday()]}"
    return f"{WEEKDAYS['en'][d.weekday()]} {d.month}/{d.day}"


def _money(value: float) -> str:
    return f"{value:g}"


def _unit(service: str, lang: str) -> str:
    zh, en = UNITS.get(service, ("元", ""))
    return zh if lang == "zh" else en


def _state(context: ContextTypes.DEFAULT_TYPE) -> dict | None:
    return context.user_data.get("care")


async def _stale(update: Update, lang: str) -> None:
    await update.callback_query.answer(t("stale_button", lang) + " /find", show_alert=False)


async def _safe_edit(query, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """Edit a message, ignoring "message is not modified" (a repeated tap changes nothing)."""
    try:
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
    except BadRequest as error:
        if "not modified" not in str(error).lower():
            raise


# --- search -----------------------------------------------------------------------------------------------------


def _run_search(engine, state: dict) -> care_search.SearchPage | None:
    kwargs = {
        "age_months": state.get("age"),
        "max_price": state.get("budget"),
        "puhui_only": bool(state.get("puhui")),
        "service": state.get("service"),
        "date": parse_date(state["date"]) if state.get("date") else None,
        "reduction_key": REDUCTION_KEY if state.get("reduction") else None,
        "limit": PAGE_SIZE,
        "offset": state.get("page", 0) * PAGE_SIZE,
    }
    if state.get("place"):
        return care_search.search_by_district(engine, state["place"], **kwargs)
    return care_search.search_nearby(engine, state["lat"], state["lon"], radius_km=state.get("radius", DEFAULT_RADIUS_KM), **kwargs)


def _filters_summary(state: dict, lang: str) -> str:
    parts = []
    if state.get("age") is not None:
        parts.append(t("care_filter_age", lang, m=state["age"]))
    if state.get("budget") is not None:
        parts.append(t("care_filter_budget", lang, p=_money(state["budget"])))
    if state.get("puhui"):
        parts.append(t("care_filter_puhui", lang))
    if state.get("service"):
        parts.append(state["service"])
    if state.get("date"):
        parts.append(_day(parse_date(state["date"]), lang))
    if state.get("reduction"):
        parts.append(t("care_filter_reduction", lang))
    return "，".join(parts) if lang == "zh" and parts else (", ".join(parts) or t("care_no_filters", lang))


def _price_text(result: care_search.SearchResult, lang: str) -> str:
    service = result.price_service
    if result.price is None:
        return t("care_price_none", lang, service=service)
    unit = _unit(service, lang)
    if result.reduction is not None and result.base_price is not None and result.price != result.base_price:
        return t(
            "care_price_reduced", lang, service=service, price=_money(result.price), unit=unit,
            amount=_money(result.reduction.amount), base=_money(result.base_price),
        )
    return t("care_price", lang, service=service, price=_money(result.price), unit=unit)


def render_results(page: care_search.SearchPage, state: dict, lang: str) -> str:
    """The result list message (HTML)."""
    if state.get("place") and page.place is not None:
        header = t("care_header_place", lang, place=html.escape(page.place.city + page.place.district))
    else:
        header = t("care_header_near", lang, radius=_money(state.get("radius", DEFAULT_RADIUS_KM)))
    lines = [header, t("care_filters", lang, filters=html.escape(_filters_summary(state, lang)))]
    if not page.results:
        lines.append(t("care_none", lang))
        return "\n".join(lines)
    first = page.offset + 1
    lines.append(t("care_found", lang, total=page.total, first=first, last=page.offset + len(page.results)))
    if any(r.is_demo for r in page.results):
        lines.append(t("care_demo_note", lang))
    for n, result in enumerate(page.results, start=first):
        lines.append(
            t(
                "care_result_line", lang, n=n, name=html.escape(result.name),
                puhui=t("care_puhui_mark", lang) if result.puhui else "", district=html.escape(result.district),
                distance=f"{result.distance_km:.1f}", price=html.escape(_price_text(result, lang)),
                free=result.free_places,
            )
        )
    if page.reduction is not None and any(r.reduction for r in page.results):
        red = page.reduction
        lines.append(
            t("care_reduction_note", lang, key=red.key, amount=_money(red.amount), unit=red.unit, source=html.escape(red.source))
        )
    return "\n".join(lines)


def results_keyboard(page: care_search.SearchPage, state: dict, lang: str) -> InlineKeyboardMarkup:
    """One button per result, the filter buttons, and paging."""
    rows = [
        [InlineKeyboardButton(f"{n}. {r.name}"[:40], callback_data=f"care:inst:{r.institution_id}")]
        for n, r in enumerate(page.results, start=page.offset + 1)
    ]
    any_ = t("care_any", lang)
    age = f" {state['age']}" if state.get("age") is not None else f"：{any_}" if lang == "zh" else f": {any_}"
    budget = f" ≤{_money(state['budget'])}" if state.get("budget") is not None else (f"：{any_}" if lang == "zh" else f": {any_}")
    rows.append([
        InlineKeyboardButton(t("care_btn_age", lang, value=age), callback_data="care:f:age"),
        InlineKeyboardButton(t("care_btn_budget", lang, value=budget), callback_data="care:f:budget"),
    ])
    rows.append([
        InlineKeyboardButton(t("care_btn_service", lang, value=state.get("service") or t("care_any_service", lang)), callback_data="care:f:svc"),
        InlineKeyboardButton(
            t("care_btn_date", lang, value=_day(parse_date(state["date"]), lang) if state.get("date") else t("care_any_date", lang)),
            callback_data="care:f:date",
        ),
    ])
    toggles = [InlineKeyboardButton(t("care_btn_puhui", lang, mark="☑️" if state.get("puhui") else "⬜"), callback_data="care:tog:puhui")]
    cities = {r.city for r in page.results} | ({page.place.city} if page.place else set())
    if state.get("reduction") or any(reductions_for_city(city) for city in cities):
        toggles.append(
            InlineKeyboardButton(t("care_btn_reduction", lang, mark="☑️" if state.get("reduction") else "⬜"), callback_data="care:tog:red")
        )
    rows.append(toggles)
    paging = []
    if page.offset > 0:
        paging.append(InlineKeyboardButton(t("care_btn_prev", lang), callback_data=f"care:page:{state.get('page', 0) - 1}"))
    if page.has_more:
        paging.append(InlineKeyboardButton(t("care_btn_next", lang), callback_data=f"care:page:{state.get('page', 0) + 1}"))
    if paging:
        rows.append(paging)
    return InlineKeyboardMarkup(rows)


async def _show_results(update: Update, context: ContextTypes.DEFAULT_TYPE, *, edit: bool) -> None:
    lang = user_language(update, context)
    state = _state(context)
    try:
        page = await asyncio.to_thread(_run_search, runtime(context).engine, state)
    except care_search.SearchError:
        await update.effective_message.reply_text(t("care_location_invalid", lang))
        return
    if page is None:
        name = html.escape(state.get("place", ""))
        context.user_data.pop("care", None)
        context.user_data["care_await"] = "place"
        await update.effective_message.reply_text(t("care_unknown_place", lang, name=name), parse_mode=ParseMode.HTML)
        return
    text, markup = render_results(page, state, lang), results_keyboard(page, state, lang)
    if edit and update.callback_query is not None:
        await _safe_edit(update.callback_query, text, markup)
    else:
        await update.effective_message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def find_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/find: ask for a location or a district name."""
    lang = user_language(update, context)
    context.user_data["care_await"] = "place"
    keyboard = ReplyKeyboardMarkup(
        [[KeyboardButton(t("care_btn_location", lang), request_location=True)]], resize_keyboard=True, one_time_keyboard=True
    )
    await update.effective_message.reply_text(t("care_ask_place", lang), reply_markup=keyboard)


async def on_location(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A shared location: search around it with the parent's current filters."""
    lang = user_language(update, context)
    location = update.effective_message.location
    if location is None or not valid_coordinates(location.latitude, location.longitude):
        await update.effective_message.reply_text(t("care_location_invalid", lang))
        return
    await _new_search(update, context, lat=location.latitude, lon=location.longitude)


async def _new_search(update: Update, context: ContextTypes.DEFAULT_TYPE, **where: object) -> None:
    """Search around a new point or place, keeping the parent's filters from the previous search."""
    previous = _state(context) or {}
    kept = {k: previous[k] for k in ("age", "budget", "puhui", "service", "date", "reduction") if k in previous}
    context.user_data["care"] = {**kept, **where, "page": 0}
    context.user_data.pop("care_await", None)
    await update.effective_message.reply_text("🔎", reply_markup=ReplyKeyboardRemove())
    await _show_results(update, context, edit=False)


async def on_awaited_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Text while the flow waits for a place or a child's age; anything else falls through to policy QA."""
    awaiting = context.user_data.get("care_await")
    if not awaiting:
        return
    text = " ".join((update.effective_message.text or "").split())
    lang = user_language(update, context)
    if awaiting == "place":
        if care_search.find_place(text) is None:
            if len(text) > 12 or "?" in text or "？" in text:
                context.user_data.pop("care_await", None)
                return  # a question, not a place: let policy QA answer it
            await update.effective_message.reply_text(
                t("care_unknown_place", lang, name=html.escape(text[:40])), parse_mode=ParseMode.HTML
            )
            raise ApplicationHandlerStop
        await _new_search(update, context, place=text)
        raise ApplicationHandlerStop
    if isinstance(awaiting, tuple) and awaiting[0] == "age":
        digits = "".join(ch for ch in text if ch.isdigit())
        if not digits or len(digits) > 3:
            context.user_data.pop("care_await", None)
            return
        await _confirm(update, context, awaiting[1], int(digits), edit=False)
        raise ApplicationHandlerStop


async def on_filter_menu(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show the choices of one filter in place of the result buttons."""
    query = update.callback_query
    lang = user_language(update, context)
    state = _state(context)
    if state is None:
        await _stale(update, lang)
        return
    await query.answer()
    kind = query.data.split(":")[2]
    any_button = InlineKeyboardButton(t("care_any", lang), callback_data=f"care:set:{kind}:x")
    if kind == "age":
        choices = [InlineKeyboardButton(t("care_months", lang, m=m), callback_data=f"care:set:age:{m}") for m in AGE_CHOICES]
    elif kind == "budget":
        service = state.get("service") or "全日托"
        choices = [InlineKeyboardButton(f"≤{p}{_unit(service, lang)}", callback_data=f"care:set:budget:{p}") for p in BUDGETS[service]]
    elif kind == "svc":
        choices = [InlineKeyboardButton(s, callback_data=f"care:set:svc:{s}") for s in SERVICES]
    else:
        today = local_today()
        choices = [
            InlineKeyboardButton(_day(today + timedelta(days=i), lang), callback_data=f"care:set:date:{(today + timedelta(days=i)).isoformat()}")
            for i in range(7)
        ]
    rows = [choices[i : i + 3] for i in range(0, len(choices), 3)] + [[any_button]]
    await query.edit_message_reply_markup(InlineKeyboardMarkup(rows))


async def on_filter_set(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Apply a filter choice or toggle, then show the first page again."""
    query = update.callback_query
    lang = user_language(update, context)
    state = _state(context)
    if state is None:
        await _stale(update, lang)
        return
    parts = query.data.split(":")
    try:
        if parts[1] == "tog":
            key = {"puhui": "puhui", "red": "reduction"}[parts[2]]
            state[key] = not state.get(key)
        else:
            kind, value = parts[2], parts[3]
            key = {"age": "age", "budget": "budget", "svc": "service", "date": "date"}[kind]
            if value == "x":
                state.pop(key, None)
            elif kind in ("age", "budget"):
                state[key] = int(value)
            elif kind == "svc" and value in SERVICES:
                state[key] = value
                state.pop("budget", None)  # a monthly budget means nothing for a per-session price
            elif kind == "date":
                state[key] = parse_date(value).isoformat()
    except (KeyError, IndexError, ValueError):
        await _stale(update, lang)
        return
    state["page"] = 0
    await query.answer()
    await _show_results(update, context, edit=True)


async def on_page(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Previous/next page, or back to the list from a details card."""
    query = update.callback_query
    lang = user_language(update, context)
    state = _state(context)
    if state is None:
        await _stale(update, lang)
        return
    state["page"] = max(0, int(query.data.split(":")[2]))
    await query.answer()
    await _show_results(update, context, edit=True)


# --- details and booking ----------------------------------------------------------------------------------------


async def on_institution(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Details card (fees, hours, address, sessions) and a map pin."""
    query = update.callback_query
    lang = user_language(update, context)
    engine = runtime(context).engine
    institution = await asyncio.to_thread(get_institution, engine, int(query.data.split(":")[2]))
    if institution is None:
        await _stale(update, lang)
        return
    await query.answer()
    state = _state(context) or {}
    day = parse_date(state["date"]) if state.get("date") else None
    slots = await asyncio.to_thread(
        list_sessions, engine, institution.id, date_from=day, days=1 if day else 7, only_bookable=True
    )
    if state.get("service") in ("临时托", "计时托"):
        slots = [s for s in slots if s.service == state["service"]]
    if state.get("age") is not None:
        slots = [s for s in slots if s.age_min_months <= state["age"] <= s.age_max_months]
    fees = "\n".join(
        f"• {service} {_money(fee)}{_unit(service, lang)}" for service, fee, _unit_label in fee_list(institution)
    )
    text = t(
        "care_details", lang, name=html.escape(institution.name),
        puhui=t("care_puhui_mark", lang) if institution.puhui else "",
        demo=t("care_demo_inline", lang) if institution.is_demo else "",
        city=html.escape(institution.city), district=html.escape(institution.district),
        address=html.escape(institution.address or "—"), phone=html.escape(institution.phone or "—"),
        hours=html.escape(institution.opening_hours or "—"), age_min=institution.age_min_months,
        age_max=institution.age_max_months, free=institution.free_places, total=institution.total_places,
        nature=html.escape(institution.legal_nature or "—"), form=html.escape(institution.form or "—"),
        filing=html.escape(institution.filing_status or "—"), fees=html.escape(fees) or "—",
    )
    text += t("care_sessions_title", lang) if slots else t("care_no_sessions", lang)
    rows = [
        [InlineKeyboardButton(
            f"{s.service} " + t("care_session_button", lang, date=_day(s.date, lang), start=fmt_time(s.start_time),
                                end=fmt_time(s.end_time), price=_money(s.price), free=s.free),
            callback_data=f"care:sess:{s.session_id}",
        )]
        for s in slots[:8]
    ]
    if state:
        rows.append([InlineKeyboardButton(t("care_btn_back", lang), callback_data=f"care:page:{state.get('page', 0)}")])
    await query.message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=InlineKeyboardMarkup(rows))
    await context.bot.send_venue(
        query.message.chat_id, institution.lat, institution.lon, institution.name[:64], (institution.address or institution.district)[:64]
    )


def _session_view(engine, session_id: int):
    """(session, institution), or None when the session is gone."""
    session = get_session(engine, session_id)
    if session is None:
        return None
    return session, get_institution(engine, session.institution_id)


async def on_session(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A session was chosen: confirm directly when the child's age is known, else ask for it."""
    query = update.callback_query
    lang = user_language(update, context)
    session_id = int(query.data.split(":")[2])
    found = await asyncio.to_thread(_session_view, runtime(context).engine, session_id)
    if found is None:
        await query.answer(t("care_err_not_found", lang), show_alert=True)
        return
    await query.answer()
    session, institution = found
    age = (_state(context) or {}).get("age")
    if age is not None and session.age_min_months <= age <= session.age_max_months:
        await _confirm(update, context, session_id, age, edit=False)
        return
    choices = [m for m in range(session.age_min_months, session.age_max_months + 1, 6)][:6]
    rows = [[InlineKeyboardButton(t("care_months", lang, m=m), callback_data=f"care:age:{session_id}:{m}") for m in choices[i : i + 3]]
            for i in range(0, len(choices), 3)]
    context.user_data["care_await"] = ("age", session_id)
    await query.message.reply_text(
        t("care_ask_child_age", lang, inst=institution.name, service=session.service, date=_day(session.date, lang),
          start=fmt_time(session.start_time), end=fmt_time(session.end_time), price=_money(session.price),
          min=session.age_min_months, max=session.age_max_months),
        reply_markup=InlineKeyboardMarkup(rows),
    )


async def on_age(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The child's age chosen with a button."""
    query = update.callback_query
    _, _, session_id, months = query.data.split(":")
    await query.answer()
    await _confirm(update, context, int(session_id), int(months), edit=False)


async def _confirm(update: Update, context: ContextTypes.DEFAULT_TYPE, session_id: int, months: int, *, edit: bool) -> None:
    lang = user_language(update, context)
    found = await asyncio.to_thread(_session_view, runtime(context).engine, session_id)
    if found is None:
        await update.effective_message.reply_text(t("care_err_not_found", lang))
        return
    session, institution = found
    if not session.age_min_months <= months <= session.age_max_months:
        context.user_data["care_await"] = ("age", session_id)
        await update.effective_message.reply_text(t("care_age_invalid", lang, min=session.age_min_months, max=session.age_max_months))
        return
    context.user_data.pop("care_await", None)
    text = t(
        "care_confirm", lang, inst=html.escape(institution.name), service=session.service, date=_day(session.date, lang),
        start=fmt_time(session.start_time), end=fmt_time(session.end_time), price=_money(session.price), age=months,
        demo=("\n" + t("care_demo_inline", lang).strip()) if institution.is_demo else "",
    )
    markup = InlineKeyboardMarkup([[
        InlineKeyboardButton(t("care_btn_confirm", lang), callback_data=f"care:ok:{session_id}:{months}"),
        InlineKeyboardButton(t("care_btn_cancel_flow", lang), callback_data="care:drop"),
    ]])
    await update.effective_message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def on_confirm(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Book. The confirm message's id is the idempotency key: a double tap or a re-delivered update books once."""
    query = update.callback_query
    lang = user_language(update, context)
    _, _, session_id, months = query.data.split(":")
    engine = runtime(context).engine
    user_id = update.effective_user.id
    key = f"tg:{user_id}:{query.message.chat_id}:{query.message.message_id}"
    try:
        booked, created = await asyncio.to_thread(
            bookings.book_session_outcome, engine, int(session_id), user_id, int(months), "", key
        )
    except bookings.BookingError as error:
        message = t(f"care_err_{error.code}", lang) if f"care_err_{error.code}" in texts_care.CARE_TEXTS else t("care_err_other", lang)
        await query.answer(message, show_alert=True)
        if error.code in ("full", "past", "not_found"):
            await _safe_edit(query, message, None)
        return
    await query.answer()
    view = await asyncio.to_thread(bookings.get_booking, engine, booked.id)
    await _safe_edit(
        query,
        t("care_booked", lang, code=view.code, inst=html.escape(view.institution_name), service=view.service,
          date=_day(view.date, lang), start=fmt_time(view.start_time), end=fmt_time(view.end_time),
          address=html.escape(view.address or view.district)),
        None,
    )
    if created:  # a repeated tap returns the same booking: notify once
        await _notify_operator(context, view, "care_operator_booked")


async def on_drop(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The parent changed their mind before confirming."""
    query = update.callback_query
    context.user_data.pop("care_await", None)
    await query.answer()
    await _safe_edit(query, t("care_flow_dropped", user_language(update, context)), None)


async def _notify_operator(context: ContextTypes.DEFAULT_TYPE, view, key: str) -> None:
    if not view.operator_user_id:
        return
    lang = await asyncio.to_thread(_language_of, runtime(context).engine, view.operator_user_id)
    session = await asyncio.to_thread(_session_view, runtime(context).engine, view.session_id)
    booked = session[0].booked if session else 0
    capacity = session[0].capacity if session else 0
    try:
        await context.bot.send_message(
            view.operator_user_id,
            t(key, lang, code=view.code, date=_day(view.date, lang), start=fmt_time(view.start_time),
              end=fmt_time(view.end_time), service=view.service, age=view.child_age_months, booked=booked, capacity=capacity),
        )
    except (Forbidden, BadRequest):
        log.info("Operator %s could not be notified", view.operator_user_id)


def _language_of(engine, telegram_id: int) -> str:
    from db.users import get_language

    return get_language(engine, telegram_id)


# --- my bookings ------------------------------------------------------------------------------------------------


async def bookings_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/bookings: upcoming bookings with cancel buttons."""
    lang = user_language(update, context)
    views = await asyncio.to_thread(bookings.list_bookings, runtime(context).engine, update.effective_user.id)
    if not views:
        await update.effective_message.reply_text(t("care_bookings_none", lang))
        return
    lines = [t("care_bookings_title", lang)]
    buttons = []
    for n, v in enumerate(views, start=1):
        lines.append(
            t("care_booking_line", lang, n=n, date=_day(v.date, lang), start=fmt_time(v.start_time), end=fmt_time(v.end_time),
              service=v.service, inst=html.escape(v.institution_name), age=v.child_age_months, code=v.code)
        )
        buttons.append(InlineKeyboardButton(t("care_btn_cancel_booking", lang, n=n), callback_data=f"care:cx:{v.booking_id}"))
    rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    await update.effective_message.reply_text("\n".join(lines), parse_mode=ParseMode.HTML, reply_markup=InlineKeyboardMarkup(rows))


async def on_cancel_ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Ask before cancelling."""
    query = update.callback_query
    lang = user_language(update, context)
    view = await asyncio.to_thread(bookings.get_booking, runtime(context).engine, int(query.data.split(":")[2]))
    if view is None or view.parent_id != update.effective_user.id:
        await _stale(update, lang)
        return
    if view.status != BOOKING_CANCELLED:
        await query.answer()
        markup = InlineKeyboardMarkup([[
            InlineKeyboardButton(t("care_btn_cancel_yes", lang), callback_data=f"care:cxy:{view.booking_id}"),
            InlineKeyboardButton(t("care_btn_cancel_no", lang), callback_data="care:cxn"),
        ]])
        await query.message.reply_text(
            t("care_cancel_confirm", lang, date=_day(view.date, lang), start=fmt_time(view.start_time),
              inst=view.institution_name, code=view.code),
            reply_markup=markup,
        )
        return
    await query.answer(t("care_err_already_cancelled", lang), show_alert=True)


async def on_cancel_yes(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Cancel and free the place; an already-cancelled booking gets a polite note."""
    query = update.callback_query
    lang = user_language(update, context)
    engine = runtime(context).engine
    booking_id = int(query.data.split(":")[2])
    try:
        await asyncio.to_thread(bookings.cancel_booking, engine, booking_id, update.effective_user.id)
    except bookings.BookingError as error:
        key = f"care_err_{error.code}"
        await query.answer(t(key if key in texts_care.CARE_TEXTS else "care_err_other", lang), show_alert=True)
        return
    await query.answer()
    view = await asyncio.to_thread(bookings.get_booking, engine, booking_id)
    await _safe_edit(query, t("care_cancelled", lang, code=view.code), None)
    await _notify_operator(context, view, "care_operator_cancelled")


async def on_cancel_no(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Keep the booking."""
    query = update.callback_query
    await query.answer()
    await _safe_edit(query, t("care_kept", user_language(update, context)), None)


# --- reminders --------------------------------------------------------------------------------------------------


async def send_due_reminders(bot, engine, now: datetime | None = None) -> int:
    """Remind parents of tomorrow's bookings (each once, tracked in the database); returns how many were sent."""
    due = await asyncio.to_thread(bookings.due_reminders, engine, now)
    sent = 0
    for view in due:
        lang = await asyncio.to_thread(_language_of, engine, view.parent_id)
        try:
            await bot.send_message(
                view.parent_id,
                t("care_reminder", lang, start=fmt_time(view.start_time), end=fmt_time(view.end_time),
                  inst=view.institution_name, service=view.service, code=view.code, address=view.address or view.district),
            )
        except (Forbidden, BadRequest):
            log.info("Reminder for booking %s could not be delivered", view.booking_id)
        if await asyncio.to_thread(bookings.mark_reminded, engine, view.booking_id, now):
            sent += 1
    return sent


async def _reminder_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    await send_due_reminders(context.bot, runtime(context).engine)


# --- operators --------------------------------------------------------------------------------------------------


async def today_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/today [YYYY-MM-DD]: the day's bookings at the operator's institutions."""
    lang = user_language(update, context)
    engine = runtime(context).engine
    institutions = await asyncio.to_thread(institutions_of_operator, engine, update.effective_user.id)
    if not institutions:
        await update.effective_message.reply_text(t("care_operator_only", lang))
        return
    try:
        day = parse_date(context.args[0]) if context.args else local_today()
    except ValueError:
        day = local_today()
    for institution in institutions:
        views = await asyncio.to_thread(bookings.bookings_for_institution_day, engine, institution.id, day)
        if not views:
            await update.effective_message.reply_text(t("care_today_none", lang, inst=institution.name, date=_day(day, lang)))
            continue
        lines = [t("care_today_title", lang, inst=html.escape(institution.name), date=_day(day, lang))]
        lines += [
            t("care_today_line", lang, start=fmt_time(v.start_time), end=fmt_time(v.end_time), service=v.service,
              code=v.code, age=v.child_age_months, status=t(f"care_status_{v.status}", lang))
            for v in views
        ]
        await update.effective_message.reply_text("\n".join(lines), parse_mode=ParseMode.HTML)


async def addsession_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/addsession DATE START-END SERVICE PLACES PRICE [MIN-MAX]: an operator adds a session."""
    lang = user_language(update, context)
    engine = runtime(context).engine
    institutions = await asyncio.to_thread(institutions_of_operator, engine, update.effective_user.id)
    if not institutions:
        await update.effective_message.reply_text(t("care_operator_only", lang))
        return
    args = context.args or []
    try:
        day = parse_date(args[0])
        start_text, end_text = args[1].replace("－", "-").split("-")
        service, capacity, price = args[2], int(args[3]), float(args[4])
        ages = [int(x) for x in args[5].split("-")] if len(args) > 5 else [None, None]
        start, end = parse_time(start_text), parse_time(end_text)
    except (IndexError, ValueError):
        await update.effective_message.reply_text(t("care_addsession_usage", lang))
        return
    institution = institutions[0]
    try:
        await asyncio.to_thread(
            lambda: bookings.add_session(
                engine, institution.id, service=service, day=day, start_time=start, end_time=end, capacity=capacity,
                price=price, age_min_months=ages[0], age_max_months=ages[1], operator_user_id=update.effective_user.id,
            )
        )
    except bookings.BookingError as error:
        await update.effective_message.reply_text(t("care_addsession_error", lang, reason=error.message))
        return
    await update.effective_message.reply_text(
        t("care_addsession_done", lang, inst=institution.name, date=_day(day, lang), start=fmt_time(start),
          end=fmt_time(end), service=service, capacity=capacity, price=_money(price))
    )


def register(application: Application) -> None:
    """Register the care flow (text awaited by the flow is looked at first, in group -1)."""
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_awaited_text), group=-1)
    application.add_handler(CommandHandler("find", find_command))
    application.add_handler(CommandHandler("bookings", bookings_command))
    application.add_handler(CommandHandler("today", today_command))
    application.add_handler(CommandHandler("addsession", addsession_command))
    application.add_handler(MessageHandler(filters.LOCATION, on_location))
    application.add_handler(CallbackQueryHandler(on_filter_menu, pattern=r"^care:f:"))
    application.add_handler(CallbackQueryHandler(on_filter_set, pattern=r"^care:(set|tog):"))
    application.add_handler(CallbackQueryHandler(on_page, pattern=r"^care:page:\d+$"))
    application.add_handler(CallbackQueryHandler(on_institution, pattern=r"^care:inst:\d+$"))
    application.add_handler(CallbackQueryHandler(on_session, pattern=r"^care:sess:\d+$"))
    application.add_handler(CallbackQueryHandler(on_age, pattern=r"^care:age:\d+:\d+$"))
    application.add_handler(CallbackQueryHandler(on_confirm, pattern=r"^care:ok:\d+:\d+$"))
    application.add_handler(CallbackQueryHandler(on_drop, pattern=r"^care:drop$"))
    application.add_handler(CallbackQueryHandler(on_cancel_ask, pattern=r"^care:cx:\d+$"))
    application.add_handler(CallbackQueryHandler(on_cancel_yes, pattern=r"^care:cxy:\d+$"))
    application.add_handler(CallbackQueryHandler(on_cancel_no, pattern=r"^care:cxn$"))
    if application.job_queue is not None:
        application.job_queue.run_repeating(_reminder_job, interval=REMINDER_INTERVAL_S, first=5, name="care-reminders")

