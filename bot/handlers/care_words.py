"""The care flow's words and buttons: constants, the callback codec with every care action declared once,
and the small renderers every care message shares (money, days, services, fees, session lengths, places).
Import them through `care_views`, which re-exports them."""

from __future__ import annotations

from datetime import date

from telegram import InlineKeyboardButton

from bot.callbacks import CallbackCodec, Choice, Id, Int, IsoDate, Optional
from bot.texts import join_names, t, texts_of
from db.care.institutions import load_places
from db.care.prices import BUDGET_BASIS, BUDGET_CHOICES, FEE_BASIS, full_day_fee, session_length
from db.core.timeutil import fmt_time

PAGE_SIZE = 5
_CARE_TEXTS = texts_of("care")
DEFAULT_RADIUS_KM = 10.0
AGE_CHOICES = (6, 12, 18, 24, 30)
DATE_DAYS = 7
SERVICE_CODES = {"全日托": "full", "半日托": "half", "临时托": "temp", "计时托": "hourly"}
CODE_SERVICES = {code: service for service, code in SERVICE_CODES.items()}
BUDGETS = BUDGET_CHOICES  # declared in db.care.prices
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
        if key in _CARE_TEXTS:
            return t(key, lang)
    return value
