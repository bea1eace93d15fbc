"""Care texts: every key in Chinese and English with the same placeholders; data labels in English."""

from __future__ import annotations

import re
import string

import pytest

from bot.handlers import care_views as views
from bot.texts import t, texts_of

CARE_TEXTS = texts_of("care")
CJK = re.compile(r"[\u3400-\u9fff]")
# English texts may quote these Chinese terms next to their English wording.
QUOTED_ZH = ("困境婴幼儿", "临时托", "计时托", "普惠")


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("key", sorted(CARE_TEXTS))
def test_both_languages_with_the_same_placeholders(key):
    variants = CARE_TEXTS[key]
    assert set(variants) == {"zh", "en"}, key
    assert _fields(variants["zh"]) == _fields(variants["en"]), key
    english = variants["en"]
    for term in QUOTED_ZH:
        english = english.replace(term, "")
    if not key.startswith("care_label_") and not key.startswith("care_filing_"):
        assert not CJK.search(english), f"{key}: Chinese in the English text"


@pytest.mark.parametrize("key", sorted(CARE_TEXTS))
def test_every_key_renders_in_both_languages(key):
    values = {name: "X" for name in _fields(CARE_TEXTS[key]["zh"])}
    for lang in ("zh", "en"):
        assert "{" not in t(key, lang, **values)


def test_english_labels():
    assert views.service_name("临时托", "en") == "temporary care"
    assert views.label("已备案", "en") == "filed" and views.label("营利性", "en") == "for-profit"
    assert views.hours_text("周一至周五 08:00-18:00", "en") == "Mon–Fri 08:00-18:00"
    assert views.place_label("厦门市", "思明区", "en") == "Siming, Xiamen"
    assert t("care_filter_age", "en", m=12) == "age 12 months"
    for service in views.SERVICES:
        assert not CJK.search(views.fee_text(service, 100, "en"))
        assert not CJK.search(views.service_name(service, "en"))


def test_age_prompt_example_lies_in_the_range():
    for low, high in [(24, 36), (6, 12), (12, 36), (0, 72), (30, 30)]:
        for preferred in (None, 18, 5, 30):
            example = views.age_example(low, high, preferred)
            assert low <= example <= high


def test_echoed_user_text_is_safe():
    from bot.handlers.care import _echo

    assert _echo("火星\ud800<b>\n") == "火星&lt;b&gt;"
    assert len(_echo("x" * 500)) == 40
    "".join(_echo("\ud800\udfff")).encode("utf-8")
