"""Texts and keyboards of the care flow: pure functions from data to (HTML text, keyboard).

Every care button is built here with `CODEC.encode`, and every price goes through `fee_text` (a listed fee)
or `session_text` (a bookable session, always with its length), so the list, the card, the session button,
the confirmation, /bookings, the reminder and the operator's notification say the same thing.

This module holds the result list, the filters, the card and the booking; the shared words and the buttons'
codec live in `care_words`, the messages after the search in `care_messages`. All are re-exported here
(`views.X`), so handlers and tests need one import.
"""

from __future__ import annotations

import html
from datetime import date, timedelta

from telegram import InlineKeyboardMarkup

from bot.handlers.care_messages import (
    FullSession,
    addsession_choose,
    local_clock,
    render_addsession_done,
    render_booked,
    render_bookings,
    render_cancel_ask,
    render_offer,
    render_offer_expired,
    render_operator_note,
    render_reminder,
    render_today,
    render_waitlist_full,
    render_waitlist_joined,
    render_waitlist_left,
    spec_session,
    view_session,
)
from bot.handlers.care_words import (
    A_ADD_AT,
    A_AGE,
    A_CANCEL_ASK,
    A_CANCEL_NO,
    A_CANCEL_YES,
    A_CLEAR,
    A_CONFIRM,
    A_DROP,
    A_FILTER,
    A_INSTITUTION,
    A_PAGE,
    A_SESSION,
    A_SET_AGE,
    A_SET_BUDGET,
    A_SET_DATE,
    A_SET_SERVICE,
    A_TOGGLE,
    A_WL_JOIN,
    A_WL_LEAVE,
    A_WL_PASS,
    A_WL_TAKE,
    AGE_CHOICES,
    BUDGETS,
    CODE_SERVICES,
    CODEC,
    DATE_DAYS,
    DEFAULT_RADIUS_KM,
    FILTER_KEYS,
    PAGE_SIZE,
    REDUCTION_KEY,
    SERVICE_CODES,
    WEEKDAYS,
    budget_basis,
    budget_text,
    button,
    covered_cities,
    day_label,
    district_label,
    fee_text,
    hours_text,
    label,
    length_text,
    money,
    place_label,
    service_name,
    session_text,
)
from bot.texts import t
from db.care import search as care_search
from db.care.institutions import reductions_for_city
from db.care.prices import SERVICES

#: Everything the care flow renders, from here: the words (`care_words`), the messages after the search
#: (`care_messages`) and the list, filters, card and booking defined below.
__all__ = [
    "AGE_CHOICES",
    "A_ADD_AT",
    "A_AGE",
    "A_CANCEL_ASK",
    "A_CANCEL_NO",
    "A_CANCEL_YES",
    "A_CLEAR",
    "A_CONFIRM",
    "A_DROP",
    "A_FILTER",
    "A_INSTITUTION",
    "A_PAGE",
    "A_SESSION",
    "A_SET_AGE",
    "A_SET_BUDGET",
    "A_SET_DATE",
    "A_SET_SERVICE",
    "A_TOGGLE",
    "A_WL_JOIN",
    "A_WL_LEAVE",
    "A_WL_PASS",
    "A_WL_TAKE",
    "BUDGETS",
    "CODEC",
    "CODE_SERVICES",
    "DATE_DAYS",
    "DEFAULT_RADIUS_KM",
    "FILTER_KEYS",
    "FullSession",
    "PAGE_SIZE",
    "REDUCTION_KEY",
    "SERVICE_CODES",
    "WEEKDAYS",
    "addsession_choose",
    "age_example",
    "age_retry",
    "ask_age",
    "budget_basis",
    "budget_text",
    "button",
    "card_keyboard",
    "covered_cities",
    "day_label",
    "district_label",
    "example_text",
    "fee_text",
    "filter_choices",
    "filter_menu",
    "filters_summary",
    "has_filters",
    "hours_text",
    "label",
    "length_text",
    "local_clock",
    "money",
    "no_data_keyboard",
    "notice_text",
    "place_label",
    "render_addsession_done",
    "render_booked",
    "render_bookings",
    "render_cancel_ask",
    "render_card",
    "render_confirm",
    "render_no_data",
    "render_offer",
    "render_offer_expired",
    "render_operator_note",
    "render_reminder",
    "render_results",
    "render_today",
    "render_waitlist_full",
    "render_waitlist_joined",
    "render_waitlist_left",
    "result_price",
    "results_keyboard",
    "service_name",
    "session_text",
    "spec_session",
    "view_session",
]


# --- the result list --------------------------------------------------------------------------------------------


def has_filters(state: dict) -> bool:
    """Whether any filter is active."""
    return any(state.get(key) not in (None, False) for key in FILTER_KEYS)


def filters_summary(state: dict, lang: str) -> str:
    """The active filters in words ("none" when there are none)."""
    parts = []
    if state.get("age") is not None:
        parts.append(t("care_filter_age", lang, m=state["age"]))
    if state.get("service"):
        parts.append(service_name(state["service"], lang))
    if state.get("budget") is not None:
        parts.append(budget_text(state["budget"], state.get("service"), lang))
    if state.get("date"):
        parts.append(day_label(date.fromisoformat(state["date"]), lang))
    if state.get("puhui"):
        parts.append(t("care_filter_puhui", lang))
    if state.get("reduction"):
        parts.append(t("care_filter_reduction", lang))
    if not parts:
        return t("care_no_filters", lang)
    return ("，" if lang == "zh" else ", ").join(parts)


def result_price(result: care_search.SearchResult, lang: str) -> str:
    """The price of the service searched for (全日托 by default), reduced when a reduction applies."""
    service = result.price_service
    if result.price is None:
        return t("care_price_none", lang, service=service_name(service, lang))
    fee = fee_text(service, result.price, lang)
    if result.reduction is not None and result.base_price is not None and result.price != result.base_price:
        return t("care_price_reduced", lang, fee=fee, amount=money(result.reduction.amount), base=money(result.base_price))
    return fee


def notice_text(notice: dict | None, lang: str) -> str | None:
    """A one-time notice (filters kept, budget cleared, filters cleared) in the user's language."""
    if not notice:
        return None
    kind = notice.get("kind")
    if kind == "kept":
        return t("care_notice_kept", lang, filters=html.escape(filters_summary(notice["filters"], lang)))
    if kind == "budget_reset":
        return t(
            "care_notice_budget_reset", lang, service=service_name(notice["service"], lang),
            basis=t(f"care_basis_{budget_basis(notice['service'])}", lang),
            budget=budget_text(notice["budget"], notice.get("old_service"), lang),
        )
    if kind == "cleared":
        return t("care_notice_cleared", lang)
    return None


def render_results(page: care_search.SearchPage, state: dict, lang: str, notice: dict | None = None) -> str:
    """The result list message (HTML): where, the active filters, one line per centre."""
    if page.place is not None:
        header = t("care_header_place", lang, place=html.escape(place_label(page.place.city, page.place.district, lang)))
    else:
        header = t("care_header_near", lang, radius=money(state.get("radius", DEFAULT_RADIUS_KM)))
    lines = [header]
    note = notice_text(notice, lang)
    if note:
        lines.append(note)
    lines.append(t("care_filters", lang, filters=html.escape(filters_summary(state, lang))))
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
                puhui=t("care_puhui_mark", lang) if result.puhui else "",
                district=html.escape(district_label(result.city, result.district, lang)),
                distance=f"{result.distance_km:.1f}", price=html.escape(result_price(result, lang)),
                free=result.free_places,
            )
        )
    if page.reduction is not None and any(r.reduction for r in page.results):
        red = page.reduction
        unit = t("care_unit_per_child_month", lang) if red.unit == "元/人/月" else red.unit
        lines.append(
            t("care_reduction_note", lang, name=t("care_reduction_name", lang), amount=money(red.amount), unit=unit,
              source=html.escape(red.source))
        )
    return "\n".join(lines)


def render_no_data(lang: str, notice: dict | None = None) -> str:
    """No institution at all within reach (e.g. Beijing): say which cities have data."""
    lines = [note] if (note := notice_text(notice, lang)) else []
    lines.append(t("care_none_here", lang, cities=html.escape(covered_cities(lang))))
    return "\n".join(lines)


def results_keyboard(page: care_search.SearchPage, state: dict, lang: str) -> InlineKeyboardMarkup:
    """One button per result, the filter buttons (each showing its value), clear-all, and paging."""
    rows = [
        [button(f"{n}. {r.name}"[:40], A_INSTITUTION, r.institution_id)]
        for n, r in enumerate(page.results, start=page.offset + 1)
    ]
    any_ = t("care_any", lang)
    age = t("care_months", lang, m=state["age"]) if state.get("age") is not None else any_
    budget = budget_text(state["budget"], state.get("service"), lang) if state.get("budget") is not None else any_
    rows.append([
        button(t("care_btn_age", lang, value=age), A_FILTER, "age"),
        button(t("care_btn_budget", lang, value=budget), A_FILTER, "budget"),
    ])
    service = service_name(state["service"], lang) if state.get("service") else t("care_any_service", lang)
    day = day_label(date.fromisoformat(state["date"]), lang) if state.get("date") else t("care_any_date", lang)
    rows.append([
        button(t("care_btn_service", lang, value=service), A_FILTER, "svc"),
        button(t("care_btn_date", lang, value=day), A_FILTER, "date"),
    ])
    toggles = [button(t("care_btn_puhui", lang, mark="☑️" if state.get("puhui") else "⬜"), A_TOGGLE, "puhui")]
    cities = {r.city for r in page.results} | ({page.place.city} if page.place else set())
    if state.get("reduction") or any(reductions_for_city(city) for city in cities):
        toggles.append(
            button(t("care_btn_reduction", lang, mark="☑️" if state.get("reduction") else "⬜"), A_TOGGLE, "red")
        )
    rows.append(toggles)
    if has_filters(state):
        rows.append([button(t("care_btn_clear", lang), A_CLEAR)])
    paging = []
    current = state.get("page", 0)
    if page.offset > 0:
        paging.append(button(t("care_btn_prev", lang), A_PAGE, max(0, current - 1)))
    if page.has_more and current < 1000:
        paging.append(button(t("care_btn_next", lang), A_PAGE, current + 1))
    if paging:
        rows.append(paging)
    return InlineKeyboardMarkup(rows)


def no_data_keyboard(state: dict, lang: str) -> InlineKeyboardMarkup | None:
    """Only clear-all, when filters are on."""
    return InlineKeyboardMarkup([[button(t("care_btn_clear", lang), A_CLEAR)]]) if has_filters(state) else None


def filter_choices(kind: str, state: dict, today: date) -> list[object]:
    """The values offered for one filter (what a `set:` button may legitimately carry)."""
    if kind == "age":
        return list(AGE_CHOICES)
    if kind == "budget":
        return list(BUDGETS[budget_basis(state.get("service"))])
    if kind == "svc":
        return [SERVICE_CODES[s] for s in SERVICES]
    return [today + timedelta(days=i) for i in range(DATE_DAYS)]


def filter_menu(kind: str, state: dict, lang: str, today: date) -> InlineKeyboardMarkup:
    """The choices of one filter, and "any"."""
    values = filter_choices(kind, state, today)
    if kind == "age":
        choices = [button(t("care_months", lang, m=m), A_SET_AGE, m) for m in values]
        any_button = button(t("care_any", lang), A_SET_AGE, None)
    elif kind == "budget":
        service = state.get("service")
        choices = [button(budget_text(p, service, lang), A_SET_BUDGET, p) for p in values]
        any_button = button(t("care_any", lang), A_SET_BUDGET, None)
    elif kind == "svc":
        choices = [button(service_name(CODE_SERVICES[c], lang), A_SET_SERVICE, c) for c in values]
        any_button = button(t("care_any", lang), A_SET_SERVICE, None)
    else:
        choices = [button(day_label(d, lang), A_SET_DATE, d) for d in values]
        any_button = button(t("care_any", lang), A_SET_DATE, None)
    return InlineKeyboardMarkup([choices[i : i + 3] for i in range(0, len(choices), 3)] + [[any_button]])


# --- the card, the booking ----------------------------------------------------------------------------------------


def render_card(institution, slots: list, lang: str) -> str:
    """The details card: place, contact, hours, ages, long-term places, labels, fees, then the sessions title."""
    fees = "\n".join(
        f"• {fee_text(service, institution.fees[service], lang)}" for service in SERVICES if service in institution.fees
    )
    text = t(
        "care_details", lang, name=html.escape(institution.name),
        puhui=t("care_puhui_mark", lang) if institution.puhui else "",
        demo=t("care_demo_inline", lang) if institution.is_demo else "",
        city=html.escape(place_label(institution.city, "", lang)),
        district=html.escape(district_label(institution.city, institution.district, lang)),
        address=html.escape(institution.address or "—"), phone=html.escape(institution.phone or "—"),
        hours=html.escape(hours_text(institution.opening_hours, lang)), age_min=institution.age_min_months,
        age_max=institution.age_max_months, free=institution.free_places, total=institution.total_places,
        nature=html.escape(label(institution.legal_nature, lang)), form=html.escape(label(institution.form, lang)),
        filing=html.escape(label(institution.filing_status, lang)), fees=html.escape(fees) or "—",
    )
    return text + (t("care_sessions_title", lang) if slots else t("care_no_sessions", lang))


def card_keyboard(slots: list, state: dict | None, lang: str) -> InlineKeyboardMarkup:
    """One button per bookable session (with its length, price and free places), and back to the list."""
    rows = [
        [button(
            t("care_session_button" if s.free else "care_session_button_full", lang, date=day_label(s.date, lang),
              session=session_text(s.service, s.start_time, s.end_time, s.price, lang), free=s.free),
            A_SESSION, s.session_id,
        )]
        for s in slots[:8]
    ]
    if state:
        rows.append([button(t("care_btn_back", lang), A_PAGE, state.get("page", 0))])
    return InlineKeyboardMarkup(rows)


def age_example(low: int, high: int, preferred: int | None = None) -> int:
    """An example age inside [low, high]: the parent's filter when it fits, else the middle."""
    if preferred is not None and low <= preferred <= high:
        return preferred
    return (low + high) // 2


def example_text(months: int, lang: str) -> str:
    """The same example written as years and months (2岁3个月 / 2y3m)."""
    years, rest = divmod(months, 12)
    if lang == "zh":
        return f"{years}岁{rest}个月" if years and rest else (f"{years}岁" if years else f"{rest}个月")
    return (f"{years}y{rest}m" if rest else f"{years}y") if years else f"{rest} months"


def ask_age(session, institution, lang: str, age_filter: int | None) -> tuple[str, InlineKeyboardMarkup]:
    """Ask the child's age for a session; the age filter, when it fits, is offered first (never assumed)."""
    low, high = session.age_min_months, session.age_max_months
    example = age_example(low, high, age_filter)
    text = t(
        "care_ask_child_age", lang, inst=html.escape(institution.name), date=day_label(session.date, lang),
        session=session_text(session.service, session.start_time, session.end_time, session.price, lang),
        min=low, max=high, example=example, example_text=example_text(example, lang),
    )
    rows = []
    if age_filter is not None and low <= age_filter <= high:
        rows.append([button(t("care_btn_age_filter", lang, m=age_filter), A_AGE, session.id, age_filter)])
    choices = [m for m in range(low, high + 1, 6) if m != age_filter][:6]
    rows += [
        [button(t("care_months", lang, m=m), A_AGE, session.id, m) for m in choices[i : i + 3]]
        for i in range(0, len(choices), 3)
    ]
    rows.append([button(t("care_btn_cancel_flow", lang), A_DROP)])
    return text, InlineKeyboardMarkup(rows)


def age_retry(session, lang: str, *, unreadable: bool, age_filter: int | None = None) -> tuple[str, InlineKeyboardMarkup]:
    """Ask again (the typed age was unreadable or outside the session's range), staying in the booking."""
    low, high = session.age_min_months, session.age_max_months
    example = age_example(low, high, age_filter)
    key = "care_age_unreadable" if unreadable else "care_age_invalid"
    text = t(key, lang, min=low, max=high, example=example, example_text=example_text(example, lang))
    return text, InlineKeyboardMarkup([[button(t("care_btn_cancel_flow", lang), A_DROP)]])


def render_confirm(session, institution, months: int, lang: str) -> tuple[str, InlineKeyboardMarkup]:
    """The summary a parent confirms: centre, date, session with length and price, the child's age."""
    text = t(
        "care_confirm", lang, inst=html.escape(institution.name), date=day_label(session.date, lang),
        session=session_text(session.service, session.start_time, session.end_time, session.price, lang),
        age=months, demo=("\n" + t("care_demo_inline", lang).strip()) if institution.is_demo else "",
    )
    markup = InlineKeyboardMarkup([[
        button(t("care_btn_confirm", lang), A_CONFIRM, session.id, months),
        button(t("care_btn_cancel_flow", lang), A_DROP),
    ]])
    return text, markup
