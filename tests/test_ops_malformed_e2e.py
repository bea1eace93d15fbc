"""Never trust a button or a typed id (issue #8 §2), operator and staff flows, end to end: the real
Application polls the fake Bot API server while a staff member (an admin), a non-staff user and an operator
tap every forged variant of every `fl:` and `kb:` button (`sample_malformed`), taps without a message, and
send /grant, /revoke, /link, /unlink with malformed ids. For each: no exception reaches the error handler,
the user gets an answer, and nothing in the database changes (other than the audit log recording refusals).

The forged data's default id, 1, is the id of another operator's filing case, so "someone else's case" is
among the variants."""

from __future__ import annotations

import pytest
from sqlalchemy import MetaData, select

from bot.callbacks import CallbackError, sample_malformed
from bot.console_transport import running_application
from bot.handlers import filing as filing_handlers
from bot.handlers import staff as staff_handlers
from bot.local_api import application_is_busy
from bot.texts import t
from db.accounts import roles
from db.core.engine import run_unit
from db.filing import cases as filing
from db.filing.workflow import load_workflow
from tests.db_fixtures import make_institution
from tests.e2e_harness import app_factory, record_errors

ADMIN, PARENT, OPERATOR, OTHER_OPERATOR = 9101, 9102, 9103, 9104
MALFORMED_IDS = ["", "abc", "-5", "0", "99999999999999999999", "1e3", "٣", "1.5", "%00", "9" * 13]
COMMANDS = {
    "grant": [*MALFORMED_IDS, f"{PARENT} overlord", f"{PARENT} staff extra"],
    "revoke": [*MALFORMED_IDS, f"{PARENT} {PARENT}"],
    "link": [*(f"{PARENT} {bad}" for bad in MALFORMED_IDS), *(f"{bad} 1" for bad in MALFORMED_IDS), f"{PARENT}"],
    "unlink": [*MALFORMED_IDS, "1 2"],
}


@pytest.fixture
def make_app(settings, kb_service):
    return app_factory(settings, kb_service, ADMIN)


def snapshot(engine) -> dict[str, list[tuple]]:
    """Every row of every table but the audit log (refusals are recorded there, by design)."""
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        return {
            name: sorted(map(repr, connection.execute(select(table)).all()))
            for name, table in metadata.tables.items()
            if name not in ("audit_log", "alembic_version")
        }


def audit_actions(engine) -> list[str]:
    metadata = MetaData()
    metadata.reflect(engine, only=["audit_log"])
    table = metadata.tables["audit_log"]
    with engine.connect() as connection:
        return [row.action for row in connection.execute(select(table).order_by(table.c.id))]


def tap_without_message(api, user_id: int, data: str) -> str:
    """A tap on a button of a message the bot cannot see (e.g. an inline message): no `message` field."""
    with api._lock:
        user = api._user(user_id)
        query_id = str(next(api._ids) * 1000 + user_id % 1000)
        api._callback_queries[query_id] = (user_id, data)
        api._queue_update(
            "callback_query",
            {"id": query_id, "from": user.as_user(), "chat_instance": f"ci{user_id}", "inline_message_id": "i1",
             "data": data},
        )
    return query_id


async def _idle(api, app) -> None:
    await api.wait_until_idle(busy=lambda: application_is_busy(app), timeout=120)


async def test_forged_buttons_and_command_ids_change_nothing(fake_bot_api, make_app):
    api = fake_bot_api.api
    app = make_app(fake_bot_api)
    engine = app.bot_data["runtime"].engine
    errors = record_errors(app)
    make_institution(engine, name="阳光托育")
    wf = load_workflow()
    other_case = run_unit(engine, filing.start_case, OTHER_OPERATOR)
    other_case = run_unit(engine, filing.choose_nature, OTHER_OPERATOR, other_case.id, "for_profit", wf)
    assert other_case.id == 1  # the forged variants' default id is someone else's case
    own_case = run_unit(engine, filing.start_case, OPERATOR)
    run_unit(engine, filing.choose_nature, OPERATOR, own_case.id, "for_profit", wf)

    async with running_application(app):
        anchors = {}
        for user in (ADMIN, PARENT, OPERATOR):
            since = api.seq
            api.user_sends_text(user, "/kb" if user == ADMIN else "/help")
            await api.wait_for_bot(chat_id=user, since=since, timeout=30)
            await _idle(api, app)
            anchors[user] = api.changes_since(since, user)[-1].message_id
        before, audit_before = snapshot(engine), len(audit_actions(engine))

        samples = [*sample_malformed(filing_handlers.CODEC), *sample_malformed(staff_handlers.CODEC)]
        # A lone surrogate cannot travel as UTF-8 through the fake server's JSON (the codec's own tests refuse
        # it: tests/test_callbacks.py); everything else goes through the whole stack.
        samples = [s for s in samples if s.encode("utf-8", "surrogatepass") == s.encode("utf-8", "replace")]
        assert any(s.startswith("fl:i:") for s in samples) and any(s.startswith("kb:pub:") for s in samples)
        query_ids: dict[str, tuple[int, str]] = {}
        for user in (ADMIN, PARENT, OPERATOR):
            for data in samples:
                query_ids[api.user_taps_button(user, anchors[user], data, stale_ok=True)] = (user, data)
            for data in ("fl:i:1:license", "kb:ret:xiamen", "kb:retok:xiamen", "fl:go"):
                query_ids[tap_without_message(api, user, data)] = (user, data)
            await _idle(api, app)

        answered = {a.callback_query_id: a for a in api.callback_answers}
        unanswered = [query_ids[q] for q in query_ids if q not in answered]
        assert not unanswered, unanswered[:10]
        stale = t("stale_button", "zh")
        decodable = 0
        for query_id, (user, data) in query_ids.items():
            answer = answered[query_id]
            codec = filing_handlers.CODEC if data.startswith("fl") else staff_handlers.CODEC
            try:
                codec.decode(data)
            except CallbackError:
                assert answer.text == stale, (user, data, answer.text)
                continue
            decodable += 1  # well-formed (e.g. `kb:doc:abc`, someone else's case): refused or answered
            if data.startswith("fl:") and user != OTHER_OPERATOR and ":1" in data:
                assert answer.text, (user, data)
        assert decodable > 20
        assert not errors, errors[:3]

        # Commands with malformed ids: the usage text (allowed users) or the refusal (others), one reply each.
        for user, expected in (
            (ADMIN, {"grant": "kb_usage_grant", "revoke": "kb_usage_revoke", "link": "kb_usage_link",
                     "unlink": "kb_usage_unlink"}),
            (PARENT, {"grant": "kb_refused_admin", "revoke": "kb_refused_admin", "link": "kb_refused",
                      "unlink": "kb_refused"}),
        ):
            for command, variants in COMMANDS.items():
                for args in variants:
                    since = api.seq
                    api.user_sends_text(user, f"/{command} {args}".rstrip())
                    await api.wait_for_bot(chat_id=user, since=since, timeout=30)
                    await _idle(api, app)
                    replies = api.changes_since(since, user)
                    assert [r.text for r in replies] == [t(expected[command], "zh")], (user, command, args)
        assert not errors, errors[:3]

    assert snapshot(engine) == before
    new_audit = audit_actions(engine)[audit_before:]
    assert set(new_audit) <= {"denied"}, set(new_audit)
    # The operators' cases are untouched: the other operator's case still has only its own state.
    assert run_unit(engine, filing.get_case, OTHER_OPERATOR, 1) == other_case
    assert not run_unit(engine, roles.has_role, PARENT, roles.STAFF)
