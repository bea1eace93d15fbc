"""Time helpers: every care time (sessions, "past", reminders) is Asia/Shanghai wall-clock time.

Datetimes stored in the database are UTC and come back timezone-aware (sqlmodel's UTCDateTime columns).
A naive datetime handed to these helpers is taken to be Asia/Shanghai local time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    """Timezone-aware now in UTC."""
    return datetime.now(UTC)


def now_local() -> datetime:
    """Timezone-aware now in Asia/Shanghai."""
    return datetime.now(SHANGHAI)


def to_local(moment: datetime | None) -> datetime:
    """`moment` (or now when None) as an aware Asia/Shanghai datetime; naive means Shanghai already."""
    if moment is None:
        return now_local()
    if moment.tzinfo is None:
        return moment.replace(tzinfo=SHANGHAI)
    return moment.astimezone(SHANGHAI)


def local_today(now: datetime | None = None) -> date:
    """Today's date in Asia/Shanghai."""
    return to_local(now).date()


def combine_local(day: date, at: time) -> datetime:
    """The aware Asia/Shanghai datetime of `day` at wall-clock `at`."""
    return datetime.combine(day, at, tzinfo=SHANGHAI)


def parse_date(text: str) -> date:
    """`YYYY-MM-DD` (also accepts `YYYY/MM/DD`); raises ValueError otherwise."""
    return date.fromisoformat(text.strip().replace("/", "-"))


def parse_time(text: str) -> time:
    """`HH:MM` or `HH:MM:SS`; raises ValueError otherwise."""
    text = text.strip().replace("：", ":")
    if len(text) == 4 and text[1] == ":":
        text = "0" + text
    return time.fromisoformat(text)


def fmt_time(at: time) -> str:
    """`HH:MM`."""
    return at.strftime("%H:%M")


def date_range(start: date, days: int) -> list[date]:
    """`days` consecutive dates from `start`."""
    return [start + timedelta(days=offset) for offset in range(days)]
