"""End to end, table-driven: every button prefix the bot registers, fed forged data (huge, negative, empty,
non-numeric, missing or extra arguments, lone surrogates) by a parent and by staff, through the real
python-telegram-bot stack over HTTP. No tap may reach the error handler, every tap is answered, and the
database is exactly as before (the audit log excepted: refused staff actions are recorded on purpose)."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import MetaData, select

from bot.app import build_application
from bot.callbacks import REGISTRY, sample_malformed
from bot.console_transport import running_application
from bot.local_api import application_is_busy
from tests.e2e_harness import app_factory
from tests.fakes.fixtures import FAKE_TOKEN

PARENT = 6161
STAFF = 6262
NOT_COMPARED = {"audit_log", "alembic_version"}


def _fingerprint(engine) -> dict[str, str]:
    """A digest of every row of every table (but the audit log)."""
    meta = MetaData()
    meta.reflect(engine)
    digests = {}
    with engine.connect() as conn:
        for name, table in sorted(meta.tables.items()):
            if name in NOT_COMPARED:
                continue
            rows = sorted(repr(tuple(row)) for row in conn.execute(select(table)))
            digests[name] = hashlib.sha256("\n".join(rows).encode("utf-8", "surrogatepass")).hexdigest()
    return digests


@pytest.fixture
def make_app(settings, policy_service):
    return app_factory(settings, policy_service, STAFF, spy_errors=True)


def test_every_registered_callback_pattern_has_a_codec(settings):
    """A flow that parses its own callback data by hand would escape the table below."""
    from telegram.ext import CallbackQueryHandler

    app = build_application(settings, token=FAKE_TOKEN)
    patterns = [
        h.pattern.pattern if h.pattern is not None and hasattr(h.pattern, "pattern") else h.pattern
        for group in app.handlers.values() for h in group if isinstance(h, CallbackQueryHandler)
    ]
    codec_patterns = {codec.pattern for codec in REGISTRY.values()}
    unmanaged = [p for p in patterns if p is not None and p not in codec_patterns]
    assert unmanaged == []


@pytest.mark.parametrize("user", [PARENT, STAFF], ids=["parent", "staff"])
async def test_forged_buttons_change_nothing(fake_bot_api, make_app, user):
    api = fake_bot_api.api
    app = make_app(fake_bot_api)
    async with running_application(app):
        for opening in ("/start", "/kb"):  # /kb: staff see the registry, which syncs the catalog into it once
            api.user_sends_text(user, opening)
            await api.wait_for_bot(chat_id=user)
            await api.wait_until_idle(busy=lambda: application_is_busy(app))
        message_id = api.last_message(user).message_id
        engine = app.bot_data["runtime"].engine
        before = _fingerprint(engine)
        forged = [data for codec in REGISTRY.values() for data in sample_malformed(codec)]
        forged += ["", "\ud800", "x" * 64]
        assert len(forged) > 100
        answered_before = len(api.callback_answers)
        for start in range(0, len(forged), 50):
            for data in forged[start:start + 50]:
                api.user_taps_button(user, message_id, data, stale_ok=True)
            await api.wait_until_idle(busy=lambda: application_is_busy(app), timeout=60)
        assert app.bot_data["errors"] == []
        assert len(api.callback_answers) - answered_before == len(forged), "every tap answered"
        assert _fingerprint(engine) == before
