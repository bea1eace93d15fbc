"""A fact of another scope than the one asked is no answer, however well its passage matches: a figure of the
whole city for a district, a figure of another year than the year asked, the date of another event than the
one a parent must act on. The reply then says the documents do not state it (`retrieval.answer`)."""

from __future__ import annotations

import re

from retrieval import answer_type

# A figure said of the whole city, county or district (全市共建成…, 全区…): a statistic of the whole.
_WHOLE = re.compile(r"全(?:市|区|县|省)")
_ASKING = re.compile(r"多少|几|多大|占比|比例|how many|what share|what percentage|how much", re.I)
_YEAR = re.compile(r"((?:19|20)\d\d)\s*年")
_NUMERIC = (answer_type.AMOUNT, answer_type.COUNT, answer_type.PERCENTAGE)
# What parents and operators do on a date they must know (apply, enrol, collect): a plan's other dates (建成,
# 实现…) are not theirs.
_PARENT_EVENTS = ("报名", "招生", "申请", "申报", "领取", "发放", "预约", "缴费", "入托")


def of_another_scope(question: str, kinds: list[str], sub_places: list[str], text: str, fact: str) -> bool:
    """True when `fact`, quoted in `text`, answers `question` for another place, year or event than asked."""
    if not fact or not kinds:
        return False
    return (
        _of_the_whole_city(question, kinds[0], sub_places, text, fact)
        or _of_another_year(question, kinds[0], text, fact)
        or _of_another_event(question, kinds[0], text)
    )


def _of_the_whole_city(question: str, kind: str, sub_places: list[str], text: str, fact: str) -> bool:
    """A count or share asked of a place inside the city (黄岩区普惠托位占比是多少), given for the whole city
    (全市…占比达70%) without naming that place. The place asked about stands in the clause that asks (黄岩区现在…
    是多少), not in one that only says where the parent lives (我住柴桥，北仑打算建成多少家)."""
    if kind not in (answer_type.COUNT, answer_type.PERCENTAGE):
        return False
    asking = next((c for c in re.split(r"[，,。？?！!；;]", question) if _ASKING.search(c)), "")
    places = [place for place in sub_places if place in asking]
    before = text[: text.find(fact)] if fact in text else text
    return bool(places and _WHOLE.search(before)) and not any(place in text for place in places)


def _of_another_year(question: str, kind: str, text: str, fact: str) -> bool:
    """A figure asked of a year (2023年…使用率是多少), given for another year only (2024年目标值: ≥70%). The
    figure's own clause counts up to the figure; a table's fact carries its cell's header."""
    asked = set(_YEAR.findall(question))
    if not asked or kind not in _NUMERIC:
        return False
    at = text.find(fact)
    own = (re.split(r"[，,。；;]", text[:at])[-1] if at >= 0 else "") + fact
    years = set(_YEAR.findall(own))
    return bool(years) and not years & asked


def _of_another_event(question: str, kind: str, text: str) -> bool:
    """A date or place asked of what a parent or operator does (什么时候报名, 在哪报名, 什么时候开始招生) from a
    sentence that never names it (到2024年底建成市托育综合服务中心, 依托妇幼保健机构…开展指导)."""
    if kind not in (answer_type.DATE, answer_type.PLACE):
        return False
    events = [event for event in _PARENT_EVENTS if event in question]
    return bool(events) and not any(event in text for event in events)
