"""kill -9 the real bot (`python -m bot run`, long polling against the fake Bot API over HTTP) in the middle of an
operator's filing (after choosing the legal nature; while the opened item awaits its file) and of a staff
member's draft (after uploading a document; while a typed field value is awaited); a new process continues from
the next message or tap, because both flows keep their state in the database (SQLite and PostgreSQL).

One scenario, three process starts: the operator and the staff member interleave, so each kill interrupts both."""

from __future__ import annotations

import shutil
from pathlib import Path

from db.core.engine import run_unit
from db.filing import cases as filing
from db.knowledge.registry import all_rows
from tests.db_fixtures import engine_url
from tests.e2e_harness import BotRuns, answer, quiet
from tests.kb_fixtures import SHENZHEN_V1
from tests.unit_of_work import load_state

OPERATOR, STAFF = 9393, 9494
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _has(text: str):
    return lambda m: text in (m.text or "")


async def test_kill_9_mid_filing_and_mid_draft_then_the_next_message_continues(
    db_engine, fake_bot_api, built_policy_index: Path, tmp_path, monkeypatch
):
    api = fake_bot_api.api
    # The policy index built once for the test run, copied: a staff upload waits for the policy service, and a
    # cold build would take most of a minute per process.
    shutil.copytree(built_policy_index, tmp_path / "data" / "index")
    monkeypatch.setenv("ADMIN_USER_IDS", str(STAFF))
    with BotRuns(fake_bot_api, engine_url(db_engine), tmp_path) as runs:
        bot = runs.start()
        since = api.seq
        api.user_sends_text(OPERATOR, "/filing")
        natures = await answer(api, OPERATOR, since, _has("法人性质"), bot)
        since = api.seq
        api.user_taps_button(OPERATOR, natures.message_id, natures.callback_data("营利性"))
        checklist = await answer(api, OPERATOR, since, _has("备案材料清单"), bot)
        since = api.seq
        api.user_sends_document(STAFF, "shenzhen.txt", SHENZHEN_V1.encode())
        preview = await answer(api, STAFF, since, _has("草稿预览"), bot)
        since = api.seq
        api.user_taps_button(STAFF, preview.message_id, preview.callback_data("✏️ 日期"))
        await answer(api, STAFF, since, _has("请回复新的日期"), bot)
        await quiet(api)

        bot.kill9()  # the operator chose the legal nature; the staff member's date is awaited
        case = run_unit(db_engine, filing.current_case, OPERATOR)
        assert load_state(db_engine, OPERATOR, "filing").data["case"] == case.id
        [draft] = [r for r in run_unit(db_engine, all_rows) if r.status == "draft"]
        assert load_state(db_engine, STAFF, "kb").data == {"draft": draft.id, "edit": {"row": draft.id, "field": "date"}}
        bot = runs.start()
        since = api.seq
        api.user_sends_text(STAFF, "2025年3月2日")
        edited = await answer(api, STAFF, since, _has("草稿预览"), bot)
        assert "日期：2025-03-02" in edited.text
        assert "已修改日期" in " ".join(m.text or "" for m in api.changes_since(since, STAFF))
        since = api.seq
        api.user_taps_button(OPERATOR, checklist.message_id, checklist.callback_data("营业执照"))
        item = await answer(api, OPERATOR, since, lambda m: m.message_id == checklist.message_id, bot)
        assert "营业执照" in item.text and "PDF" in item.text
        await quiet(api)

        bot.kill9()  # the opened item awaits its file; the draft is open for `城市：…` lines
        bot = runs.start()
        since = api.seq
        api.user_sends_document(OPERATOR, "营业执照.pdf", PDF)
        ok = await answer(api, OPERATOR, since, _has("已收到"), bot)
        assert "1/9" in ok.text
        assert run_unit(db_engine, filing.current_case, OPERATOR).statuses == {"license": "uploaded"}
        since = api.seq
        api.user_sends_text(STAFF, "城市：广州市")
        edited = await answer(api, STAFF, since, _has("草稿预览"), bot)
        assert "城市：广州市" in edited.text and "日期：2025-03-02" in edited.text
        everything = " ".join(m.text or "" for user in (OPERATOR, STAFF) for m in api.messages_to(user))
        assert "出了点问题" not in everything
