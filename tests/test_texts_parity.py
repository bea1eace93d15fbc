"""Every user-facing text (all of bot/locales/*.yaml) exists in Chinese and English with the same placeholders,
and renders."""

from __future__ import annotations

import string

import pytest

from bot.texts import TEXTS, t


def _placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


@pytest.mark.parametrize("key", sorted(TEXTS))
def test_both_languages_with_the_same_placeholders(key):
    variants = TEXTS[key]
    assert set(variants) == {"zh", "en"}, f"{key}: languages {sorted(variants)}"
    assert variants["zh"].strip() and variants["en"].strip()
    assert _placeholders(variants["zh"]) == _placeholders(variants["en"]), key


@pytest.mark.parametrize("key", sorted(TEXTS))
def test_renders_in_both_languages(key):
    fields = _placeholders(TEXTS[key]["zh"])
    values = {name.split(".")[0].split("[")[0]: "1" for name in fields}
    for lang in ("zh", "en"):
        assert t(key, lang, **values)
