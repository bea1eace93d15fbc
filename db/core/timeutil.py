"""Time helpers: every care time (sessions, "past", reminders) is wall-clock time in the configured zone,
`Settings.timezone` (default Asia/Shanghai), handed down at start-up by `bot.settings.configure_layers`
through `configure`.

Datetimes stored in the database are UTC and come back timezone-aware (sqlmodel's UTCDateTime columns).
A naive datetime handed to these helpers is taken to be local time in that zone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DEFAULT_TIMEZONE = "Asia/Shanghai"
#: The default zone by name (tests and benchmarks that mean Shanghai time say so).
SHANGHAI = ZoneInfo(DEFAULT_TIMEZONE)
_zone: ZoneInfo = SHANGHAI


def configure(timezone: str) -> None:
    """Set the wall-clock zone of every care time (an IANA name, e.g. `Settings.timezone`)."""
    global _zone
    _zone = ZoneInfo(timezone)


def local_zone() -> ZoneInfo:
    """The configured wall-clock zone."""
    return _zone


def utcnow() -> datetime:
    """Timezone-aware now in UTC."""
    return datetime.now(UTC)


def now_local() -> datetime:
    """Timezone-aware now in the configured zone."""
    return datetime.now(_zone)


def to_local(moment: datetime | None) -> datetime:
    """`moment` (or now when None) as an aware local datetime; naive means local already."""
    if moment is None:
        return now_local()
    if moment.tzinfo is None:
        return moment.replace(tzinfo=_zone)
    return moment.astimezone(_zone)


def local_today(now: datetime | None = None) -> date:
    """Today's date in the configured zone."""
    return to_local(now).date()


def combine_local(day: date, at: time) -> datetime:
    """The aware local datetime of `day` at wall-clock `at`."""
    return datetime.combine(day, at, tzinfo=_zone)


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
