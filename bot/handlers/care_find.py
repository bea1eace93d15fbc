"""Finding care: /find, a shared location or a typed place, the results with their filters and pages.

Routed from `care` (the filter, page and clear buttons arrive at `care.on_callback`); the search state is the
"search" key of the care flow state (see `care`).
"""

from __future__ import annotations

import html
import logging
from datetime import datetime

from sqlmodel import Session
from telegram import KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update

from bot.context import BotContext
from bot.handlers import care_views as views
from bot.handlers.care_base import FLOW, _conflict, _echo, _has_user, _reply, _safe_edit, _stale
from bot.state import FlowState, StateConflict, flow_state
from bot.texts import t
from db.care import search as care_search
from db.care.geo import valid_coordinates
from db.core.timeutil import local_today

log = logging.getLogger(__name__)


def _search_state(state: FlowState) -> dict | None:
    """The parent's current search (place, filters, page), or None when there is none."""
    found = state.get("search")
    return found if isinstance(found, dict) else None


async def _current_search(update: Update, lang: str, flow: FlowState) -> dict | None:
    """The parent's current search for a filter or page button; None (after a stale-button note) when gone."""
    state = _search_state(flow)
    if state is None:
        await _stale(update, lang)
    return state


def _search(state: dict, *, session: Session, unfiltered: bool = False) -> care_search.SearchPage | None:
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
        return care_search.search_by_district(state["place"], session=session, **kwargs)
    return care_search.search_nearby(
        state["lat"], state["lon"], session=session, radius_km=state.get("radius", views.DEFAULT_RADIUS_KM), **kwargs
    )


def _search_with_fallbacks(state: dict, *, session: Session) -> tuple[care_search.SearchPage | None, bool]:
    """(page, whether anything at all is within reach). A page past the end goes back to the first page."""
    page = _search(state, session=session)
    if page is not None and not page.results and page.total > 0 and state.get("page", 0) > 0:
        state["page"] = 0
        page = _search(state, session=session)
    if page is None or page.total > 0:
        return page, True
    if not views.has_filters(state):
        return page, False
    everything = _search(state, session=session, unfiltered=True)
    return page, bool(everything and everything.total)


async def _show_results(update: Update, context: BotContext, flow: FlowState, *, edit: bool) -> None:
    """Run the stored search, store the state, then show (or edit in place) the result list."""
    lang = context.language
    state = flow["search"]
    notice = state.pop("notice", None)
    try:
        page, anything = await context.db(_search_with_fallbacks, state)
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


async def find_command(update: Update, context: BotContext) -> None:
    """/find: ask for a location or a district name."""
    if not _has_user(update):
        return
    lang = context.language
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


async def on_location(update: Update, context: BotContext) -> None:
    """A shared location: search around it with the parent's current filters."""
    if not _has_user(update) or update.effective_message is None:
        return
    lang = context.language
    location = update.effective_message.location
    if location is None or not valid_coordinates(location.latitude, location.longitude):
        await update.effective_message.reply_text(t("care_location_invalid", lang))
        return
    try:
        async with flow_state(context, update.effective_user.id, FLOW) as state:
            await _new_search(update, context, state, lat=location.latitude, lon=location.longitude)
    except StateConflict:
        await _conflict(update, lang)


async def _new_search(update: Update, context: BotContext, flow: FlowState, **where: object) -> None:
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


async def _show_page(update: Update, context: BotContext, flow: FlowState, state: dict, page: int) -> None:
    """A button changed the search `state`: show its page `page` in place of the old results."""
    state["page"] = page
    await update.callback_query.answer()
    await _show_results(update, context, flow, edit=True)


async def _on_filter_menu(update: Update, context: BotContext, flow: FlowState, kind: str) -> None:
    """Show the choices of one filter in place of the result buttons."""
    lang = context.language
    state = await _current_search(update, lang, flow)
    if state is None:
        return
    await update.callback_query.answer()
    await update.callback_query.edit_message_reply_markup(views.filter_menu(kind, state, lang, local_today()))


async def _apply_filter(
    update: Update, context: BotContext, flow: FlowState, kind: str, value: object
) -> None:
    """Set one filter to an offered value (anything else is stale), announce a budget reset, show page 1."""
    lang = context.language
    state = await _current_search(update, lang, flow)
    if state is None:
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
    await _show_page(update, context, flow, state, 0)


async def _on_set_age(update, context, flow, value):
    await _apply_filter(update, context, flow, "age", value)


async def _on_set_budget(update, context, flow, value):
    await _apply_filter(update, context, flow, "budget", value)


async def _on_set_service(update, context, flow, value):
    await _apply_filter(update, context, flow, "service", value)


async def _on_set_date(update, context, flow, value):
    await _apply_filter(update, context, flow, "date", value)


async def _on_toggle(update: Update, context: BotContext, flow: FlowState, which: str) -> None:
    lang = context.language
    state = await _current_search(update, lang, flow)
    if state is None:
        return
    key = {"puhui": "puhui", "red": "reduction"}[which]
    state[key] = not state.get(key)
    await _show_page(update, context, flow, state, 0)


async def _on_clear(update: Update, context: BotContext, flow: FlowState) -> None:
    lang = context.language
    state = await _current_search(update, lang, flow)
    if state is None:
        return
    for key in views.FILTER_KEYS:
        state.pop(key, None)
    state["notice"] = {"kind": "cleared"}
    await _show_page(update, context, flow, state, 0)


async def _on_page(update: Update, context: BotContext, flow: FlowState, number: int) -> None:
    """Previous/next page, or back to the list from a details card."""
    lang = context.language
    state = await _current_search(update, lang, flow)
    if state is None:
        return
    await _show_page(update, context, flow, state, number)
