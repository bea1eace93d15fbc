"""End to end: an operator goes through registration and filing with the real Application polling the fake
Bot API server over HTTP — chooses a legal nature, uploads two documents (after bad uploads that change
nothing), marks one item not applicable, asks a policy question mid-way, leaves; the bot restarts on the same
database; the operator resumes with /filing and gets the summary as a message and a DOCX."""

from __future__ import annotations

import io

from docx import Document
from pypdf import PdfReader

from bot.console_transport import running_application
from bot.local_api import application_is_busy
from db.core.engine import run_unit
from db.filing import cases as filing
from db.filing.workflow import load_workflow
from tests.unit_of_work import clear_state, load_state

USER = 5151
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200 + b"\xff\xd9"


async def _settle(api, app, since):
    await api.wait_for_bot(chat_id=USER, since=since)
    await api.wait_until_idle(busy=lambda: application_is_busy(app))
    return api.changes_since(since, USER)


async def _say(api, app, text):
    since = api.seq
    api.user_sends_text(USER, text)
    return await _settle(api, app, since)


async def _tap(api, app, message, text_contains, **kwargs):
    since = api.seq
    api.user_taps_button(USER, message.message_id, message.callback_data(text_contains), **kwargs)
    await api.wait_until_idle(busy=lambda: application_is_busy(app))
    return api.changes_since(since, USER)


async def _send_doc(api, app, name, data, mime=None):
    since = api.seq
    api.user_sends_document(USER, name, data, mime)
    return await _settle(api, app, since)


def _latest(messages, text_contains):
    return next(m for m in reversed(messages) if m.text and text_contains in m.text)


def _case(app):
    engine = app.bot_data["runtime"].engine
    return run_unit(engine, filing.current_case, USER)


async def test_operator_files_leaves_restarts_and_gets_summary(fake_bot_api, make_app):
    api = fake_bot_api.api
    wf = load_workflow()
    app = make_app(fake_bot_api)
    async with running_application(app):
        # /start → "I run a childcare centre" → the guide's button
        [greeting] = await _say(api, app, "/start")
        [role_reply] = await _tap(api, app, greeting, "托育机构经营者")
        assert "/filing" in role_reply.text
        [natures] = await _tap(api, app, role_reply, "开始备案指引")
        assert "法人性质" in natures.text and "事业单位" in natures.text and "家庭托育点" in natures.text
        assert len(natures.buttons) == 4

        # choose 营利性: where to register, the business scope, then the checklist with progress
        changes = await _tap(api, app, natures, "营利性")
        registration = _latest(changes, "登记：")
        assert "县级以上市场监督管理部门" in registration.text and "托育服务" in registration.text
        assert "国卫办人口发〔2019〕25号" in registration.text
        checklist = _latest(changes, "备案材料清单")
        assert "0/9" in checklist.text
        assert all(len(d.encode()) <= 64 for row in checklist.buttons for _, d in row)

        # open 营业执照; bad uploads are refused and change nothing
        [item] = await _tap(api, app, checklist, "营业执照")
        assert "PDF" in item.text and "10 MB" in item.text
        [wrong] = await _send_doc(api, app, "setup.exe", b"MZ\x90\x00" * 10, "application/x-msdownload")
        assert "只接受" in wrong.text and "没有保存" in wrong.text
        [large] = await _send_doc(api, app, "执照.pdf", b"%PDF-" + b"0" * (11 * 1024 * 1024))
        assert "文件太大" in large.text and "10 MB" in large.text
        [corrupt] = await _send_doc(api, app, "执照.pdf", b"this is not a pdf at all")
        assert "不是有效的 PDF" in corrupt.text
        case = _case(app)
        assert case.progress(wf).done == 0 and not case.documents

        # a good PDF
        [ok] = await _send_doc(api, app, "营业执照.pdf", PDF)
        assert "已收到" in ok.text and "1/9" in ok.text

        # 场地证明 as a photo
        [premises] = await _tap(api, app, ok, "场地证明")
        assert "场地证明" in premises.text
        since = api.seq
        api.user_sends_photo(USER, JPEG)
        [photo_ok] = await _settle(api, app, since)
        assert "场地证明" in photo_ok.text and "2/9" in photo_ok.text

        # 营业执照 cannot be "not applicable"; 食品经营许可证 can
        [checklist2] = await _tap(api, app, photo_ok, "返回清单")
        [food] = await _tap(api, app, checklist2, "食品经营许可证")
        assert "请向当地部门确认" in food.text and "待核实" not in food.text
        # "❓ 这是什么" explains, and leads back to the item (not a loop)
        [what] = await _tap(api, app, food, "这是什么")
        assert "食品经营许可证 是什么" in what.text
        [food] = await _tap(api, app, what, "返回“食品经营许可证”")
        assert "不适用" in food.button_texts[0] or any("不适用" in b for b in food.button_texts)
        [after_na] = await _tap(api, app, food, "不适用")
        assert "3/9" in after_na.text
        assert api.callback_answers[-1].text == "已标记“食品经营许可证”为不适用。"
        since = api.seq
        api.user_taps_button(USER, after_na.message_id, f"fl:x:{case.id}:license", stale_ok=True)
        await api.wait_until_idle(busy=lambda: application_is_busy(app))
        assert "不能标记为不适用" in api.callback_answers[-1].text
        assert api.changes_since(since, USER) == []

        # a policy question mid-way: answered, then a reminder of where we are
        replies = await _say(api, app, "张家港困境婴幼儿入托能减免多少费用？")
        assert any("减免500元" in m.text for m in replies)
        reminder = replies[-1]
        assert "3/9" in reminder.text and "返回清单" in reminder.button_texts[0]
        old_reminder = reminder

    case = _case(app)
    assert case.statuses == {"license": "uploaded", "premises": "uploaded", "food": "not_applicable"}
    [license_doc] = case.documents["license"]
    assert license_doc.file_name == "营业执照.pdf" and license_doc.file_size == len(PDF)
    assert license_doc.sha256 == filing.sha256_hex(PDF) and license_doc.file_id

    # the bot restarts: a new Application on the same database; in-memory state is gone, the flow state is not
    assert load_state(app.bot_data["runtime"].engine, USER, "filing").data["case"] == case.id
    app2 = make_app(fake_bot_api)
    async with running_application(app2):
        # the operator is still in the flow: a question is answered, then the reminder, as before the restart
        replies = await _say(api, app2, "张家港困境婴幼儿入托能减免多少费用？")
        assert any("减免500元" in m.text for m in replies)
        assert "您正在准备" in replies[-1].text and "3/9" in replies[-1].text
        # weeks later the stored state was purged: the flow is derived from the open case (files and asked-for
        # answers still go to it) — an unrelated question is just answered, no filing reminder appended …
        clear_state(app2.bot_data["runtime"].engine, USER, "filing")
        replies = await _say(api, app2, "张家港困境婴幼儿入托能减免多少费用？")
        assert any("减免500元" in m.text for m in replies)
        assert not any("您正在准备" in m.text for m in replies)
        assert not any("返回清单" in b for m in replies for b in m.button_texts)
        # … while a question about filing gets the reminder of where the case stands
        replies = await _say(api, app2, "备案还要准备哪些材料？")
        assert "您正在准备" in replies[-1].text and "3/9" in replies[-1].text
        # an old button from before the restart still works …
        [checklist_again] = await _tap(api, app2, old_reminder, "返回清单")
        assert "3/9" in checklist_again.text
        # … and one naming an item that no longer exists, or garbage, gets a polite answer
        api.user_taps_button(USER, old_reminder.message_id, f"fl:i:{case.id}:gone", stale_ok=True)
        await api.wait_until_idle(busy=lambda: application_is_busy(app2))
        assert "已过期" in api.callback_answers[-1].text
        api.user_taps_button(USER, old_reminder.message_id, "fl:zz:1:2", stale_ok=True)
        await api.wait_until_idle(busy=lambda: application_is_busy(app2))
        assert api.callback_answers[-1].text == "这个按钮已失效，请重新操作。"

        [resumed] = await _say(api, app2, "/filing")
        assert "欢迎回来" in resumed.text and "3/9" in resumed.text
        changes = await _tap(api, app2, resumed, "生成备案小结")
        summary = _latest(changes, "托育机构备案小结")
        assert len(summary.text) < 800  # short: status, what is missing, the next step; the rest in the files
        assert "材料进度：3/9" in summary.text and "还缺 6 项" in summary.text and "消防安全检查合格证明" in summary.text
        assert "下一步" in summary.text and "托育机构备案信息系统" in summary.text
        assert "5 个工作日" not in summary.text  # details are in the PDF/DOCX
        pdf, document = [m for m in changes if m.kind == "document"]
        assert pdf.filename.endswith(".pdf") and document.filename.endswith(".docx")
        # the document's button cannot edit a file message into text: the checklist comes as a new message
        [back] = await _tap(api, app2, document, "返回清单")
        assert back.kind == "message" and "3/9" in back.text

    pdf_text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages).replace("\n", "")
    assert "托育机构备案小结" in pdf_text and "营业执照.pdf" in pdf_text and "5 个工作日" in pdf_text
    docx = Document(io.BytesIO(document.data))
    body = "\n".join(p.text for p in docx.paragraphs)
    cells = "\n".join(cell.text for table in docx.tables for row in table.rows for cell in row.cells)
    assert "托育机构备案小结" in body
    for name in ("营业执照或其他法人登记证书", "场地证明", "食品经营许可证", "消防安全检查合格证明"):
        assert name in cells
    assert "营业执照.pdf" in cells and "不适用" in cells and "待准备" in cells
    assert "5 个工作日" in body and "县级卫生健康部门" in body


async def test_self_check_title_and_english(fake_bot_api, make_app):
    api = fake_bot_api.api
    app = make_app(fake_bot_api)
    async with running_application(app):
        [natures] = await _say(api, app, "/filing")
        changes = await _tap(api, app, natures, "家庭托育点")
        checklist = _latest(changes, "备案材料清单")
        [prompt] = await _tap(api, app, checklist, "自检")
        assert "乳儿班 8 3" in prompt.text
        [report] = await _say(api, app, "6 1")  # a 家庭托育点: no class name needed
        assert "超过最多 5 名" in report.text and "至少需要 2 名照护人员" in report.text
        assert "家庭托育点最多照护 5 名婴幼儿" in report.text
        await _tap(api, app, report, "再自检")
        [report2] = await _say(api, app, "乳儿班 11 3；托小班15人3名保育员")
        assert "超过每班最多 10 名" in report2.text and "至少需要 4 名保育人员" in report2.text
        assert "托育机构设置标准(试行)" in report2.text
        # a question while the plan is awaited: answered, and a reminder that the plan is still awaited
        await _tap(api, app, report2, "再自检")
        replies = await _say(api, app, "什么是普惠托育？")
        assert "班级计划" in replies[-1].text
        [back] = await _tap(api, app, replies[-1], "返回清单")
        [name_prompt] = await _tap(api, app, back, "机构名称")
        [named] = await _say(api, app, "阳光宝贝托育点")
        assert "阳光宝贝托育点" in named.text
        # another command leaves the flow: free text is plain policy QA again (no reminder)
        await _say(api, app, "/find")
        replies = await _say(api, app, "厦门每年新增多少个普惠托位？")
        assert not any("返回清单" in b for m in replies for b in m.button_texts)
        # English
        [menu] = await _say(api, app, "/lang")
        api.user_taps_button(USER, menu.message_id, "lang:en")
        await api.wait_until_idle(busy=lambda: application_is_busy(app))
        [resumed] = await _say(api, app, "/filing")
        assert "Welcome back" in resumed.text and "Filing form" in resumed.text


async def test_an_institution_name_with_html_characters_is_shown_as_typed(fake_bot_api, make_app):
    """Every text is HTML: a name such as "<A&B>" must reach the operator escaped in every message that
    repeats it (the title reply, the reminder after a policy answer, the summary's caption)."""
    api = fake_bot_api.api
    app = make_app(fake_bot_api)
    hostile = "<阳光&宝贝> 托育点 </b>"
    async with running_application(app):
        [natures] = await _say(api, app, "/filing")
        checklist = _latest(await _tap(api, app, natures, "营利性"), "备案材料清单")
        await _tap(api, app, checklist, "机构名称")
        [named] = await _say(api, app, hostile)
        assert hostile in named.text
        await _tap(api, app, named, "营业执照")
        replies = await _say(api, app, "什么是普惠托育？")  # a question inside the flow: answer + reminder
        assert any(hostile in (m.text or "") and "备案材料" in m.text for m in replies), [m.text for m in replies]
        [resumed] = await _say(api, app, "/filing")
        changes = await _tap(api, app, resumed, "生成备案小结")
        documents = [m for m in changes if m.kind == "document"]
        assert len(documents) == 2 and all(hostile in (m.text or "") for m in documents)
