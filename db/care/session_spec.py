"""Parse an operator's `/addsession DATE START-END SERVICE PLACES PRICE [MIN-MAX]` arguments.

Every argument is checked here, once: a date within the next `MAX_DAYS_AHEAD` days, HH:MM times with the end
after the start, a session service (临时托/计时托, or temporary/hourly), 1–500 places, a price 0–100000 yuan,
an optional age range 0–72 months. Anything else raises `SpecError` whose `field` names the argument, so the
bot can answer politely in the operator's language. Pure: no I/O.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, time, timedelta

MAX_DAYS_AHEAD = 90
MAX_CAPACITY = 500
MAX_PRICE = 100000
SERVICE_ALIASES = {
    "临时托": "临时托", "臨時托": "临时托", "temporary": "临时托", "temp": "临时托",
    "计时托": "计时托", "計時托": "计时托", "hourly": "计时托",
}  # fmt: skip
_FULLWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}


class SpecError(ValueError):
    """An argument that is missing or out of range; `field` is usage, date, time, service, capacity, price or ages."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


@dataclass(frozen=True)
class SessionSpec:
    """A checked session to add."""

    day: date
    start: time
    end: time
    service: str
    capacity: int
    price: float
    age_min: int | None
    age_max: int | None

    def to_dict(self) -> dict:
        """JSON-friendly (kept in user_data while the operator chooses a centre)."""
        return {
            "day": self.day.isoformat(), "start": self.start.strftime("%H:%M"), "end": self.end.strftime("%H:%M"),
            "service": self.service, "capacity": self.capacity, "price": self.price,
            "age_min": self.age_min, "age_max": self.age_max,
        }

    @classmethod
    def from_dict(cls, data: dict) -> SessionSpec:
        """The inverse of `to_dict`."""
        return cls(
            day=date.fromisoformat(data["day"]), start=time.fromisoformat(data["start"]),
            end=time.fromisoformat(data["end"]), service=data["service"], capacity=int(data["capacity"]),
            price=float(data["price"]), age_min=data["age_min"], age_max=data["age_max"],
        )


def _int(text: str, low: int, high: int, field: str) -> int:
    if not re.fullmatch(r"\d{1,6}", text):
        raise SpecError(field)
    value = int(text)
    if not low <= value <= high:
        raise SpecError(field)
    return value


def _time(text: str) -> time:
    match = re.fullmatch(r"(\d{1,2})[:.](\d{2})", text)
    if not match:
        raise SpecError("time")
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        raise SpecError("time")
    return time(hour, minute)


def parse_session_spec(args: list[str], today: date) -> SessionSpec:
    """The checked session from the command's arguments; SpecError(field) on the first bad one."""
    args = [a.translate(_FULLWIDTH).strip() for a in args if a.strip()]
    if len(args) not in (5, 6) or any(len(a) > 32 for a in args):
        raise SpecError("usage")
    day_text, times_text, service_text, capacity_text, price_text = args[:5]
    match = re.fullmatch(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})", day_text)
    try:
        day = date(int(match.group(1)), int(match.group(2)), int(match.group(3))) if match else None
    except ValueError:
        day = None
    if day is None or not today <= day <= today + timedelta(days=MAX_DAYS_AHEAD):
        raise SpecError("date")
    parts = re.split(r"[-–—~－]", times_text)
    if len(parts) != 2:
        raise SpecError("time")
    start, end = _time(parts[0]), _time(parts[1])
    if end <= start:
        raise SpecError("time")
    service = SERVICE_ALIASES.get(service_text.lower())
    if service is None:
        raise SpecError("service")
    capacity = _int(capacity_text, 1, MAX_CAPACITY, "capacity")
    if not re.fullmatch(r"\d{1,6}(\.\d{1,2})?", price_text):
        raise SpecError("price")
    price = float(price_text)
    if not math.isfinite(price) or not 0 <= price <= MAX_PRICE:
        raise SpecError("price")
    age_min = age_max = None
    if len(args) == 6:
        ages = re.split(r"[-–—~－]", args[5])
        if len(ages) != 2:
            raise SpecError("ages")
        age_min, age_max = _int(ages[0], 0, 72, "ages"), _int(ages[1], 0, 72, "ages")
        if age_min > age_max:
            raise SpecError("ages")
    return SessionSpec(day, start, end, service, capacity, price, age_min, age_max)


__all__ = ["SessionSpec", "SpecError", "parse_session_spec"]
