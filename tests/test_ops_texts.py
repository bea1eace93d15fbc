"""Filing and staff texts: every key in Chinese and English with the same placeholders, English views free of
Chinese labels (data — names of materials, cities, institutions, quotes — may stay Chinese), and every
staff error rendered from structured fields in both languages."""

from __future__ import annotations

import re
import string
from datetime import UTC, datetime

import pytest

from bot.handlers import staff
from bot.handlers.filing_views import (
    checklist_view,
    item_view,
    nature_view,
    plan_prompt,
    registration_text,
    summary_labels,
    what_text,
)
from bot.local_api import parse_html
from bot.texts import t, texts_of
from db.filing import cases as F
from db.filing.summary import build_summary, summary_brief
from db.filing.workflow import load_workflow
from retrieval.errors import ERROR_CODES, IngestError

FILING_TEXTS = texts_of("filing")
TEXTS = {**FILING_TEXTS, **texts_of("staff")}
CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
#: Chinese an English text may carry on purpose: the product's name and example values (a city as typed).
ALLOWED_IN_ENGLISH = ("托育助手", "深圳市")
NOW = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


@pytest.mark.parametrize("key", sorted(TEXTS))
def test_both_languages_with_the_same_placeholders(key):
    variants = TEXTS[key]
    assert set(variants) == {"zh", "en"}, key
    assert variants["zh"].strip() and variants["en"].strip(), key
    assert _placeholders(variants["zh"]) == _placeholders(variants["en"]), key
    english = variants["en"]
    for allowed in ALLOWED_IN_ENGLISH:
        english = english.replace(allowed, "")
    assert not CJK_RUN.search(english), (key, variants["en"])


def _zh_labels() -> set[str]:
    """Chinese wording of the filing templates (runs of 2+ characters outside placeholders)."""
    labels = set()
    for variants in FILING_TEXTS.values():
        literal = "".join(text for text, *_ in string.Formatter().parse(variants["zh"]))
        labels.update(run for run in CJK_RUN.findall(literal) if len(run) >= 2)
    return labels


def _english_data_terms() -> list[str]:
    """Chinese terms the workflow data's English itself uses (e.g. the name of the national filing system)."""
    import yaml

    from bot.settings import KNOWLEDGE_DIR

    terms: set[str] = set()

    def walk(node, english: bool = False) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, key == "en")
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif english and isinstance(node, str):
            terms.update(CJK_RUN.findall(node))

    for path in [KNOWLEDGE_DIR / "filing.yaml", *sorted((KNOWLEDGE_DIR / "filing_cities").glob("*.yaml"))]:
        walk(yaml.safe_load(path.read_text(encoding="utf-8")))
    return sorted(terms, key=len, reverse=True)


def _case(**changes) -> F.CaseView:
    values = dict(
        id=7, operator_id=1, title="Sunshine", city="台州市", legal_nature="for_profit", step="checklist",
        status="open", current_item="license", class_plan=[{"class_type": "infant", "children": 8, "carers": 3,
                                                             "youngest_months": 7, "count": 1}],
        created_at=NOW, updated_at=NOW, summary_sent_at=None,
        statuses={"license": F.UPLOADED, "food": F.NOT_APPLICABLE},
        documents={"license": (F.DocumentInfo("F", "U", "licence.pdf", "application/pdf", 2048, "c" * 64,
                                              id=1, item_id="license", uploaded_at=NOW),)},
    )
    values.update(changes)
    return F.CaseView(**values)


def test_english_filing_views_carry_no_chinese_labels():
    wf = load_workflow()
    case = _case()
    rendered = [
        *nature_view(wf, case, "en")[:1], checklist_view(wf, case, "en", 2)[0],
        item_view(wf, case, case.item(wf, "license"), "en")[0], item_view(wf, case, case.item(wf, "food"), "en")[0],
        registration_text(wf, "for_profit", "en"), what_text(wf, wf.material("food"), "en"),
        plan_prompt(wf, case, "en")[0],
        summary_brief(build_summary(case, wf, "en"), summary_labels("en")),
    ]
    buttons = [
        b.text
        for markup in (checklist_view(wf, case, "en", 2)[1], item_view(wf, case, case.item(wf, "food"), "en")[1])
        for row in markup.inline_keyboard for b in row
    ]
    labels = _zh_labels()
    assert len(labels) > 50
    for text in [*(parse_html(r)[0] for r in rendered), *buttons]:
        # English data names the Chinese term in brackets or quotes (“托育服务”, (备案书), 《…》); the city is data
        text = re.sub(r"[(（][^()（）]*[)）]|《[^》]*》|“[^”]*”|台州市", "", text)
        for term in _english_data_terms():
            text = text.replace(term, "")
        leaked = sorted(label for label in labels if label in text)
        assert not leaked, (leaked, text[:300])


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_staff_errors_from_structured_fields(lang):
    other = "en" if lang == "zh" else "zh"
    cases = [
        IngestError("unsupported_type", "binary content that is neither text nor a supported document",
                    reason="binary"),
        IngestError("unsupported_type", "this is a PNG image; send txt", reason="binary", format="png"),
        IngestError("unsupported_type", "x.pdf is named .pdf but its content is text", reason="mislabelled",
                    suffix=".pdf", kind="text"),
        IngestError("unsupported_type", "a zip archive that is not a Word (.docx) document", reason="zip"),
        IngestError("too_large", "the document expands past 5 bytes", reason="expands", limit=5 << 20),
        IngestError("too_large", "big", size=11 << 20, limit=10 << 20),
        IngestError("bad_metadata", "'x' is not a date (YYYY-MM-DD)", field="date", reason="not_a_date"),
        IngestError("bad_metadata", "title is longer than 200 characters", field="title", reason="too_long",
                    limit=200),
        IngestError("bad_metadata", "city 'x' looks like an advert", field="city", reason="suspicious"),
        IngestError("bad_metadata", "a document needs a title and a city", fields=["title", "city"]),
        *(IngestError(code, "some English detail") for code in ERROR_CODES),
    ]
    for exc in cases:
        text = staff.error_text(exc, lang)
        assert text and exc.message not in text, (exc.code, text)
        assert not re.search(r"[A-Za-z]+ [A-Za-z]+ [A-Za-z]+", text) if lang == "zh" else True, text
        if lang == "en":
            assert not CJK_RUN.search(text), text
        assert text != staff.error_text(exc, other)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_reminder_before_a_legal_nature_names_the_next_step_not_an_empty_count(lang):
    from bot.handlers.filing_views import reminder_view

    text, markup = reminder_view(load_workflow(), _case(legal_nature="", step="nature", title="<A&B>"), lang)
    assert "0/0" not in text and "&lt;A&amp;B&gt;" in text
    assert ("法人性质" if lang == "zh" else "legal nature") in text
    [[button]] = markup.inline_keyboard
    assert button.text == t("fl_btn_continue", lang), "no checklist yet: nothing to go back to"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_reminder_with_a_checklist_offers_the_way_back_to_it(lang):
    from bot.handlers.filing_views import reminder_view

    _, markup = reminder_view(load_workflow(), _case(), lang)
    assert markup.inline_keyboard[0][0].text == t("fl_btn_back", lang)
