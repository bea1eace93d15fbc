"""Settings.timezone reaches db/: "today", session start times and the reminders' "tomorrow" follow it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from bot.settings import Settings, configure_layers
from db.care import booking_notices, institutions
from db.core import timeutil
from db.core.engine import run_unit
from tests.db_fixtures import book, make_institution, make_session

#: 2030-03-04 20:00 UTC: already 03-05 (04:00) in Shanghai, still 03-04 (15:00) in New York.
INSTANT = datetime(2030, 3, 4, 20, 0, tzinfo=UTC)


@pytest.fixture
def zone():
    """Configure a zone for one test; the default (Asia/Shanghai) comes back afterwards."""
    yield lambda name: configure_layers(Settings(timezone=name))
    configure_layers(Settings())


def test_default_is_shanghai(zone):
    zone("Asia/Shanghai")
    assert timeutil.local_zone().key == "Asia/Shanghai"
    assert timeutil.local_today(INSTANT) == date(2030, 3, 5)


def test_a_non_default_timezone_changes_today_and_session_times(zone):
    zone("America/New_York")
    assert timeutil.local_today(INSTANT) == date(2030, 3, 4)
    start = timeutil.combine_local(date(2030, 3, 5), time(9, 0))
    assert start.astimezone(UTC) == datetime(2030, 3, 5, 14, 0, tzinfo=UTC)  # 09:00 EST
    assert timeutil.to_local(datetime(2030, 3, 4, 9, 0)).utcoffset().total_seconds() == -5 * 3600


def test_reminders_follow_the_configured_timezone(db_engine, zone):
    """A session on 03-05 is "tomorrow" at INSTANT in New York, but already today in Shanghai."""
    zone("America/New_York")
    institution_id = make_institution(db_engine)
    session_id = make_session(db_engine, institution_id, date(2030, 3, 5))
    early = datetime(2030, 3, 3, 12, 0, tzinfo=UTC)
    booked = book(db_engine, session_id, parent_id=7, child_age_months=12, now=early)
    assert [v.booking_id for v in run_unit(db_engine, booking_notices.due_reminders, INSTANT)] == [booked.id]
    zone("Asia/Shanghai")
    assert run_unit(db_engine, booking_notices.due_reminders, INSTANT) == []


def test_unknown_timezone_is_refused():
    with pytest.raises(ValueError, match="unknown timezone"):
        Settings(timezone="Mars/Olympus_Mons")


def test_knowledge_dir_comes_from_the_settings(zone, tmp_path):
    configure_layers(Settings(knowledge_dir=tmp_path))
    assert institutions.knowledge_dir() == tmp_path
    configure_layers(Settings())
    assert institutions.knowledge_dir() == institutions.DEFAULT_KNOWLEDGE_DIR
