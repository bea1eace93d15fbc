"""Texts and keyboards of the care flow: pure functions from data to (HTML text, keyboard).

Every care button is built here with `CODEC.encode`, and every price goes through `fee_text` (a listed fee)
or `session_text` (a bookable session, always with its length), so the list, the card, the session button,
the confirmation, /bookings, the reminder and the operator's notification say the same thing.
"""

from __future__ import annotations

import html
from datetime import date, timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import texts_care  # noqa: F401  (registers the texts)
from bot.callbacks import CallbackCodec, Choice, Id, Int, IsoDate, Optional
from bot.texts import join_names, t
from db import care_search
from db.care_prices import BUDGET_BASIS, BUDGET_CHOICES, FEE_BASIS, SERVICES, full_day_fee, session_length
from db.institutions import load_places, reductions_for_city
from db.timeutil import fmt_time, to_local

PAGE_SIZE = 5
DEFAULT_RADIUS_KM = 10.0
AGE_CHOICES = (6, 12, 18, 24, 30)
DATE_DAYS = 7
SERVICE_CODES = {"全日托": "full", "半日托": "half", "临时托": "temp", "计时托": "hourly"}
CODE_SERVICES = {code: service for service, code in SERVICE_CODES.items()}
BUDGETS = BUDGET_CHOICES  # declared in db.care_prices
REDUCTION_KEY = "困境婴幼儿"
FILTER_KEYS = ("age", "budget", "puhui", "service", "date", "reduction")
WEEKDAYS = {"zh": "一二三四五六日", "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")}
_WEEKDAY_EN = dict(zip("一二三四五六日", WEEKDAYS["en"], strict=True)) | {"天": "Sun"}

# --- the care buttons, declared once ----------------------------------------------------------------------------
CODEC = CallbackCodec("care")
A_FILTER = CODEC.action("f", Choice(("age", "budget", "svc", "date")))
A_SET_AGE = CODEC.action("set:age", Optional(Int(0, 36)))
A_SET_BUDGET = CODEC.action("set:budget", Optional(Int(1, 100000)))
A_SET_SERVICE = CODEC.action("set:svc", Optional(Choice(tuple(CODE_SERVICES))))
A_SET_DATE = CODEC.action("set:date", Optional(IsoDate()))
A_TOGGLE = CODEC.action("tog", Choice(("puhui", "red")))
A_CLEAR = CODEC.action("clr")
A_PAGE = CODEC.action("page", Int(0, 1000))
A_INSTITUTION = CODEC.action("inst", Id())
A_SESSION = CODEC.action("sess", Id())
A_AGE = CODEC.action("age", Id(), Int(0, 72))
A_CONFIRM = CODEC.action("ok", Id(), Int(0, 72))
A_DROP = CODEC.action("drop")
A_CANCEL_ASK = CODEC.action("cx", Id())
A_CANCEL_YES = CODEC.action("cxy", Id())
A_CANCEL_NO = CODEC.action("cxn")
A_ADD_AT = CODEC.action("as", Id())
# The waitlist (排队): join a full session with the child's age; take or pass an offer; leave a queue entry.
A_WL_JOIN = CODEC.action("wj", Id(), Int(0, 72))
A_WL_TAKE = CODEC.action("wt", Id())
A_WL_PASS = CODEC.action("wp", Id())
A_WL_LEAVE = CODEC.action("wl", Id())


def button(text: str, action: str, *values: object) -> InlineKeyboardButton:
    """An inline button carrying `action` with typed `values` (encoded and size-checked by the codec)."""
    return InlineKeyboardButton(text, callback_data=CODEC.encode(action, *values))


# --- words and numbers --------------------------------------------------------------------------------------------


def money(value: float) -> str:
    """120, 120.5 (never 120.0)."""
    return f"{float(value):g}"


def day_label(d: date, lang: str) -> str:
    """12/1 周一 / Mon 12/1."""
    if lang == "zh":
        return f"{d.month}/{d.day} 周{WEEKDAYS['zh'][d.weekday()]}"
    return f"{WEEKDAYS['en'][d.weekday()]} {d.month}/{d.day}"


def service_name(service: str, lang: str) -> str:
    """临时托 / temporary care."""
    code = SERVICE_CODES.get(service)
    return t(f"care_svc_{code}", lang) if code else service


def budget_basis(service: str | None) -> str:
    """"month", "session" or "hour": what a budget for `service` (全日托 when None) is compared with."""
    return BUDGET_BASIS[FEE_BASIS[service or "全日托"]]


def budget_text(value: float, service: str | None, lang: str) -> str:
    """≤1500元/月, ≤ ¥120/half day…"""
    return t(f"care_budget_{budget_basis(service)}", lang, p=money(value))


def fee_text(service: str, fee: float, lang: str) -> str:
    """A listed fee with its unit; 临时托 shows the half-day and the full-day price."""
    basis = FEE_BASIS.get(service, "month")
    name = service_name(service, lang)
    if basis == "half_day":
        return t("care_fee_temp", lang, service=name, half=money(fee), full=money(full_day_fee(fee)))
    key = "care_fee_hour" if basis == "hour" else "care_fee_month"
    return t(key, lang, service=name, price=money(fee))


def length_text(service: str, start, end, lang: str) -> str:
    """半天 / 全天 / 2小时."""
    length = session_length(service, start, end)
    if length.kind == "hours":
        return t("care_len_hours", lang, hours=money(round(length.hours, 1)))
    return t(f"care_len_{length.kind}", lang)


def session_text(service: str, start, end, price: float, lang: str) -> str:
    """A bookable session: service, length, times and its price (the one price a parent pays)."""
    return t(
        "care_session", lang, service=service_name(service, lang), length=length_text(service, start, end, lang),
        start=fmt_time(start), end=fmt_time(end), price=money(price),
    )


def _place_names(lang: str) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    cities, districts = {}, {}
    for city in load_places():
        cities[city["city"]] = city["city"] if lang == "zh" else city["key"].title()
        for district in city["districts"]:
            districts[(city["city"], district["name"])] = (
                district["name"] if lang == "zh" else district["key"].title()
            )
    return cities, districts


def place_label(city: str, district: str, lang: str) -> str:
    """厦门市思明区 / Siming, Xiamen (unknown places stay as written)."""
    if lang == "zh":
        return city + district
    cities, districts = _place_names(lang)
    name = districts.get((city, district), district)
    return f"{name}, {cities.get(city, city)}" if name else cities.get(city, city)


def district_label(city: str, district: str, lang: str) -> str:
    """思明区 / Siming."""
    if lang == "zh":
        return district
    return _place_names(lang)[1].get((city, district), district)


def covered_cities(lang: str) -> str:
    """The cities that have care data: 厦门市、张家港市 / Xiamen, Zhangjiagang."""
    return join_names(list(_place_names(lang)[0].values()), lang)


def hours_text(opening: str | None, lang: str) -> str:
    """周一至周五 08:00-18:00 / Mon–Fri 08:00-18:00."""
    if not opening:
        return "—"
    if lang == "zh":
        return opening
    text = opening.replace("每天", "daily ").replace("至", "–").replace("到", "–")
    for zh, en in _WEEKDAY_EN.items():
        text = text.replace(f"周{zh}", en).replace(f"星期{zh}", en)
    return " ".join(text.split())


def label(value: str | None, lang: str) -> str:
    """A data label (legal nature, form, filing status) in the user's language."""
    if not value:
        return "—"
    for prefix in ("care_label_", "care_filing_"):
        key = prefix + value
        if key in texts_care.CARE_TEXTS:
            return t(key, lang)
    return value


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


def view_session(view, lang: str) -> str:
    """A booking's session in words (same as everywhere else)."""
    return session_text(view.service, view.start_time, view.end_time, view.price, lang)


def render_booked(view, lang: str) -> str:
    """The confirmation after booking."""
    return t(
        "care_booked", lang, code=view.code, inst=html.escape(view.institution_name), date=day_label(view.date, lang),
        session=view_session(view, lang), address=html.escape(view.address or view.district),
    )


def render_bookings(views: list, lang: str, entries: list | None = None) -> tuple[str, InlineKeyboardMarkup]:
    """/bookings: each booking with its session (length, price), the child's age, the code; cancel buttons.
    Then the parent's waitlist entries (`db.waitlist.WaitlistEntryView`) with their positions; leave buttons."""
    lines = [t("care_bookings_title", lang)] if views else []
    buttons = []
    for n, v in enumerate(views, start=1):
        lines.append(
            t("care_booking_line", lang, n=n, date=day_label(v.date, lang), session=view_session(v, lang),
              inst=html.escape(v.institution_name), age=v.child_age_months, code=v.code)
        )
        buttons.append(button(t("care_btn_cancel_booking", lang, n=n), A_CANCEL_ASK, v.booking_id))
    rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    if entries:
        if lines:
            lines.append("")
        lines.append(t("care_wl_title", lang))
        leave = []
        for n, e in enumerate(entries, start=1):
            common = dict(n=n, date=day_label(e.date, lang), inst=html.escape(e.institution_name),
                          session=session_text(e.service, e.start_time, e.end_time, e.price, lang),
                          age=e.child_age_months)
            if e.position is None and e.offer_expires_at is not None:
                lines.append(t("care_wl_line_offered", lang, until=local_clock(e.offer_expires_at), **common))
            else:
                lines.append(t("care_wl_line", lang, position=e.position or "—", **common))
            leave.append(button(t("care_wl_btn_leave", lang, n=n), A_WL_LEAVE, e.entry_id))
        rows += [leave[i : i + 2] for i in range(0, len(leave), 2)]
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def local_clock(moment) -> str:
    """An aware time as Asia/Shanghai HH:MM (M/D HH:MM when not today)."""
    local = to_local(moment)
    clock = local.strftime("%H:%M")
    return clock if local.date() == to_local(None).date() else f"{local.month}/{local.day} {clock}"


def render_waitlist_full(session, institution, queue: int, hold_minutes: int, months: int,
                         lang: str) -> tuple[str, InlineKeyboardMarkup]:
    """A full session: instead of a dead end, offer to join its waitlist (with the child's age)."""
    text = t(
        "care_wl_full", lang, inst=html.escape(institution.name), date=day_label(session.date, lang),
        session=session_text(session.service, session.start_time, session.end_time, session.price, lang),
        queue=t("care_wl_queue_size", lang, n=queue) if queue else "", hold=hold_minutes,
    )
    markup = InlineKeyboardMarkup([[
        button(t("care_wl_btn_join", lang), A_WL_JOIN, session.id, months),
        button(t("care_btn_cancel_flow", lang), A_DROP),
    ]])
    return text, markup


def render_waitlist_joined(entry, lang: str) -> str:
    """Joined: the position in the queue."""
    return t(
        "care_wl_joined", lang, inst=html.escape(entry.institution_name), date=day_label(entry.date, lang),
        session=session_text(entry.service, entry.start_time, entry.end_time, entry.price, lang),
        age=entry.child_age_months, position=entry.position or 1,
    )


def render_offer(view, lang: str) -> tuple[str, InlineKeyboardMarkup]:
    """A freed place offered to a waiting parent (`db.waitlist.OfferView`): take it or pass."""
    text = t(
        "care_wl_offer", lang, inst=html.escape(view.institution_name), date=day_label(view.date, lang),
        session=session_text(view.service, view.start_time, view.end_time, view.price, lang),
        age=view.child_age_months, until=local_clock(view.offer.expires_at),
    )
    markup = InlineKeyboardMarkup([[
        button(t("care_wl_btn_take", lang), A_WL_TAKE, view.offer_id),
        button(t("care_wl_btn_pass", lang), A_WL_PASS, view.offer_id),
    ]])
    return text, markup


def render_offer_expired(view, lang: str) -> str:
    """The hold on an offered place ended unanswered."""
    return t(
        "care_wl_expired_note", lang, inst=html.escape(view.institution_name), date=day_label(view.date, lang),
        session=session_text(view.service, view.start_time, view.end_time, view.price, lang),
    )


def render_waitlist_left(entry, lang: str) -> str:
    """Left a queue."""
    return t(
        "care_wl_left", lang, inst=html.escape(entry.institution_name), date=day_label(entry.date, lang),
        session=session_text(entry.service, entry.start_time, entry.end_time, entry.price, lang),
    )


def render_cancel_ask(view, lang: str) -> tuple[str, InlineKeyboardMarkup]:
    """Are you sure?"""
    text = t(
        "care_cancel_confirm", lang, date=day_label(view.date, lang), start=fmt_time(view.start_time),
        inst=view.institution_name, code=view.code,
    )
    markup = InlineKeyboardMarkup([[
        button(t("care_btn_cancel_yes", lang), A_CANCEL_YES, view.booking_id),
        button(t("care_btn_cancel_no", lang), A_CANCEL_NO),
    ]])
    return text, markup


def render_operator_note(key: str, view, lang: str, booked: int, capacity: int) -> str:
    """The operator's notification of a new or cancelled booking, with the session's price."""
    return t(
        key, lang, code=view.code, inst=view.institution_name, date=day_label(view.date, lang),
        session=view_session(view, lang), age=view.child_age_months, booked=booked, capacity=capacity,
    )


def render_reminder(view, lang: str) -> str:
    """The day-before reminder."""
    return t(
        "care_reminder", lang, inst=view.institution_name, code=view.code, session=view_session(view, lang),
        address=view.address or view.district,
    )


def render_today(institution_name: str, day: date, views: list, lang: str,
                 queues: list | None = None) -> str:
    """An operator's bookings of one centre on one day; then, per session with a waitlist, its queue length
    (`queues`: (session slot, waiting count) pairs)."""
    queued = [(s, n) for s, n in (queues or []) if n > 0]
    if not views and not queued:
        return t("care_today_none", lang, inst=html.escape(institution_name), date=day_label(day, lang))
    lines = [t("care_today_title", lang, inst=html.escape(institution_name), date=day_label(day, lang))]
    lines += [
        t("care_today_line", lang, session=view_session(v, lang), code=v.code, age=v.child_age_months,
          status=t(f"care_status_{v.status}", lang))
        for v in views
    ]
    lines += [
        t("care_today_queue", lang, session=session_text(s.service, s.start_time, s.end_time, s.price, lang),
          booked=s.booked, capacity=s.capacity, n=n)
        for s, n in queued
    ]
    return "\n".join(lines)


def spec_session(spec, lang: str) -> str:
    """A session an operator is adding, in words."""
    return session_text(spec.service, spec.start, spec.end, spec.price, lang)


def addsession_choose(spec, institutions: list, lang: str) -> tuple[str, InlineKeyboardMarkup]:
    """Which of the operator's centres gets the session."""
    text = t("care_addsession_choose", lang, session=spec_session(spec, lang), date=day_label(spec.day, lang),
             capacity=spec.capacity)
    rows = [[button(inst.name[:40], A_ADD_AT, inst.id)] for inst in institutions[:20]]
    return text, InlineKeyboardMarkup(rows)


def render_addsession_done(institution_name: str, spec, lang: str) -> str:
    """The session was added."""
    return t("care_addsession_done", lang, inst=institution_name, date=day_label(spec.day, lang),
             session=spec_session(spec, lang), capacity=spec.capacity)
