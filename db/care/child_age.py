"""Parse a child's age as a parent types it into whole months.

Accepted (months are the default unit, as the booking prompt asks for months):
`18`, `18个月`, `18 months`, `18m`, `1岁`, `1岁半` (18), `两岁` (24), `2岁3个月` (27), `2岁零3个月`, `1y6m`,
`1 year 6 months`, `1.5岁`, `半岁` (6), full-width digits (`１８`), Chinese numerals up to 99 (`十八个月`).
Anything else — circled or other exotic digits (`①`), negative numbers, words, more than `MAX_MONTHS` — is
refused with None, so the caller can ask again. Pure: no I/O, no bot imports.
"""

from __future__ import annotations

import re

MAX_MONTHS = 72  # the booking rules accept 0–72 months; a session's own range is checked later

_FULLWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "兩": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}

_NUM = r"(\d{1,3}(?:\.\d)?|[零〇一二两兩三四五六七八九十]{1,3})"
_MONTH_UNIT = r"(?:个月大?|個月大?|月龄|月齡|月|months?|mos?|m)"
_YEAR_UNIT = r"(?:周岁|週歲|岁|歲|years?|yrs?|y)"
_PATTERNS = (
    ("months", re.compile(rf"^{_NUM}\s*({_MONTH_UNIT})?$")),
    ("years", re.compile(rf"^{_NUM}\s*{_YEAR_UNIT}\s*(半)?$")),
    ("years_months", re.compile(rf"^{_NUM}\s*{_YEAR_UNIT}\s*(?:零|又|and)?\s*{_NUM}\s*{_MONTH_UNIT}?$")),
    ("half_year", re.compile(r"^半\s*(?:岁|歲)$")),
)


def _number(text: str) -> float | None:
    """A non-negative number written in ASCII digits (one decimal allowed) or Chinese numerals ≤ 99."""
    if text[0].isascii():
        return float(text) if re.fullmatch(r"\d{1,3}(\.\d)?", text) else None
    if "十" in text:
        tens, _, ones = text.partition("十")
        if "十" in ones or (tens and tens not in _CN_DIGITS) or (ones and ones not in _CN_DIGITS):
            return None
        return float((_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0))
    if len(text) != 1 or text not in _CN_DIGITS:
        return None
    return float(_CN_DIGITS[text])


def _normalise(text: str) -> str:
    text = text.translate(_FULLWIDTH).strip().lower()
    text = re.sub(r"\s+", " ", text)
    for noise in ("孩子", "宝宝", "寶寶", "大概", "左右", "了", "old", "about", "aged"):
        text = text.replace(noise, "")
    return text.strip(" ,.，。")


def parse_child_age(text: str | None) -> int | None:
    """The age in whole months, or None when `text` is not an age we understand (or is over MAX_MONTHS)."""
    if not text or len(text) > 40:
        return None
    cleaned = _normalise(text)
    if not cleaned:
        return None
    months: float | None = None
    for kind, pattern in _PATTERNS:
        match = pattern.fullmatch(cleaned)
        if match is None:
            continue
        if kind == "half_year":
            months = 6
        elif kind == "months":
            value = _number(match.group(1))
            if value is None or not value.is_integer() or (match.group(2) is None and not match.group(1).isascii()):
                return None  # a bare Chinese numeral ("两") is not clearly an age
            months = value
        elif kind == "years":
            value = _number(match.group(1))
            if value is None:
                return None
            months = value * 12 + (6 if match.group(2) else 0)
        else:
            years, extra = _number(match.group(1)), _number(match.group(2))
            if years is None or extra is None or not years.is_integer() or not extra.is_integer() or extra >= 12:
                return None
            months = years * 12 + extra
        break
    if months is None or not float(months).is_integer():
        return None
    months = int(months)
    return months if 0 <= months <= MAX_MONTHS else None


__all__ = ["MAX_MONTHS", "parse_child_age"]
