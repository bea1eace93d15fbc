"""What a count question counts: the noun after the measure word (多少个托位), else the one before the asking
word (托育驿站大概建了多少家); for English, the noun after "how many". The caller maps it to the documents'
words (`retrieval.search`), and `retrieval.asked.Asked.counted` then checks a figure's clause names it. Also the
measure word the question counts with (几个 → 个, 几个孩子 → 名)."""

from __future__ import annotations

import re

from retrieval.bilingual import STOPWORDS, singular

# The noun a count question counts: after the measure word (多少个托位), else before the asking word
# (托育驿站大概建了多少家), without the verbs and adverbs that lead up to it.
_COUNTED_AFTER = re.compile(r"(?:多少|几)(?:人次|个|家|名|人|所|项|处|张|件|次|场|种|批|班|位)?([^？?，,。！!；;吗呢]{0,20})")
_LEAD_UP = re.compile(
    r"(?:一共|总共|共|总计|合计|累计|大概|大约|大致|现在|目前|已经|已|实际上|实际|能够|能|可以|要|会|将|有|是|为|达到|达|到|至|完成|做到|实现|"
    r"了|的|建成|建设|建|新建|设置|设立|设|开设|开|减少|增加|提高|提升|降低|缩短|定为|定|目标|计划|预计|规划|"
    r"任务|指标|本来|原来|原本|最初|起初)+$"
)
_COUNTED_ENGLISH = re.compile(r"\bhow many\s+((?:[a-z()-]+\s+){0,3}?)([a-z-]+)\b(?=\s+(?:are|is|do|does|did|will|can|could|should|has|have|had|make|made|in|of|for|to|per|that|which|there|were|was)\b|\s*[?？]|\s*$)", re.I)

_NOUN_BEFORE_HOW_MANY = re.compile(r"\b([a-z-]{3,})\s*[,;:]\s*how many\s+(?:were|was|are|is|will|would|should|can|do|did)\b", re.I)


def counted_phrase_english(question: str) -> str:
    """The noun an English count question counts, singular: "How many individual projects make up …" →
    "project"; with none after "how many" ("… of 5,200 new places, how many were to be affordable?"), the
    noun just before it; "" when none is found."""
    match = _COUNTED_ENGLISH.search(question)
    if match and match.group(2).lower() not in STOPWORDS:
        return singular(match.group(2).lower())
    elided = _NOUN_BEFORE_HOW_MANY.search(question)
    return singular(elided.group(1).lower()) if elided else ""


def counted_phrase(question: str) -> str:
    """The words naming what a count question counts ("" when it names nothing: 有多少个?)."""
    match = _COUNTED_AFTER.search(question)
    if not match:
        return ""
    after = _VERB_AFTER.split(match.group(1).strip(), maxsplit=1)[0]
    if re.search(r"[\u4e00-\u9fff]{2}", after):
        return after
    before = re.split(r"[，,。；;？?！!]", question[: match.start()])[-1]
    return _NUMBER_OF.sub("", _LEAD_UP.sub("", before))


# What the counted things did, after the noun (几个乡镇第一次有了托育服务 counts 乡镇, not 托育服务).
_VERB_AFTER = re.compile(r"(?<=[\u4e00-\u9fff]{2})(?:第一次|首次|有了|已经|实现|获得|拿到|得到|能够|可以)")


# "托大班的配置数量是多少": the number of 托大班 (数量 says it is a count, not what is counted).
_NUMBER_OF = re.compile(r"的?(?:配置|配备|设置|建设|新增)?(?:数量|数目|个数|总数)$")


_ASKED_CLASSIFIER = re.compile(r"(?:多少|几)(人次|个|家|名|位|人|所|项|处|张|件|次|场|种|批|班)")
# 几个孩子 counts people; 几个幼儿园 and 几个托班 do not.
_PEOPLE_NOUN = re.compile(r"(?:婴幼儿|幼儿|儿童|孩子|宝宝|小孩|娃|人)(?!园|班|所)")


# "能收多少个宝宝": how many children a place takes is told by its places (提供托位60至100个) or by a number of
# children (收托不超过5名): either measure word answers, and 托位 names what is counted.
_CAPACITY = re.compile(r"(?:收|招收|接收|容纳|收托|托)(?:多少|几)(?:个|名|位)?(?:孩子|宝宝|婴幼儿|幼儿|小孩|娃|儿童)")
CAPACITY_FORMS = ("托位",)


def asks_capacity(question: str) -> bool:
    """True when a count question asks how many children a place takes (能收多少个宝宝)."""
    return bool(_CAPACITY.search(question))


def asked_classifier(question: str) -> str:
    """The measure word a count question uses (几个 → 个, 多少家 → 家), "" when none. "几个孩子" counts people:
    名, so "10个托育点" does not answer it; a question of capacity (能收几个孩子) takes places or people."""
    match = _ASKED_CLASSIFIER.search(question)
    if not match or asks_capacity(question):
        return ""
    if match.group(1) == "位":  # 几位老师: people
        return "名"
    if match.group(1) == "个" and _PEOPLE_NOUN.match(question, match.end()) and not _PLACE_FOR_PEOPLE.match(question, match.end()):
        return "名"
    return match.group(1)


# 几个儿童早期发展基地 counts bases: the people noun only qualifies a place named right after it (no verb between).
_PLACE_FOR_PEOPLE = re.compile(r"[^？?，,。！!；;吗呢能可去到在上入进送有是要]{1,10}?(?:基地|中心|机构|驿站|站|点|室|馆|园|班|所)(?=[？?，,。！!；;吗呢]|$)")


# A list of kinds sharing their head (乳儿班、托小班和托大班): what "分几种班" asks for when no figure is given.
_LISTED = re.compile(r"[\u4e00-\u9fff]{1,8}(?:、[\u4e00-\u9fff]{1,8})*(?:、|和|及|与)[\u4e00-\u9fff]{1,8}")
_KINDS_ASKED = re.compile(r"(?:几|多少)(?:种|类)([\u4e00-\u9fff]*)")
KIND_CLASSIFIERS = frozenset({"种", "类"})


def listed_kinds(text: str, question: str) -> str:
    """The first list of two or more kinds in `text` whose names end in the noun `question` counts by kind
    (分几种**班**: 乳儿班、托小班和托大班), "" when none. The first name is as long as the longest other one: in
    running text its start is not marked."""
    asked = _KINDS_ASKED.search(question)
    head = asked.group(1)[-1:] if asked else ""
    for match in _LISTED.finditer(text):
        items = re.split(r"、|和|及|与", match.group(0))
        if len(items) < 2 or not head or not all(item.endswith(head) and len(item) >= 2 for item in items):
            continue
        first = items[0][-max(len(item) for item in items[1:]) :]
        return first + match.group(0)[len(items[0]) :]
    return ""
