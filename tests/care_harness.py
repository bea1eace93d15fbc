"""Shared pieces of the care end-to-end tests: the parent and operator, a centre with a bookable session, an
Application factory on the test settings' database, and taps that wait until the bot is idle.

Registered as a pytest plugin in tests/conftest.py, so its fixtures need no import."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from bot.app import build_application
from bot.local_api import application_is_busy
from db.core.engine import make_engine, session_scope
from db.core.migrate import upgrade_to_head
from db.core.timeutil import local_today
from db.models import Institution
from tests.db_fixtures import add_care_session
from tests.fakes.fixtures import FAKE_TOKEN

PARENT, OPERATOR = 5151, 7070
HOME = (24.4800, 118.0900)  # 厦门思明


@pytest.fixture
def engine(settings):
    """The test settings' database, migrated to head."""
    engine = make_engine(settings.sqlalchemy_url)
    upgrade_to_head(engine)
    return engine


@pytest.fixture
def centre(engine):
    """One 普惠 centre 1 km from HOME, linked to an operator, with a 2-place session tomorrow morning."""
    with session_scope(engine) as session:
        institution = Institution(
            name="阳光托育中心", city="厦门市", district="思明区", address="思明区测试路1号", lat=HOME[0] + 0.009,
            lon=HOME[1], legal_nature="营利性", form="社区嵌入式", puhui=True, filing_status="已备案",
            age_min_months=12, age_max_months=36, services=["全日托", "临时托"], fees={"全日托": 1600, "临时托": 120},
            total_places=40, free_places=5, phone="0592-1234567", opening_hours="周一至周五 08:00-18:00",
            operator_user_id=OPERATOR,
        )
        far = Institution(
            name="远方托育园", city="厦门市", district="同安区", address="同安区", lat=24.73, lon=118.15,
            puhui=False, services=["全日托"], fees={"全日托": 3500}, total_places=20, free_places=3,
        )
        session.add_all([institution, far])
        session.flush()
        institution_id = institution.id
    tomorrow = local_today() + timedelta(days=1)
    session_row = add_care_session(
        engine, institution_id, service="临时托", day=tomorrow, start_time=time(9), end_time=time(12),
        capacity=2, price=120, age_min_months=12, age_max_months=36,
    )
    return institution_id, session_row.id




@pytest.fixture
def app_for(settings, policy_service, engine):
    """`make(server)`: the bot's Application on `engine`, talking to the fake Bot API `server`."""

    def make(server):
        settings.telegram_base_url = server.base_url
        settings.telegram_base_file_url = server.base_file_url
        return build_application(settings, policy_service=policy_service, engine=engine, token=FAKE_TOKEN)

    return make


async def settle(api, app) -> None:
    """Return once the bot has fully reacted to what it was sent."""
    await api.wait_until_idle(busy=lambda: application_is_busy(app))


async def tap_as(api, app, user: int, message, data: str):
    """`user` taps `data` on `message` (stale or not); what changed for them once the bot is idle."""
    since = api.seq
    api.user_taps_button(user, message.message_id, data, stale_ok=True)
    await settle(api, app)
    return api.changes_since(since, user)


async def tap(api, app, message, data: str):
    """The parent taps `data` on `message`."""
    return await tap_as(api, app, PARENT, message, data)
