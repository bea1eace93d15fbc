"""What kind of fact a question asks for, and whether a piece of text states that kind of fact.

A passage that names the topic but not the fact (a rent relief "by a proportion up to a cap" when the
question asks for the cap) must not be presented as the answer: `states()` is that check, and
`extract()` finds the fact itself for the first line of the reply.
"""

from __future__ import annotations

import re

from retrieval import (
    ages,
    changes,
    doc_numbers,
    finer_asks,
    money_roles,
    names,
    respectively,
)
from retrieval.asked import ANYTHING, INSTITUTION_CLASSIFIERS, Asked, asked_of  # noqa: F401  (asked_of: re-exported)
from retrieval.counted import KIND_CLASSIFIERS, listed_kinds
from retrieval.question_kinds import (  # noqa: F401  (the kinds and detect: re-exported)
    _NOT_TIME,
    AGE,
    AMOUNT,
    AREA,
    CLOCK,
    CONDITION,
    CONTACT,
    COUNT,
    DATE,
    DOC_NUMBER,
    DURATION,
    NAME,
    OTHER,
    PERCENTAGE,
    PLACE,
    PROCEDURE,
    RATIO,
    SPECIFIC,
    UNIT,
    YES_NO,
    AnswerType,
    detect,
    detect_all,
)
from retrieval.tables import with_row_unit

_CN_DIGITS = "零〇一二两三四五六七八九十百千万"
# Chinese numerals start with a digit word: 千 or 万 alone (千人托位数) is not a number.
_NUM = rf"(?:\d+(?:[.,]\d+)*|[零〇一二两三四五六七八九十][{_CN_DIGITS}]*)"

# A staffing ratio is one to N (1:3, 1∶5, 1比7) or N to one; a clock time (9:30, 17:00) is not a ratio.
_RATIO_FIGURE = r"(?<![\d:：∶.])1\s*[:：∶]\s*\d+(?:\.\d+)?(?![\d:：∶])|(?<![\d:：∶.])\d+(?:\.\d+)?\s*[:：∶]\s*1(?![\d:：∶.])|\d+\s*比\s*\d+"

# A bare number directly before a Chinese word is a list label (2.政策支持…, 2.3加强…, 1、建立…), not a figure;
# a figure with its unit (2000个) is found by the unit patterns first.
_NOT_LABEL = r"(?!(?:[.．]\d+)*[.．、]?\s*[\u4e00-\u9fff])"

# What a text must contain to state each kind of fact.
_UNIT_WORD = r"(?:局|委|办公室|办事处|编办|部门|中心|政府|总工会|工会|妇联|残联|团市委|支局|医院|保健院|派出所|机构编制|民政|市场监管|卫生健康|街道|管委会|协会|公司|银行|集团)"
_CONTACT = r"(?<!\d)(?:\d{3,4}-?\d{7,8}|1\d{10}|\d{5})(?!\d)|[\w.+-]+@[\w-]+\.[\w.]+|www\.\S+|https?://\S+"
_CLOCK_TIME = r"\d{1,2}\s*[:：]\s*\d{2}|(?<!\d)\d{1,2}\s*点(?:\s*\d{1,2}\s*分|半)?"
# A month without its year (也将于今年9月份开园): the date of this year's plans.
# Years listed without 年 (2020、2021、2022连续三年): "从哪年开始" takes the first (`first_of_years`).
_YEARS = r"(?<!\d)(?:19|20)\d\d(?:[、,，](?:19|20)\d\d)+(?!\d)"
_MONTH = r"(?:今年|明年|当年|次年)?(?<![\d.])(?:1[0-2]|[1-9])\s*月份?(?![\d份]*日)"
_NOT_A_YEAR = r"(?<![\d.])(?!(?:19|20)\d\d\s*年)"  # 2024年 is a date, never a length of time
# Premises a sentence says something is done at (在工作或生活场所为职工提供…): where, in the documents' words.
_AT_PREMISES = r"在[\u4e00-\u9fff、或和及]{1,10}(?:场所|场地|地点|用房)"
_AREA = rf"{_NUM}\s*(?:万|千)?\s*(?:平方米|平米|㎡|m²|亩|平方公里)"
_STATES: dict[str, re.Pattern[str]] = {
    AMOUNT: re.compile(rf"{_NUM}\s*(?:多)?(?:万|千|百|亿)?\s*元|{_NUM}\s*元/|免费|免收|零租金|\d+\s*~\s*\d+\s*元"),
    COUNT: re.compile(rf"(?<!第){_NUM}\s*(?:个{_NOT_TIME}|家|名|人次|人|所|项|处|张|件|次|场|种|类|批|班|托位|床|位)|[:：]\s*[≥≤>＜<]?\s*\d+(?:\.\d+)?\b{_NOT_LABEL}|"
                      r"(?:达到|达|不少于|至少|超过|为|共)\s*\d"),  # digits only: 行为零容忍 states no count
    RATIO: re.compile(_RATIO_FIGURE),
    PERCENTAGE: re.compile(rf"{_NUM}\s*[%％]|百分之|\(%\)[^;\n]*[;；]?[^:：;\n]*[:：]\s*[≥≤>＜<]?\s*\d|{_NUM}\s*成"),
    DURATION: re.compile(rf"{_NOT_A_YEAR}{_NUM}\s*(?:个)?(?:工作日|天|日|个月|月|年|周|小时|学时)|每(?:季度|个?月|年|周|天|日)"),
    DATE: re.compile(rf"\d{{4}}\s*年(?:\s*\d{{1,2}}\s*月)?|\d{{1,2}}\s*月\s*\d{{1,2}}\s*日|年底|年前|年内|{_NUM}年(?:底|前|内)|{_MONTH}|{_YEARS}"),
    PLACE: re.compile(r"位于|设在|设于|坐落|地址|依托[^，,。；;]{2,20}(?:园|院|区|中心|基地|学校|馆|站)|[\u4e00-\u9fff]{2,8}(?:路|街|大道)\d+号|"
                      r"[\u4e00-\u9fff]{2,6}(?:区|街道|镇|社区|园区)(?:的|内|建成|建设|设立|开设|选址)|" + _AT_PREMISES),
    UNIT: re.compile(rf"[\u4e00-\u9fff]{{1,12}}{_UNIT_WORD}|牵头|负责|申请注册登记|申请登记|备案|家长委员会|委员会"),
    PROCEDURE: re.compile(r"申请|提交|报名|材料|程序|流程|办理|审核|审批|登记|备案|预约|平台|线上|网上|窗口"),
    # The number or address itself: "开通市级家庭教育热线" names a hotline but gives no way to reach it.
    CONTACT: re.compile(_CONTACT),
    CLOCK: re.compile(_CLOCK_TIME + r"|全天|24小时|[上下]午|早上|晚上"),
    AGE: ages.AGE,
    # What must be met or who counts: the passage says so in these words (应符合…从业条件, 是指…, 具备…).
    CONDITION: re.compile(r"条件|资格|符合|满足|具备|是指|指的是|认定|范围包括|包括以下"),
    AREA: re.compile(_AREA),
}
# A bare figure (a table cell, "证书42413") answers any count, unless its row declares percentages (占比(%)).
_PERCENT_ROW = re.compile(r"[(（]\s*[%％]\s*[)）]")
_BARE_COUNT = re.compile(
    rf"[:：]\s*[≥≤>＜<]?\s*\d+(?:\.\d+)?\b{_NOT_LABEL}|[\u4e00-\u9fff]\d{{2,}}(?![\d.%％个家名人所项处张件次种批班元年月日岁万千百亿])"
)
# The span to put on the first line, per kind (the most specific form first).
_RANGE = rf"{_NUM}(?:\s*(?:至|到|~|～|-|－)\s*{_NUM})?"
# How often, kept with the count it qualifies: "每季度至少一次" is not "至少一次" (a year has four).
_PERIOD = r"(?:每(?:个)?(?:季度|年|月|周|星期|天|日|学期|半年)\s*)?"
# A verb between a bound and its figure (至少建立一家): the bound stays with the figure.
_BUILD = r"(?:建立|建成|建设|新建|设立|设置|开设|培育|打造|新增|招收|收托)"
_CLASSIFIER = rf"(?:个{_NOT_TIME}|家|名|人次|人|所|项|处|张|件|次|场|种|类|批|班|托位|床)"
# The span to put on the first line, per kind: patterns tried in order over the whole text, so a figure
# with its unit (16个, 95%) wins over a bare number met earlier (a list number such as "2.").
_FACT: dict[str, tuple[re.Pattern[str], ...]] = {
    AMOUNT: (re.compile(rf"{_RANGE}\s*(?:多)?(?:万|千|百|亿)?\s*元(?:/[人月年次个]+)*"), re.compile(r"免费提供|免费|免收")),
    COUNT: (
        re.compile(
            rf"{_PERIOD}(?:(?:不少于|不超过|不多于|至少|至多|最多|超过){_BUILD}?|达到|达|将近|接近|(?<![附最])近|约|逾)?"
            rf"\s*[≥≤]?\s*(?<!第){_RANGE}\s*{_CLASSIFIER}"
        ),
        # A bare figure keeps a percent sign right after it ("满意度达到多少" asks a share in count's words).
        re.compile(rf"[≥≤]\s*\d+(?:\.\d+)?(?:\s*[%％])?|(?<![\d.])\d+(?:\.\d+)?(?:\s*[%％]|(?![\d.]){_NOT_LABEL})"),
    ),
    PERCENTAGE: (
        re.compile(rf"[≥≤]?\s*{_RANGE}\s*[%％]|百分之[{_CN_DIGITS}\d]+"),
        re.compile(rf"[≥≤]\s*\d+(?:\.\d+)?|(?<![\d.])\d+(?:\.\d+)?(?![\d.]){_NOT_LABEL}"),
    ),
    DURATION: (re.compile(rf"{_NOT_A_YEAR}{_RANGE}\s*(?:个)?(?:工作日|天|日|个月|月|年|周|小时|学时)"),),
    RATIO: (re.compile(rf"(?:不低于|不高于|不超过|不少于|达到)?\s*(?:{_RATIO_FIGURE})"),),
    CONTACT: (re.compile(_CONTACT),),
    CLOCK: (re.compile(rf"(?:{_CLOCK_TIME})(?:\s*[-~～至到]\s*(?:{_CLOCK_TIME}))?"),),
    DATE: (re.compile(r"\d{4}\s*年(?:\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?)?(?:底|前|内)?|\d{1,2}\s*月\s*\d{1,2}\s*日"),
           re.compile(_MONTH), re.compile(_YEARS)),
    UNIT: (re.compile(rf"[\u4e00-\u9fff]{{1,14}}{_UNIT_WORD}(?:部门|委员会|局|委)?"),),
    PLACE: (re.compile(rf"依托[^，,。；;]{{2,30}}|位于[^，,。；;]{{2,30}}|设在[^，,。；;]{{2,30}}|{_AT_PREMISES}"),),
    AREA: (re.compile(rf"(?:不少于|不低于|不小于|至少|达到|约)?\s*{_AREA}"),),
    AGE: (ages.AGE,),  # read only among the ages a sentence says are taken in (`ages.taken_in`)
}
# "分别设置2个、3个、4个": which figure belongs to which case needs reading the whole list; no first line.
_RESPECTIVELY = re.compile(r"分别")


_CLASSIFIED = re.compile(rf"(?<!第){_NUM}\s*(人次|个{_NOT_TIME}|家|名|人|所|项|处|张|件|次|场|种|批|班)")


# A figure right after 托位/床位 counts places, not institutions: "新增托位600个" does not answer "多少家".
_PLACES_BEFORE = re.compile(r"(?:托位|床位|学位)[数]?\s*(?:达到|达|不少于|至少|超过|为|共)?\s*$")


def _counts_places(text: str, start: int) -> bool:
    return bool(_PLACES_BEFORE.search(text[max(0, start - 8) : start]))


def states(kind: str, text: str, asked: Asked = ANYTHING) -> bool:
    """True when `text` states a fact of `kind` (always true for open and yes/no questions), as `asked`:

    a count's measure word must agree ("5家" does not answer "几个小孩"), a sum must be of what was asked (an
    investment is not a price), and a per-unit figure answers only a question about that unit.
    """
    if kind == NAME:
        return bool(names.names_in(text, asked.question, asked.named))
    if kind == DOC_NUMBER:
        return bool(doc_numbers.cited_number(text, asked.described))
    pattern = _STATES.get(kind)
    if pattern is None:
        return True
    text = with_row_unit(text)  # a table row's figures are of its label's unit: 凤凰镇: 430 in 总托位数(个)
    if not asked.names_quoted(text):
        return False  # "“一老一小”方案哪天印发" is not answered by the date another document was issued
    if kind in (COUNT, AMOUNT):
        text = asked.relevant(text)
    if kind == AMOUNT and not money_roles.names_money(text, asked.money):
        return False
    if kind == UNIT and finer_asks.asked_body(asked.question):
        return any(_of_the_kind_asked(asked)(match) for match in _FACT[UNIT][0].finditer(text))
    if asked.asks_finer(kind):
        spans = [match.group(0) for pattern in _FACT[DATE] for match in pattern.finditer(text)] if kind == DATE else [text]
        return any(finer_asks.gives_finer(kind, span, asked.question) for span in spans)
    if kind == COUNT:
        return _states_count(text, asked, pattern)
    if kind == AGE:
        return bool(ages.taken_in(text, asked.question))
    return _states_by_matches(kind, text, asked, pattern)


def _states_by_matches(kind: str, text: str, asked: Asked, pattern: re.Pattern[str]) -> bool:
    """`states` once the kind's own readers are done: a match of the kind's pattern that the question takes."""
    matches = pattern.finditer(text)  # lazily: the first match that answers ends the search
    if kind == UNIT:  # a centre being built (年内建成市托育综合服务中心) is no body that acts
        return any(not _BUILT.match(match.group(0)) and asked.takes(text, match) for match in matches)
    if kind == PLACE:  # "展厅在什么地方" is not answered by where the 实验班 of the next sentence is
        return asked.names_subject(text) and any(asked.places_another(match.group(0)) for match in matches)
    return any(asked.takes(text, match) for match in matches)


def _states_count(text: str, asked: Asked, pattern: re.Pattern[str]) -> bool:
    """`states` for a count: a figure right before the noun counted (其余6县市), a list of the kinds counted
    (分几种班: 乳儿班、托小班和托大班), a figure whose measure word agrees, or a bare figure of a row."""
    if any(asked.takes(text, match) for match in _named_count(asked).finditer(text)):
        return True
    classifier = asked.classifier
    if classifier in KIND_CLASSIFIERS and listed_kinds(text, asked.question):
        return True
    if classifier:
        if any(
            asked.agrees(match.group(1))
            and not (classifier in INSTITUTION_CLASSIFIERS and _counts_places(text, match.start()))
            and asked.counts_what_was_asked(text, match.start())
            and _is_figure(text, match)
            and asked.takes(text, match)  # "每年新增不少于2000个，分到思明区的有多少": 2000 is what they know
            for match in _CLASSIFIED.finditer(text)
        ):
            return True
        pattern = _BARE_COUNT
    if _PERCENT_ROW.search(text):  # a row whose label declares its cells percentages (占比(%))
        return False
    return any(
        asked.counts_what_was_asked(text, match.start()) and _is_figure(text, match) and asked.takes(text, match)
        for match in pattern.finditer(text)
    )


# What leads up to a unit's name in a sentence (向机构所在地县级以上民政部门 → 民政部门).
_UNIT_LEAD = re.compile(r"^.*(?:以上|所在地|向|由|依托|通过|到|在|的|和|与|及|、)")


# "一批" (a batch) is no figure; nor is a count that is part of a word (一件事 the reform, 一次性 one-off).
_VAGUE = re.compile(r"\s*一\s*(?:批|些|系列)")
_PART_OF_A_WORD = ("事", "性")


def _any_match(match: re.Match[str]) -> bool:
    return True


_ASKS_START = re.compile(r"开始|(?:哪年|哪一年|何时|什么时候)起|\bfirst\b|\bsince\b|\bstart", re.I)


def _outside_titles(text: str, keep):
    """`keep`, but never a unit named inside a document's title (《省卫生健康委等关于印发…的通知》)."""
    titles = [m.span() for m in re.finditer(r"《[^》]*》", text)]
    return lambda match: keep(match) and not any(start <= match.start() < end for start, end in titles)


# A body being built (年内建成市托育综合服务中心) is what a task makes, not who carries it out.
_BUILT = re.compile(r"^[^，,。；;]{0,4}?(?:建成|新建|建设|设立|打造|成立|培育|建立)(?![由以在了])")


def _of_the_kind_asked(asked: Asked):
    ends = finer_asks.asked_body(asked.question)

    def keep(match: re.Match[str]) -> bool:
        body = match.group(0).rstrip()
        return not _BUILT.match(body) and (not ends or body.endswith(ends))

    return keep


def _is_figure(text: str, match: re.Match[str]) -> bool:
    return not (_VAGUE.fullmatch(match.group(0)) or text.startswith(_PART_OF_A_WORD, match.end()))


def _finer(kind: str, asked: Asked):
    return lambda match: finer_asks.gives_finer(kind, match.group(0), asked.question)


def _named_count(asked: Asked) -> re.Pattern[str]:
    """A figure written right before the noun counted (6县市), which needs no measure word."""
    forms = "|".join(re.escape(form) for form in asked.counted if len(form) >= 2) or r"(?!)"
    return re.compile(rf"(?<![\d.第]){_NUM}\s*(?:{forms})")


def _counted_as(asked: Asked, text: str):
    """A filter keeping the count figures of `text` that count what was `asked`: the measure word agrees
    (any without one) and the clause names the noun counted; institutions are not answered by a number of
    places."""
    classifier = asked.classifier

    def agrees(match: re.Match[str]) -> bool:
        if not (_is_figure(text, match) and asked.takes(text, match)):
            return False
        if not asked.counts_what_was_asked(text, match.start()):
            return False
        used = _CLASSIFIED.search(match.group(0))
        if not classifier or used is None:
            return True
        places = classifier in INSTITUTION_CLASSIFIERS and _counts_places(text, match.start() + used.start())
        return asked.agrees(used.group(1)) and not places

    return agrees


def _found_by_reading(kind: str, text: str, asked: Asked) -> str:
    """The facts no single pattern finds: a name that fits the question (`retrieval.names`), the age taken in
    that holds the child's age (`retrieval.ages`), the figure given "respectively" for the case the question
    names (`retrieval.respectively`)."""
    if kind == NAME:
        return names.best_name(text, asked.question, asked.named, asked.topic + asked.counted)
    if kind == DOC_NUMBER:
        return doc_numbers.cited_number(text, asked.described)
    if kind == AGE:  # bands listed 分别 are told apart only by the child's age the question gives
        if _RESPECTIVELY.search(text) and ages.age_asked(asked.question) is None:
            return ""
        return next(iter(ages.taken_in(text, asked.question)), "")
    return respectively.respective_figure(text, asked.question)


def extract(kind: str, text: str, strict: bool = False, asked: Asked = ANYTHING) -> str:
    """The fact of `kind` in `text` ("" when none): the first line of a reply. `strict`: only a figure with
    its unit (no bare number). The fact must be what was `asked` (see `states`): "1家" is not the answer to
    "多少个孩子"."""
    if kind in (NAME, AGE, DOC_NUMBER) or kind == COUNT and _RESPECTIVELY.search(text):
        return _found_by_reading(kind, text, asked)
    patterns = _FACT.get(kind)
    if patterns is None or _RESPECTIVELY.search(text):  # "分别设置2个、3个、4个": which figure is whose?
        return ""
    if strict:
        patterns = patterns[:1]
    if kind == COUNT and asked.counted:
        patterns = (_named_count(asked), *patterns)
    if kind in (COUNT, AMOUNT):
        text = asked.relevant(text)
    keep = (
        _counted_as(asked, text) if kind == COUNT
        else _outside_titles(text, _of_the_kind_asked(asked)) if kind == UNIT
        else _outside_titles(text, _finer(kind, asked)) if kind == DATE and asked.asks_finer(kind)
        else _finer(kind, asked) if kind == DURATION and asked.asks_finer(kind)
        else _outside_titles(text, _any_match) if kind == DATE  # 《…标准(2021年版)》 names a document
        else (lambda match: asked.takes(text, match)) if kind == PERCENTAGE
        else (lambda match: asked.places_another(match.group(0))) if kind == PLACE
        else _any_match
    )
    match = None
    for pattern in patterns:
        side = changes.figures_of_the_change(pattern, text, asked.question, keep)
        anywhere = side or [m for m in pattern.finditer(text) if keep(m)]
        named = [m for m in anywhere if asked.names_counted(text, m.start())] if kind == COUNT and asked.counted else []
        parted = [m for m in named or anywhere if asked.in_asked_part(text, m.start())] if kind == COUNT else []
        match = (parted or named or anywhere or [None])[0]
        if match:
            break
    if not match:
        return listed_kinds(text, asked.question) if kind == COUNT and asked.classifier in KIND_CLASSIFIERS else ""
    fact = match.group(0).strip()
    if kind == DATE and _ASKS_START.search(asked.question) and re.fullmatch(_YEARS, fact):
        fact = fact[:4]  # "从哪年开始": the first of the years listed
    if kind == UNIT:
        shorter = _UNIT_LEAD.sub("", fact)
        fact = shorter if len(shorter) >= 2 else fact
    return fact
