"""A question may ask for a finer value than its kind's: a month or a day, not a year (几月份, 哪一天); a
street address, not a district (在哪条路上); the papers to hand in, not the procedure (要提交哪些材料); a
hospital, not any unit (哪个医院). A text that states the kind but not the finer value does not answer it
(`answer_type.states`).

Keyed by the kind's name (`answer_type.DATE`, `PLACE`, `PROCEDURE`): this module stands below answer_type.
"""

from __future__ import annotations

import re

# kind → (what asks for the finer value, what gives it)
_FINER: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {
    "date": (
        re.compile(r"几月|哪个月|哪一个月|几号|哪天|哪一天|哪日|什么日子|\b(?:what|which) (?:month|date|day)\b", re.I),
        re.compile(r"\d{1,2}\s*月"),
    ),
    "place": (
        re.compile(r"哪条(?:路|街|马路)|什么路|地址|门牌|哪栋|哪幢|哪座楼|几楼|哪一?层|几号楼|\b(?:street|address|which building|which floor)\b", re.I),
        re.compile(r"[\u4e00-\u9fff]{2,8}(?:路|街|大道|巷|弄)\s*\d+\s*号|地址\s*[:：]"),
    ),
    # A length asked in a unit (几个小时) is answered in that unit: "2个月" does not say how many hours.
    "duration": (
        re.compile(r"(?:几|多少)个?(?:小时|钟头|工作日|天|周|星期|月|年)|\bhow many (?:hours|working days|days|weeks|months|years)\b",
                   re.I),
        re.compile(r"\d\s*(?:个)?(?:小时|工作日|天|周|个月|月|年)"),
    ),
    "procedure": (
        re.compile(r"哪些材料|什么材料|哪些资料|什么资料|准备什么|提交什么|带什么|\b(?:what|which) (?:documents|papers|materials)\b",
                   re.I),
        re.compile(r"材料|资料|证明|证件|身份证|户口|户籍|申请表|复印件|执照|许可证|照片"),
    ),
}


def asks_finer(kind: str, question: str) -> bool:
    """True when `question` asks for a finer value than `kind`'s (a month for a date)."""
    patterns = _FINER.get(kind)
    return patterns is not None and patterns[0].search(question) is not None


# A day asked for (哪天开园) needs the day itself: "9月份" does not answer it.
_ASKS_DAY = re.compile(r"几号|哪天|哪一天|哪日|什么日子|\b(?:what|which) (?:date|day)\b", re.I)
_GIVES_DAY = re.compile(r"\d{1,2}\s*月\s*\d{1,2}\s*[日号]|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}")


def gives_finer(kind: str, text: str, question: str = "") -> bool:
    """True when `text` gives the finer value of `kind` that `question` asks for (a month, or the day when it
    asks which day; a street address, named papers)."""
    if kind == "date" and _ASKS_DAY.search(question):
        return _GIVES_DAY.search(text) is not None
    if kind == "duration":
        return _same_time_unit(question, text)
    return _FINER[kind][1].search(text) is not None


# A question naming the kind of body it asks for (哪家医院, 哪个幼儿园): the unit named must be one (…保健院, not
# 托育综合服务中心).
_ASKED_BODY = {"院": re.compile(r"哪(?:个|家|所)?(?:医院|医疗机构)|which hospital", re.I),
               "园": re.compile(r"哪(?:个|家|所)幼儿园|which kindergarten", re.I),
               "派出所": re.compile(r"哪(?:个|家|所)?(?:派出所|公安)|which police", re.I),
               "公司": re.compile(r"哪(?:一)?家[\u4e00-\u9fff]{0,2}(?:公司|企业)|which (?:company|firm)", re.I),
               "银行": re.compile(r"哪(?:一)?家[\u4e00-\u9fff]{0,2}银行|which bank", re.I)}


def asked_body(question: str) -> tuple[str, ...]:
    """How the name of the kind of body `question` asks for ends (哪个医院 → 院), () when it names none."""
    return tuple(end for end, pattern in _ASKED_BODY.items() if pattern.search(question))


_TIME_UNITS = {"小时": ("小时", "钟头", "hour"), "工作日": ("工作日", "working day"), "天": ("天", "day"),
               "周": ("周", "星期", "week"), "月": ("月", "month"), "年": ("年", "year")}


def _same_time_unit(question: str, text: str) -> bool:
    """True when `text` gives a length in the time unit `question` asks in (a working day is also a day)."""
    asked = _FINER["duration"][0].search(question)
    words = asked.group(0).lower() if asked else ""
    units = [unit for unit, forms in _TIME_UNITS.items() if any(form in words for form in forms)]
    if "天" in units and "working day" not in words and "工作日" not in words:
        units.append("工作日")
    return any(re.search(rf"\d\s*(?:个)?{unit}", text) for unit in units)
