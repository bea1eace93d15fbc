"""Two bot workers (two real python-telegram-bot Applications, each with its own database engine and memory) share
one database (SQLite and PostgreSQL) and one fake Bot API over HTTP. Alternate updates of the same user go to
alternate workers: an operator's filing flow (legal nature, item, upload, a question with its reminder, leaving
the flow) and a staff member's draft (upload, ✏️ a field, the typed value, a `城市：…` line, discard) continue
across them, because the flows keep their state in the database (`bot.state`, flows "filing" and "kb")."""

from __future__ import annotations

import pytest

from db.core.engine import run_unit
from db.filing import cases as filing
from db.knowledge.registry import all_rows
from tests.db_fixtures import engine_url
from tests.e2e_harness import worker_pair
from tests.kb_fixtures import SHENZHEN_V1
from tests.unit_of_work import load_state

OPERATOR, STAFF = 6262, 6363
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200 + b"\xff\xd9"


@pytest.fixture
async def workers(db_engine, fake_bot_api, tmp_path, policy_service):
    """Two workers over one policy service (built once per test run; the drafts made here are discarded and
    nothing is published, so it answers as before)."""
    async with worker_pair(engine_url(db_engine), fake_bot_api, tmp_path, service=policy_service, admin=STAFF) as pair:
        for worker in pair:
            worker.app.bot_data["runtime"].policy_ready.set()  # post_init (app.start) would set it
        yield pair


def _last_update(api) -> dict:
    return api.updates_log[-1]


def _latest(api, user: int, text: str):
    return next(m for m in reversed(api.messages_to(user)) if text in (m.text or ""))


async def test_a_filing_flow_continues_on_another_worker(db_engine, fake_bot_api, workers):
    api = fake_bot_api.api
    w1, w2 = workers

    api.user_sends_text(OPERATOR, "/filing")
    await w1.handle(_last_update(api))
    natures = _latest(api, OPERATOR, "法人性质")
    api.user_taps_button(OPERATOR, natures.message_id, natures.callback_data("营利性"))
    await w2.handle(_last_update(api))
    checklist = _latest(api, OPERATOR, "备案材料清单")
    assert "0/9" in checklist.text
    case = run_unit(db_engine, filing.current_case, OPERATOR)
    assert load_state(db_engine, OPERATOR, "filing").data["case"] == case.id

    api.user_taps_button(OPERATOR, checklist.message_id, checklist.callback_data("营业执照"))
    await w1.handle(_last_update(api))
    api.user_sends_document(OPERATOR, "营业执照.pdf", PDF)
    await w2.handle(_last_update(api))  # w2 never saw the item opened: the flow state says where the file goes
    assert "已收到" in api.last_message(OPERATOR).text and "1/9" in api.last_message(OPERATOR).text
    assert run_unit(db_engine, filing.current_case, OPERATOR).statuses == {"license": "uploaded"}

    api.user_sends_text(OPERATOR, "备案还要准备哪些材料？")
    await w1.handle(_last_update(api))  # a question in the flow: answered, then where the case stands
    reminder = api.last_message(OPERATOR)
    assert "您正在准备" in reminder.text and "1/9" in reminder.text

    api.user_sends_text(OPERATOR, "/find")
    await w2.handle(_last_update(api))  # another command leaves the flow, on every worker
    assert load_state(db_engine, OPERATOR, "filing").data["case"] is None
    sent = len(api.messages_to(OPERATOR))
    api.user_sends_photo(OPERATOR, JPEG)
    await w1.handle(_last_update(api))
    assert "已收到" not in api.last_message(OPERATOR).text and len(api.messages_to(OPERATOR)) == sent + 1
    assert run_unit(db_engine, filing.current_case, OPERATOR).statuses == {"license": "uploaded"}, "not filed: left the flow"
    assert not w1.errors and not w2.errors


async def test_a_staff_draft_continues_on_another_worker(db_engine, fake_bot_api, workers):
    api = fake_bot_api.api
    w1, w2 = workers

    api.user_sends_document(STAFF, "shenzhen.txt", SHENZHEN_V1.encode())
    await w1.handle(_last_update(api))
    preview = _latest(api, STAFF, "草稿预览")
    [draft] = [r for r in run_unit(db_engine, all_rows) if r.status == "draft"]
    assert load_state(db_engine, STAFF, "kb").data == {"draft": draft.id}

    api.user_taps_button(STAFF, preview.message_id, preview.callback_data("✏️ 日期"))
    await w2.handle(_last_update(api))
    assert "请回复新的日期" in api.last_message(STAFF).text
    api.user_sends_text(STAFF, "2025年3月2日")
    await w1.handle(_last_update(api))  # the value w2 asked for is typed to w1
    assert "日期：2025-03-02" in _latest(api, STAFF, "草稿预览").text
    assert "edit" not in load_state(db_engine, STAFF, "kb").data

    api.user_sends_text(STAFF, "城市：广州市")
    await w2.handle(_last_update(api))  # a field line for the draft w1 previewed
    preview = _latest(api, STAFF, "草稿预览")
    assert "城市：广州市" in preview.text and "日期：2025-03-02" in preview.text

    api.user_taps_button(STAFF, preview.message_id, preview.callback_data("丢弃"))
    await w1.handle(_last_update(api))
    assert load_state(db_engine, STAFF, "kb").data == {}
    api.user_sends_text(STAFF, "城市：深圳市")  # no draft any more: just a question, no edit
    await w2.handle(_last_update(api))
    assert not any("已修改" in (m.text or "") for m in api.messages_to(STAFF)[-2:])
    assert not w1.errors and not w2.errors
