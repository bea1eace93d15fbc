"""The proper names a passage gives (“医呼通”智慧婴育数字化系统, 温岭的曙光狮村级养育小组活动基地, 即厦门市托育综合
实践示范园), for questions that ask what something is called (叫什么名字, 哪一家托育点, "what is it called").

A passage that only names the category (示范性婴幼儿照护机构, 家庭托育点) does not say what the thing is called:
`answer_type.states` then reports the name as not stated instead of quoting the topic.
"""

from __future__ import annotations

import re

# What a named thing is: a name in quotes followed by one of these is the name of a system, a model, a place…
_NAME_SUFFIX = (
    r"(?:系统|平台|模式|服务|应用|场景|品牌|专区|工程|行动|计划|项目|机制|体系|驿站|小站|基地|中心|展厅|示范园|"
    r"服务点|托育点|活动|热线|专线|理念|工作法|实验班|课程|名片|之家|学堂|乐园|小组)"
)
# A facility a sentence sets up or cites (设立托育服务两岸融合展厅, 即厦门市托育综合实践示范园): names without quotes.
_FACILITY = r"(?:展厅|驿站|小站|基地|示范园|实践园|之家|学堂|乐园|服务点|中心|实验班|工作室|实验室|工作站)"
_PUNCTUATION = "，,。；;：:（(）)、！!？?\n"
# Names quoted one after another (“省心入托”“安心在托”、“用心监管”) are one run.
_QUOTE_RUN = re.compile(r"(?:[“「\"][^”」\"，,。；;]{1,16}[”」\"](?:[、和与及](?=[“「\"]))?)+")
_QUOTED_ONE = re.compile(r"[“「\"]([^”」\"]{1,16})[”」\"]")
_TAIL_CHARS = 16  # how far after a quoted name its kind may stand ("三大“一件事”应用场景")
# A name introduced as one: 即X, 简称X, 称为X, 命名为X; or a facility set up (设立X, 建成X, 打造X).
_INTRODUCED = re.compile(
    rf"(?:即|简称|称为|称作|命名为|名为|叫做)([\u4e00-\u9fff\d+]{{2,24}}?{_FACILITY}?)(?=[{_PUNCTUATION}“]|$)|"
    rf"(?:设立|建成|建设|打造|开设|成立)([\u4e00-\u9fff]{{2,20}}?{_FACILITY})(?=[{_PUNCTUATION}]|$)"
)
# Examples listed by place: 如温岭的曙光狮村级养育小组活动基地、路桥的康宝托育村级驿站…
_EXAMPLE = re.compile(r"(?:如|例如|比如|像)?([\u4e00-\u9fff]{2,4})的([\u4e00-\u9fff]{4,20}?(?:驿站|基地|小站|中心|服务点|托育点|之家|园))(?=[、，,。；;等])")


def _quoted_names(text: str, known: tuple[str, ...]) -> list[tuple[str, str]]:
    """(name, context) for each run of quoted names whose kind follows it ("…”三大“一件事”应用场景")."""
    found = []
    for run in _QUOTE_RUN.finditer(text):
        tail = re.split(f"[{re.escape(_PUNCTUATION)}]", text[run.end() : run.end() + 2 * _TAIL_CHARS], maxsplit=1)[0]
        # What the name names: up to the first kind word after it (“浙有善育”系统, not the rest of the sentence).
        kind = re.match(rf".{{0,{_TAIL_CHARS}}}?{_NAME_SUFFIX}", re.sub(r"[“”「」\"]", "", tail))
        if kind is None:
            continue
        names = [name for name in _QUOTED_ONE.findall(run.group(0)) if name not in known]
        if names:
            found.append(("".join(f"“{name}”" for name in names), run.group(0) + kind.group(0)))
    return found


# A title in 《》 is the name asked for only when the question asks about a document (题目叫什么, 哪份文件).
_TITLE = re.compile(r"(.{0,6})《([^》]{2,60})》")
_ONLY_TITLE = re.compile(r"哪份|什么文件|哪个文件|哪一个文件|题目|标题|\btitle\b", re.I)
_ASKS_TITLE = re.compile(r"题目|标题|文件|提案|建议|方案|办法|规定|意见|通知|指南|标准|规范|\btitle|\bdocument", re.I)


def names_in(text: str, question: str = "", known: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """The proper names `text` gives, as (name, the words around it that say what it names); names the
    question itself quotes (`known`) are left out: the parent knows them already. Titles count when
    `question` asks about a document."""
    titles = [(match.group(2), match.group(0)) for match in _TITLE.finditer(text) if match.group(2) not in known]
    if _ONLY_TITLE.search(question):  # 哪份文件, 题目叫什么: a document's title, no other name
        return titles
    found = _quoted_names(text, known) + (titles if _ASKS_TITLE.search(question) else [])
    which_place = bool(_ASKS_WHICH_PLACE.search(question))
    for match in _INTRODUCED.finditer(text):
        # A facility set up (成立托育服务指导中心) is a kind of place, no answer to which one it is (是哪几家).
        name = match.group(1) or (None if which_place else match.group(2))
        if name and name not in known:
            found.append((name, match.group(0)))
    for match in _EXAMPLE.finditer(text):
        found.append((match.group(2), match.group(0)))
    if which_place:  # 是哪几家: places, not a mechanism's name (“五四三”工作机制)
        found = [(name, context) for name, context in found if _PLACE_KIND.search(context)]
    return found


# "哪一家", "是哪几家": the question asks which places (institutions, stations); a name answers only when what it
# names is one.
_ASKS_WHICH_PLACE = re.compile(r"哪[一几]?家")
_PLACE_KIND = re.compile(rf"{_FACILITY}|托育点|托儿所|托育园|托育机构|幼儿园|医院|保健院|园")


def best_name(text: str, question: str, known: tuple[str, ...] = (), topic: tuple[str, ...] = ()) -> str:
    """The name in `text` that fits `question` best: the one whose words share most characters with it or
    with its `topic` words (the document words of an English question's words): 温岭那个…基地叫啥名字 →
    曙光狮村级养育小组活动基地, not 路桥's station; "" when `text` names nothing."""
    found = names_in(text, question, known)
    if not found:
        return ""
    asked = set(question) | set("".join(topic))
    return max(found, key=lambda item: len(asked & set(item[1])))[0]
