"""How care prices and opening days are read: one rule used by the demo data, the search and every message.

Fees (`Institution.fees`): 全日托/半日托 per month, 计时托 per hour, 临时托 per *half-day* session (up to
`HALF_DAY_MAX_HOURS` hours). A full-day 临时托 session costs `FULL_DAY_FACTOR` × the half-day fee (rounded
to whole yuan) — the demo data prices its full-day sessions with `full_day_fee`, and lists and cards show both
figures, so a parent sees the same price for the same length everywhere. A session's own price is what is
booked; `session_length` says which length it is, so it is always shown with its length.

Opening days: `open_weekdays("周一至周五 08:00-18:00")` → {0..4}. Demo sessions are only generated on those
days, so a card never says 周一至周五 while offering a Saturday session.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time

HALF_DAY_MAX_HOURS = 4.0
FULL_DAY_FACTOR = 1.7
PER_MONTH, PER_HALF_DAY, PER_HOUR = "month", "half_day", "hour"
#: Service types (服务形式), declared once here (`db.models` re-exports them), and what one unit of each
#: service's listed fee buys.
SERVICES = ("全日托", "半日托", "临时托", "计时托")
#: Services that are booked as dated sessions.
SESSION_SERVICES = ("临时托", "计时托")
FEE_BASIS = {"全日托": PER_MONTH, "半日托": PER_MONTH, "临时托": PER_HALF_DAY, "计时托": PER_HOUR}
#: The unit written after a listed fee, per basis and per service.
BASIS_UNITS = {PER_MONTH: "元/月", PER_HALF_DAY: "元/次", PER_HOUR: "元/小时"}
SERVICE_UNITS = {service: BASIS_UNITS[FEE_BASIS[service]] for service in SERVICES}
#: A parent's budget choices per pricing basis (a monthly budget means nothing for a per-session price):
#: "session" budgets compare with a session's price (临时托), "hour" with 计时托's, "month" with the rest.
BUDGET_CHOICES = {"month": (1000, 1500, 2000, 3000), "session": (60, 80, 120, 200), "hour": (20, 30, 50, 80)}
#: The budget basis of each fee basis.
BUDGET_BASIS = {PER_MONTH: "month", PER_HALF_DAY: "session", PER_HOUR: "hour"}

_WEEKDAY_CHARS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}


@dataclass(frozen=True)
class SessionLength:
    """A session's length: `kind` is "half_day", "full_day" (临时托) or "hours" (计时托); `hours` always set."""

    kind: str
    hours: float


def hours_between(start: time, end: time) -> float:
    """Length in hours (0 when end is not after start)."""
    minutes = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
    return max(0, minutes) / 60


def session_length(service: str, start: time, end: time) -> SessionLength:
    """Whether a session is a half day, a full day (临时托) or a number of hours (计时托 and others)."""
    hours = hours_between(start, end)
    if service == "临时托":
        return SessionLength("half_day" if hours <= HALF_DAY_MAX_HOURS else "full_day", hours)
    return SessionLength("hours", hours)


def full_day_fee(half_day_fee: float) -> float:
    """The full-day 临时托 price derived from the half-day fee (whole yuan)."""
    return float(round(half_day_fee * FULL_DAY_FACTOR))


def open_weekdays(opening_hours: str | None) -> frozenset[int] | None:
    """Weekdays (Mon=0) an opening-hours text names, e.g. 周一至周五 → 0–4, 周一至周六 → 0–5, 每天 → all.

    None when the text names no days (then nothing is assumed).
    """
    if not opening_hours:
        return None
    text = opening_hours.replace("星期", "周").replace("礼拜", "周")
    if "每天" in text or "全年" in text or "天天" in text:
        return frozenset(range(7))
    days: set[int] = set()
    for first, last in re.findall(r"周([一二三四五六日天七])\s*(?:至|到|-|–|—|~)\s*周?([一二三四五六日天七])", text):
        a, b = _WEEKDAY_CHARS[first], _WEEKDAY_CHARS[last]
        days.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    text_wo_ranges = re.sub(r"周[一二三四五六日天七]\s*(?:至|到|-|–|—|~)\s*周?[一二三四五六日天七]", "", text)
    for single in re.findall(r"周([一二三四五六日天七])", text_wo_ranges):
        days.add(_WEEKDAY_CHARS[single])
    return frozenset(days) if days else None


__all__ = [
    "FEE_BASIS",
    "FULL_DAY_FACTOR",
    "HALF_DAY_MAX_HOURS",
    "SessionLength",
    "full_day_fee",
    "hours_between",
    "open_weekdays",
    "session_length",
]
