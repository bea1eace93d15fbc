"""What a question asks for beyond its kind (`asked_of`): the measure word of a count, what a sum is for, the
noun counted, the rate named, the names quoted, and the figures the question gives itself. `Asked` decides
whether one figure in a passage can answer it (`takes`, `counts_what_was_asked`, `admits`, `relevant`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from retrieval import finer_asks, money_roles, question_refs, rates
from retrieval.counted import asked_classifier

INSTITUTION_CLASSIFIERS = frozenset({"家", "所"})
_PEOPLE_CLASSIFIERS = frozenset({"名", "人", "人次"})  # "多少名保育师" is answered by "不少于300人次"


def _agrees(classifier: str, used: str) -> bool:
    """True when a figure counted with `used` answers a question counting with `classifier`."""
    return (
        used == classifier
        or (classifier == "个" and used not in INSTITUTION_CLASSIFIERS | {"次", "人次"})
        or (classifier in INSTITUTION_CLASSIFIERS and used in INSTITUTION_CLASSIFIERS | {"个"})
        or (classifier in _PEOPLE_CLASSIFIERS and used in _PEOPLE_CLASSIFIERS)
    )


# A figure for each of several places or bodies (每个县(市、区)至少建成一家): it answers a question about that
# unit (每个…, 平均, or one naming the unit: 家庭托育点最多收几个) but not a question about the whole.
# A rate per thousand people (每千名婴幼儿拥有托位数, 千人托位数) is such a figure too.
_PER_UNIT = re.compile(r"每(?:一)?个?(县|市|区|镇|乡|街道|社区|村|家庭托育点|托育点|托育机构|机构|幼儿园|园|班)|(每[千万百]|千人|千名|万人)")
_ASKS_PER_UNIT = re.compile(r"每|平均|\b(?:each|per|every|average)\b", re.I)
_CLAUSE = re.compile(r"[^，,；。]+[，,；。]?")  # not ";": it separates the cells of one table row


def _span_around(text: str, at: int, marks: str) -> str:
    """The piece of `text` holding position `at`, between the nearest of `marks` on either side."""
    start = max(text.rfind(mark, 0, at) for mark in marks) + 1
    ends = [i for i in (text.find(mark, at) for mark in marks) if i >= 0]
    return text[start : min(ends, default=len(text))]


@dataclass(frozen=True)
class Asked:
    """What exactly a question asks for beyond its kind (`asked_of`): the measure word of a count
    (`asked_classifier`), what a sum is for (`asked_money`), and the question itself, which decides whether a
    per-unit figure answers it. The default constrains nothing."""

    classifier: str = ""
    money: frozenset[str] = frozenset()
    question: str = ""
    # The noun a count counts (多少个托位 → 托位), with the document words for it: a figure answers only when
    # its clause names one ("新增16个乡镇" does not answer "新增多少个托位"). Empty: any noun.
    counted: tuple[str, ...] = ()
    # The question's other topic words with their document words: a part (其中…) that names one is asked about.
    topic: tuple[str, ...] = ()
    # Names the question quotes (“一老一小”, 《…标准》, "1+9+X"): a statement of the fact must name one.
    named: tuple[str, ...] = ()
    # The rate the question names (健康管理 of 健康管理率): a share written after another rate is not it.
    rate: str = ""
    # What a "where" question asks the place of, with its document words (`retrieval.subject`): a sentence
    # placing something else is no answer.
    subject: tuple[str, ...] = ()

    def names_subject(self, text: str) -> bool:
        """True when `text` names the thing whose place is asked (or the question names none)."""
        return not self.subject or any(form in text for form in self.subject)

    def places_another(self, place: str) -> bool:
        """False for a place statement that names the subject itself: "依托托育综合实践示范园" says where something
        else is, not where the 示范园 is."""
        where = _SETS_UP.split(place, maxsplit=1)[0]  # 依托X成立Y: X is the place, Y what is set up there
        return not any(form in where for form in self.subject)

    def counts_what_was_asked(self, text: str, at: int) -> bool:
        """True when the figure at `at` in `text` counts the noun asked about (its clause names it)."""
        if not self.counted:
            return True
        clause = _span_around(text, at, _CLAUSE_MARKS)
        # The last character is the head of a Chinese compound (申报材料/申报资料, 托育机构/星级机构); a name the
        # question quotes stands for the thing in the parent's own words (“爱邻护幼”托育小站: …托育服务点).
        return any(form[-1] in clause for form in self.counted) or bool(self.named) and self.names_quoted(clause)

    def asks_finer(self, kind: str) -> bool:
        """True when the question asks for a finer value than `kind`'s (`retrieval.finer_asks`: a month, not a
        year)."""
        return finer_asks.asks_finer(kind, self.question)

    @property
    def counts_things(self) -> bool:
        """True when the question counts things by name (多少个托位, 几家, "how many townships", "the number of
        places"): a share (79%) never answers it. A rate asked with a bare 多少 (满意度达到多少) may be a share."""
        if self.classifier or _COUNT_WORDS_ENGLISH.search(self.question):
            return True
        return bool(self.counted) and not any(form.endswith(_RATE_NOUNS) for form in self.counted)

    def takes(self, text: str, match: re.Match[str]) -> bool:
        """False for a figure this question cannot take: a share when it counts things, or a figure the
        question gives itself ("全日托平均1787一个月，那半日托呢": 1787 is what the parent knows, not the answer)."""
        if self.counts_things and _is_share(text, match):
            return False
        if self.rate and _is_share(text, match) and not rates.of_the_rate(self.rate, text, match.start()):
            return False  # "健康管理率做到多少": not the 100% of 健康档案建档率
        if self.asks_achieved and _in_quoted_task(text, match.start()):
            return False  # "新增托位实际完成了多少": not the 5200 of the task “新增托位5200个”, but 为5671个
        return question_refs.last_figure(match.group(0)) not in self.given

    @property
    def asks_achieved(self) -> bool:
        """True when the question asks what was actually done (实际完成了多少, "actually achieved"), not the task."""
        return bool(_ASKS_ACHIEVED.search(self.question))

    @property
    def described(self) -> str:
        """The question with its topic words' document words, space-separated (an English question's words in
        the documents' Chinese): what a passage's words are compared with."""
        return " ".join((self.question, *self.topic, *self.counted))

    def names_quoted(self, text: str) -> bool:
        """True when `text` names what the question quotes (`retrieval.question_refs`), or it quotes nothing."""
        return not self.named or question_refs.names_any(self.named, text)

    @property
    def given(self) -> frozenset[str]:
        """The figures the question states itself (5,200 as 5200): context, not the answer."""
        return frozenset(question_refs.given_figures(self.question))

    def names_counted(self, text: str, at: int) -> bool:
        """True when the list item holding the figure at `at` names the noun itself (讲师团300人 in
        "专家团15人、讲师团300人", 普惠托位3160个 in "新增托位5200个(其中普惠托位3160个)"): the better of two
        figures in one clause."""
        item = _span_around(text, at, _CLAUSE_MARKS + "、(（")
        return any(form in item for form in self.counted)

    def agrees(self, used: str) -> bool:
        """True when a figure counted with `used` may answer (个 takes 家 once the noun is checked)."""
        if self.counted and self.classifier == "个" and used in INSTITUTION_CLASSIFIERS:
            return True
        return _agrees(self.classifier, used)

    def admits(self, clause: str) -> bool:
        """False for a clause whose figures are of something narrower than the question asks about: a figure
        per unit (每个县…) or an increase (新增托位5200个 is not how many places there are), unless the question
        asks about that unit or increase."""
        if not self.question:
            return True
        return self._per_unit_asked(clause) and (_INCREASE.search(clause) is None or self._asks_increase)

    def _per_unit_asked(self, clause: str) -> bool:
        match = _PER_UNIT.search(clause)
        if match is None:
            return True
        unit = match.group(1) or match.group(2)
        per_thousand = match.group(2) is not None and any(c in self.question for c in "千万百" if c in unit)
        return bool(_ASKS_PER_UNIT.search(self.question)) or unit in self.question or per_thousand

    def _part_asked(self, part: re.Match[str]) -> bool:
        """The question names the part (其中:普惠型… → 普惠), or a topic word besides the counted noun that the
        part holds and the text before it does not (公立的纯托儿所 → 公办纯托育机构7个)."""
        name = part.group(1) or part.group(2)
        before = part.string[: part.start()]
        # Not the counted noun, a piece of it or the noun with a qualifier glued on (普惠托位 for 托位): those
        # name what is counted, not which part.
        qualifiers = [w for w in self.topic if not any(w in form or form in w for form in self.counted)]
        return name in self.question or any(w in part.group(0) and w not in before for w in qualifiers)

    def in_asked_part(self, text: str, at: int) -> bool:
        """True when position `at` lies in a part (其中…) the question asks about: there the part's figure
        answers, not the whole's (普惠 → 3160 in "新增托位5200个(其中普惠托位3160个)")."""
        return any(part.start() <= at < part.end() and self._part_asked(part) for part in _PART.finditer(text))

    @property
    def _asks_increase(self) -> bool:
        return bool(_ASKS_INCREASE.search(self.question))

    def relevant(self, text: str) -> str:
        """`text` without what this question does not ask about: the clauses `admits` refuses, and a part
        introduced by 其中 ("of which": 其中:普惠型托育机构353个 is not how many centres there are) unless the
        question names the part."""
        if not self.question or not _NARROWER.search(text):  # the common case: nothing to leave out
            return text
        text = _PART.sub(lambda part: part.group(0) if self._part_asked(part) else "", text)
        return "".join(clause for clause in _CLAUSE.findall(text) if self.admits(clause))


# An increase; a part introduced by 其中, in brackets or to the end of the sentence, named by its first two
# characters (其中:普惠型… → 普惠).
_INCREASE = re.compile(r"新增")
_ASKS_INCREASE = re.compile(r"新|增|多开|建|\b(?:new\w*|more|add\w*|increase\w*|build\w*)\b", re.I)
_PART = re.compile(r"[(（]其中\s*[:：,，]?\s*([\u4e00-\u9fff]{2})[^)）]*[)）]|其中\s*[:：,，]?\s*([\u4e00-\u9fff]{2})[^。]*")
_NARROWER = re.compile(f"{_PER_UNIT.pattern}|新增|其中")


# Asking what was actually done, not what was set as the task.
_ASKS_ACHIEVED = re.compile(r"实际(?:上)?(?:完成|建成|做到|达到|新增)|實際|已(?:经)?完成了?多少|\b(?:actually|in fact)\b.{0,30}\b(?:achiev|complet|built|added|deliver)", re.I)
# What a place statement goes on to set up (依托市实验幼儿园…成立市托育综合服务中心): no longer the place.
_SETS_UP = re.compile(r"成立|设立|建设|建立|开设|打造|建成")


def _in_quoted_task(text: str, at: int) -> bool:
    """True when position `at` lies inside quotation marks: a task or a name quoted (“新增托位5200个”), whose
    figures say what was set, not what was done. A clause cut from a longer sentence may hold only the end of
    a quotation (新增托位600个”): a closing mark ahead with no mark between counts too."""
    opened, closed = text.rfind("“", 0, at), text.rfind("”", 0, at)
    if opened > closed:
        return True
    ahead = re.search(r"[“”]", text[at:])
    return opened < 0 and ahead is not None and ahead.group(0) == "”"


ANYTHING = Asked()


def asked_of(
    question: str, counted: tuple[str, ...] = (), topic: tuple[str, ...] = (), subject: tuple[str, ...] = ()
) -> Asked:
    """What `question` asks for beyond its kind; `counted`: the forms of the noun it counts (see
    `retrieval.counted`: the caller picks the topic word in it and adds its document words); `topic`: the forms
    of its other topic words; `subject`: what a "where" question asks the place of (`retrieval.subject`)."""
    named = question_refs.quoted_names(question)
    return Asked(
        asked_classifier(question), money_roles.asked_money(question), question, counted, topic, named,
        rates.rate_asked(question), subject,
    )


_CLAUSE_MARKS = "，,；。"  # not ";": it separates the cells of a table row, which is one statement


def _is_share(text: str, match: re.Match[str]) -> bool:
    """True when the figure matched is a percentage (79%, or "为79" followed by its %)."""
    return match.group(0).rstrip().endswith(("%", "％")) or _SHARE_AFTER.match(text, match.end()) is not None


_RATE_NOUNS = ("率", "度", "比", "比例", "占比")
_SHARE_AFTER = re.compile(r"[\d.]*\s*[%％]")
_COUNT_WORDS_ENGLISH = re.compile(r"\bhow many\b|\bnumber of\b", re.I)
