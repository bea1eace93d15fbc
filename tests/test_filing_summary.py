"""The end-of-checklist summary as text and DOCX, in Chinese and English; and the bot's views of the flow
(checklist, item, self-check report) rendered from the data."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from docx import Document

from bot.handlers.filing_views import (
    checklist_view,
    item_view,
    nature_view,
    registration_text,
    report_lines,
    summary_labels,
)
from bot.local_api import parse_html
from db.filing import cases as F
from db.filing.pdf import pdf_filename, summary_pdf
from db.filing.readiness import check_text
from db.filing.summary import (
    LABEL_KEYS,
    build_summary,
    docx_filename,
    summary_brief,
    summary_docx,
    summary_text,
)
from db.filing.workflow import load_workflow

NOW = datetime(2025, 3, 1, 2, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def wf():
    return load_workflow()


def _doc(item_id, name="营业执照.pdf"):
    return F.DocumentInfo("FID", "UID", name, "application/pdf", 2048, "c" * 64, id=1, item_id=item_id, uploaded_at=NOW)


def _case(nature="for_profit", city="", plan=None):
    return F.CaseView(
        id=7, operator_id=1, title="阳光托育", city=city, legal_nature=nature, step="checklist", status="open",
        current_item="premises", class_plan=plan or [], created_at=NOW, updated_at=NOW, summary_sent_at=None,
        statuses={"license": F.UPLOADED, "filing_form": F.READY, "food": F.NOT_APPLICABLE},
        documents={"license": (_doc("license"),)},
    )


def _docx_text(data: bytes) -> tuple[str, str]:
    doc = Document(io.BytesIO(data))
    body = "\n".join(p.text for p in doc.paragraphs)
    cells = "\n".join(c.text for t in doc.tables for r in t.rows for c in r.cells)
    return body, cells


def test_labels_exist_in_both_languages():
    for lang in ("zh", "en"):
        labels = summary_labels(lang)
        assert set(labels) == set(LABEL_KEYS) and all(labels.values())


def test_summary_text_and_docx_in_chinese(wf):
    case = _case(city="台州市")
    summary = build_summary(case, wf, "zh", readiness_lines=["乳儿班：9 名婴幼儿，3 名保育人员"])
    text = summary_text(summary, summary_labels("zh"))
    assert "机构：阳光托育" in text and "材料进度：3/9" in text
    assert "✅ 已准备（2）" in text and "营业执照.pdf（2 KB" in text and "sha256 cccccccccccc" in text
    assert "2025-03-01 10:30" in text  # Beijing time
    assert "⬜ 还缺（6）" in text and "➖ 不适用" in text
    assert "托育机构备案信息系统" in text and "5 个工作日" in text and "15 个工作日" in text
    assert "43 件减至 18 件" in text  # Taizhou's local note
    assert "《台州市卫生健康委关于市政协六届一次会议第2022288号提案答复的函》" in text
    assert "注销" in text and "县级以上市场监督管理部门" in text and "乳儿班：9 名" in text

    data = summary_docx(summary, summary_labels("zh"))
    body, cells = _docx_text(data)
    assert "托育机构备案小结" in body and "阳光托育" in body
    for item in wf.materials_for("for_profit", "台州市"):
        assert item.name.get("zh") in cells
    assert "营业执照.pdf" in cells and "已准备（未上传）" in cells and "不适用" in cells and "待准备" in cells
    assert "食品经营许可证（请向当地部门确认）" in cells and "待核实" not in body + cells
    assert "5 个工作日" in body and "由托育助手生成于" in body
    assert docx_filename(summary).startswith("filing-summary-7-") and docx_filename(summary).endswith(".docx")


def test_summary_in_english(wf):
    summary = build_summary(_case(), wf, "en")
    text = summary_text(summary, summary_labels("en"))
    assert "Childcare centre filing summary" in text and "Still missing (6)" in text
    assert "within 5 working days" in text and "within 15 working days" in text
    body, cells = _docx_text(summary_docx(summary, summary_labels("en")))
    assert "Business licence or other registration certificate" in cells and "Where and how to file" in body


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return "".join(page.extract_text() for page in reader.pages)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_brief_is_short_and_says_status_missing_and_next_step(wf, lang):
    labels = summary_labels(lang)
    for case in (_case(city="台州市"), _case(city="台州市").__class__(**{**_case().__dict__, "statuses": {}})):
        summary = build_summary(case, wf, lang)
        brief = summary_brief(summary, labels)
        missing = summary.by_status("missing")
        assert len(brief) < 800, len(brief)
        assert labels["progress"].format(done=summary.progress.done, total=summary.progress.total) in brief
        assert labels["brief_missing"].format(n=len(missing)) in brief
        assert all(item.name in brief for item in missing)
        assert wf.data.filing.authority.text.get(lang) in brief  # the next step: where to file
        assert "PDF" in brief and "DOCX" in brief
        assert "sha256" not in brief and wf.source("reg2019").cite() not in brief  # details stay in the files
    done = _case()
    done = done.__class__(**{**done.__dict__, "statuses": {i.material.id: F.READY for i in done.items(wf)}})
    brief = summary_brief(build_summary(done, wf, lang), labels)
    assert labels["brief_done"] in brief and labels["brief_missing"].format(n=0) not in brief


def test_summary_pdf_renders_chinese(wf):
    summary = build_summary(_case(city="台州市"), wf, "zh", readiness_lines=["乳儿班：9 名婴幼儿，3 名保育人员"])
    data = summary_pdf(summary, summary_labels("zh"))
    assert data.startswith(b"%PDF")
    text = _pdf_text(data).replace("\n", "")
    assert "托育机构备案小结" in text and "机构：阳光托育" in text and "材料进度：3/9" in text
    for item in wf.materials_for("for_profit", "台州市"):
        assert item.name.get("zh") in text, item.name.get("zh")
    assert "营业执照.pdf" in text and "托育机构备案信息系统" in text and "43 件减至 18 件" in text
    assert "乳儿班：9 名婴幼儿" in text and "待核实" not in text
    assert pdf_filename(summary) == docx_filename(summary)[:-5] + ".pdf"
    english = _pdf_text(summary_pdf(build_summary(_case(), wf, "en"), summary_labels("en")))
    assert "Childcare centre filing summary" in english and "阳光托育" in english


def test_views_are_valid_telegram_html_with_short_buttons(wf):
    case = _case(city="台州市")
    for lang in ("zh", "en"):
        views = [nature_view(wf, case, lang), checklist_view(wf, case, lang, 2),
                 item_view(wf, case, case.item(wf, "license"), lang), item_view(wf, case, case.item(wf, "food"), lang)]
        for text, markup in views:
            plain, _ = parse_html(text)  # raises on bad HTML, as Telegram would refuse it
            assert len(plain) <= 4096
            for row in markup.inline_keyboard:
                for button in row:
                    assert len(button.callback_data.encode()) <= 64
        parse_html(registration_text(wf, "family", lang))
    text, markup = checklist_view(wf, case, "zh", 2)
    assert "进度 <b>3/9</b>" in text and "台州市本地提示" in text
    labels = [b.text for row in markup.inline_keyboard for b in row]
    assert "✅ 营业执照或其他法人登记证书" in labels and "🏠 我的机构（2）" in labels
    # only items that may be "not applicable" offer the button
    license_buttons = [b.text for row in item_view(wf, case, case.item(wf, "license"), "zh")[1].inline_keyboard for b in row]
    assert "➖ 不适用" not in license_buttons
    other = item_view(wf, case, case.item(wf, "other_local"), "zh")[1]
    assert "➖ 不适用" in [b.text for row in other.inline_keyboard for b in row]


def test_report_lines_name_each_violation_with_its_rule(wf):
    _, report = check_text("乳儿班 11 3; 托小班 15 3; 混合编班 18 2 17月", wf)
    lines = report_lines(wf, report, "zh")
    text = "\n".join(lines)
    assert "发现 3 处" in text
    assert "第1个班（乳儿班）：11 名婴幼儿，超过每班最多 10 名" in text
    assert "11 名婴幼儿至少需要 4 名保育人员，计划只有 3 名" in text
    assert "第3个班（混合编班）：最小的婴幼儿 17 个月，不足 18 个月" in text
    assert "规则：乳儿班（6–12 个月）每班不超过 10 人" in text and "国卫人口发〔2019〕58号" in text
    _, ok = check_text("乳儿班 9 3", wf)
    assert "全部符合" in "\n".join(report_lines(wf, ok, "zh"))
    assert "All within the rules" in "\n".join(report_lines(wf, ok, "en"))
