"""Children's ages as questions and documents write them: a question that gives a child's age (一岁半的宝宝,
18个月, "a one-and-a-half-year-old") is answered by the age range that holds it (12-24个月), never by another.

Only the ages a sentence says are taken in answer (招收2至3岁的幼儿, 针对6-12个月…, 由3-6岁变更为2-6岁); an age
elsewhere (按0-2岁婴幼儿收托情况发放奖补, 提升0-2岁送托意愿) says who earns a subsidy, not who may come.
"""

from __future__ import annotations

import re

_CN_NUMERAL = r"(?:\d+(?:[.,]\d+)*|[零〇一二两三四五六七八九十][零〇一二两三四五六七八九十百千万]*)"
# An age or age range of children (2至3岁, 0~3岁, 6-12个月, 3岁以下).
AGE = re.compile(
    rf"(?:{_CN_NUMERAL}\s*(?:岁|个月)?\s*(?:至|到|-|－|~|～)\s*)?{_CN_NUMERAL}\s*(?:周岁|岁|个月)(?:以下|以上|及以下|及以上)?"
)
_INTAKE = "招收|收托|接收|面向|针对|变更为|扩大到|延伸至|放宽至|放宽到"
_AGE_LIST = re.compile(
    rf"(?:{_INTAKE})\s*(?:(?:[\d\s\-~～至到岁个月周]|{_CN_NUMERAL})+[、,，和及与或]\s*)*(?:[\d\s\-~～至到岁个月周]|{_CN_NUMERAL})+"
)
_CN = {"零": 0, "〇": 0, "一": 1, "两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6}
_EN = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
_NUMBER = r"\d+(?:\.\d+)?|[零〇一两二三四五六]"
_QUESTION_AGE = re.compile(
    rf"(?P<years>{_NUMBER})\s*(?:周岁|岁)(?P<half>半)?|(?P<months>\d+)\s*个?月(?:大|龄)|"
    r"(?P<en_years>\d+(?:\.\d+)?|one|two|three|four|five|six)(?P<en_half>[- ]and[- ]a[- ]half)?[- ]years?[- ]old|"
    r"(?P<en_months>\d+)[- ]months?[- ]old",
    re.I,
)
_RANGE = re.compile(rf"(?:(?P<low>{_NUMBER})\s*(?P<low_unit>岁|个月)?\s*(?:至|到|-|－|~|～)\s*)?(?P<high>{_NUMBER})\s*(?P<unit>周岁|岁|个月)")


def _number(text: str) -> float:
    text = text.lower()
    return float(_CN.get(text, _EN.get(text, 0))) if text in _CN or text in _EN else float(text)


def age_asked(question: str) -> float | None:
    """The age in months a question gives (一岁半 → 18, "18-month-old" → 18), None when it gives none."""
    match = _QUESTION_AGE.search(question)
    if match is None:
        return None
    if match.group("years"):
        return _number(match.group("years")) * 12 + (6 if match.group("half") else 0)
    if match.group("months"):
        return float(match.group("months"))
    if match.group("en_years"):
        return _number(match.group("en_years")) * 12 + (6 if match.group("en_half") else 0)
    return float(match.group("en_months"))


def holds(age_range: str, months: float) -> bool:
    """True when the band `age_range` (2至3岁, 12-24个月) holds the age of `months`; an open range (3岁以下)
    is no band."""
    match = _RANGE.search(age_range)
    if match is None:
        return False
    scale = 1 if match.group("unit") == "个月" else 12
    high = _number(match.group("high")) * scale
    if match.group("low") is None:  # "3岁以下" holds every child the plans speak of: no band of its own
        return False
    low_scale = 1 if (match.group("low_unit") or match.group("unit")) == "个月" else 12
    return _number(match.group("low")) * low_scale <= months <= high


def taken_in(text: str, question: str = "") -> list[str]:
    """The ages `text` says are taken in (a list right after 招收, 针对, 变更为…), and when `question` gives a
    child's age only the bands holding it."""
    spans = [span.span() for span in _AGE_LIST.finditer(text)]
    found = [age.group(0).strip() for age in AGE.finditer(text) if any(start <= age.start() < end for start, end in spans)]
    months = age_asked(question)
    return found if months is None else [age for age in found if holds(age, months)]
