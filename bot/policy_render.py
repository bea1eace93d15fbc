"""Policy replies for people: the fact first, then the verbatim quote and its source, within a phone screen.

Refusals say why: nothing found, the document names the topic but not the fact (quoting what it does say),
no document for the place (naming the documented places near it), or a national question.
English replies carry an English gist (the fact with English units, and glossary labels of the quote)
before the Chinese quote; every label is in the user's language.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

from bot.callbacks import CallbackCodec, CallbackError, Int, Token
from bot.settings import KNOWLEDGE_DIR
from bot.texts import join_names, t, texts_of
from retrieval.answer import Answer, Source
from retrieval.answer_type import NAME
from retrieval.query import load_glossary

MAX_SOURCE_BUTTONS = 3
#: The fact kinds a refusal can name ("the document does not state the amount").
_MISSING_KEYS = frozenset(key for key in texts_of("policy") if key.startswith("missing_"))
_EN_UNITS = [
    ("每季度", "every quarter, "), ("每半年", "every six months, "), ("每学期", "every term, "), ("每年", "every year, "),
    ("每月", "every month, "), ("每周", "every week, "), ("一次", " once"), ("两次", " twice"), ("人次", " person-times"),
    ("次", " times"),
    ("元/人/月", " yuan per child per month"), ("元/月", " yuan a month"), ("元", " yuan"),
    ("个工作日", " working days"), ("工作日", " working days"), ("人次", " person-times"), ("个月", " months"),
    ("天", " days"), ("小时", " hours"), ("年底", " (end of year)"), ("年前", " (before the year)"), ("年内", " (within the year)"),
    ("个", ""), ("家", ""), ("名", ""), ("所", ""), ("项", ""), ("张", ""), ("件", ""), ("岁", " years old"), ("人", " people"),
    ("不少于", "at least "), ("至少", "at least "), ("不超过", "at most "), ("最多", "at most "), ("超过", "over "),
    ("将近", "nearly "), ("接近", "nearly "), ("近", "nearly "), ("约", "about "), ("逾", "over "),
    ("建立", ""), ("建成", ""), ("建设", ""), ("新建", ""), ("设立", ""), ("设置", ""), ("开设", ""), ("培育", ""),
    ("打造", ""), ("新增", ""), ("招收", ""), ("收托", ""), ("达到", ""), ("达", ""), ("以上", " or more"),
]
_CN_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_NUMBER = re.compile(r"[零〇一二两三四五六七八九十百]+")


def _arabic(numeral: str) -> str:
    """A Chinese numeral below a thousand in digits (一 → 1, 十二 → 12, 三百零五 → 305); unchanged otherwise."""
    total, digit = 0, None
    for char in numeral:
        if char in _CN_DIGIT:
            digit = _CN_DIGIT[char]
        elif char in "十百":
            total += (1 if digit is None else digit) * (10 if char == "十" else 100)
            digit = None
    return str(total + (digit or 0)) if total or digit is not None else numeral
SOURCE_CODEC = CallbackCodec("src")  # src:<doc id>:<passage ordinal>
SOURCE_CODEC.action("", Token(48, pattern=r"[a-z0-9][a-z0-9_-]*"), Int(1, 999_999))


@lru_cache(maxsize=1)
def _reverse_glossary() -> tuple[tuple[str, str], ...]:
    """Chinese term → its first English phrase, from knowledge/glossary.yaml (longest terms first)."""
    pairs: dict[str, str] = {}
    for phrases, terms in load_glossary(KNOWLEDGE_DIR / "glossary.yaml").entries:
        for term in terms:
            pairs.setdefault(term, phrases[0])
    return tuple(sorted(pairs.items(), key=lambda kv: -len(kv[0])))


def english_label(text: str, limit: int = 4) -> str:
    """A glossary-based English label of a Chinese passage: the English of the domain terms it uses."""
    labels: list[str] = []
    remaining = text
    for term, english in _reverse_glossary():
        if term in remaining and english not in labels and len(term) >= 2:
            labels.append(english)
            remaining = remaining.replace(term, " ")
        if len(labels) >= limit:
            break
    return ", ".join(labels)


_TEN_THOUSANDS = re.compile(r"(\d+(?:\.\d+)?)\s*(万|亿)元")
_SCALE = {"万": 10_000, "亿": 100_000_000}
_FULL_DATE = re.compile(r"(\d{4})\s*年\s*(1[0-2]|0?[1-9])\s*月\s*(3[01]|[12]\d|0?[1-9])\s*日")
_MONTH_END = re.compile(r"(\d{4})\s*年\s*(1[0-2]|0?[1-9])\s*月底")
_MONTH_DATE = re.compile(r"(\d{4})\s*年\s*(1[0-2]|0?[1-9])\s*月(?!底)")
_DAY_DATE = re.compile(r"(?<![\d年])(1[0-2]|0?[1-9])\s*月\s*(3[01]|[12]\d|0?[1-9])\s*[日号]")
_YEAR = re.compile(r"(\d{4})\s*年(?![底前内])")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


def _is_figure(fact: str) -> bool:
    """True when `fact` is a number with its units and bounds (近200家, 每季度至少一次), nothing more: what is
    left once those are taken out holds at most one Chinese character."""
    rest = fact
    for zh, _ in _EN_UNITS:
        rest = rest.replace(zh, "")
    rest = re.sub(r"[年月日号底内]", "", _CN_NUMBER.sub("", rest))
    return bool(re.search(r"\d|[零〇一二两三四五六七八九十百]", fact)) and len(re.findall(r"[\u4e00-\u9fff]", rest)) <= 1


def english_fact(fact: str) -> str:
    """A figure with its Chinese units in English (500元/人/月 → 500 yuan per child per month); any other fact
    (a unit's name, a document number, 一键报警系统) stays as written."""
    if not _is_figure(fact):
        return fact
    out = _TEN_THOUSANDS.sub(lambda m: f"{float(m.group(1)) * _SCALE[m.group(2)]:,.0f} yuan", fact)
    out = _FULL_DATE.sub(lambda m: f"{int(m.group(3))} {_MONTHS[int(m.group(2)) - 1]} {m.group(1)}", out)
    out = _MONTH_END.sub(lambda m: f"end of {_MONTHS[int(m.group(2)) - 1]} {m.group(1)}", out)
    out = _MONTH_DATE.sub(lambda m: f"{_MONTHS[int(m.group(2)) - 1]} {m.group(1)}", out)
    out = _DAY_DATE.sub(lambda m: f"{int(m.group(2))} {_MONTHS[int(m.group(1)) - 1]}", out)
    out = _YEAR.sub(r"\1", out)
    for zh, en in _EN_UNITS:
        out = out.replace(zh, en)
    out = _CN_NUMBER.sub(lambda m: _arabic(m.group(0)), out)
    return " ".join(out.split())


def _source_line(source: Source, lang: str) -> str:
    # The two deepest levels (… › (二)政策支持 › 3.加强特殊婴幼儿关心关爱, … › 第二章 收费 › 第三条) keep the
    # reply on one screen; the full path is behind the source button.
    section = " › ".join(source.section.split(" › ")[-2:]) if source.section else "—"
    if not source.chunk_id:  # the document's own fields (文号, 发布机关, 发布日期), from its header
        section = t("policy_document_header", lang)
    return t("policy_source", lang, title=source.title, section=section)


def render_policy_answer(answer: Answer, lang: str, covered: list[str], *, as_html: bool = True) -> str:
    """The reply to a policy question (Telegram HTML when `as_html`, else plain text)."""
    esc = html.escape if as_html else (lambda s: s)
    bold = (lambda s: f"<b>{s}</b>") if as_html else (lambda s: s)
    lines: list[str] = []
    if answer.effective_question and answer.effective_question != answer.question:
        lines.append(esc(t("answer_followup", lang, question=answer.effective_question)))
    if not answer.answered:
        lines.extend(_refusal(answer, lang, covered, esc))
        return "\n".join(lines)
    if answer.generated:
        lines.append(esc(answer.generated))
        for i, source in enumerate(answer.sources[:MAX_SOURCE_BUTTONS], start=1):
            lines.append(f"[{i}] " + esc(_source_line(source, lang)[2:]))
        lines.append(esc(t("policy_footer", lang)))
        return "\n".join(lines)
    several = answer.differs_by_city or len({q.source.city for q in answer.quotes}) > 1
    for quote in answer.quotes:
        city = quote.source.city
        if quote.fact:
            # A name (“五四三”工作机制) is written as the document writes it, never read as a number.
            fact = english_fact(quote.fact) if lang == "en" and answer.kind != NAME else quote.fact
            key = "policy_answer_about" if several else "policy_answer"
            lines.append(bold(esc(t(key, lang, fact=fact, city=city))))
        else:
            lines.append(bold(esc(t("policy_intro", lang, city=city))))
        lines.extend(_quote_lines(quote, lang, esc))
    if len(answer.sources) > len(answer.quotes):
        lines.append(esc(t("policy_more_sources", lang)))
    lines.append(esc(t("policy_footer", lang)))
    return "\n".join(lines)


def _quote_lines(quote, lang: str, esc) -> list[str]:
    """A quoted passage: its gist in English (for English readers, when known), the quote, its source."""
    lines = []
    if lang == "en" and quote.source.chunk_id:  # a passage; a document's header fields need no gist
        label = english_label(quote.text)
        if label:
            lines.append(esc(t("policy_gist", lang, label=label)))
    lines.append(f"“{esc(quote.text)}”")
    lines.append(esc(_source_line(quote.source, lang)))
    return lines


def _refusal(answer: Answer, lang: str, covered: list[str], esc) -> list[str]:
    covered_names = join_names(covered, lang)
    if answer.reason == "out_of_scope" and answer.off_topic:
        return [esc(t("policy_off_topic", lang, covered=covered_names))]
    if answer.reason == "out_of_scope":
        return [esc(t("policy_out_of_scope", lang, covered=covered_names))]
    if answer.reason == "no_documents_for_place":
        places = join_names(answer.unknown_places, lang)
        nearby = [city for place in answer.unknown_places for city in answer.nearby.get(place, [])]
        if nearby:
            nearby_names = join_names(list(dict.fromkeys(nearby)), lang)
            return [esc(t("policy_no_documents_nearby", lang, places=places, nearby=nearby_names,
                          covered=covered_names))]
        return [esc(t("no_documents_for_place", lang, places=places, covered=covered_names))]
    if answer.reason == "not_stated" and answer.quotes:
        quote = answer.quotes[0]
        kinds = answer.missing_kinds or [answer.kind]
        missing = join_names([t(f"missing_{k}", lang) for k in kinds if f"missing_{k}" in _MISSING_KEYS], lang)
        lines = [esc(t("policy_not_stated", lang, title=quote.source.title, missing=missing))]
        lines.extend(_quote_lines(quote, lang, esc))
        lines.append(esc(t("policy_not_stated_after", lang, missing=missing)))
        return lines
    return [esc(t("not_found", lang))]


def sources_for_buttons(answer: Answer) -> list[Source]:
    """The passages behind "source" buttons: the quoted ones first, then the next best, at most three."""
    chosen: list[Source] = []
    for source in [q.source for q in answer.quotes] + (answer.sources if answer.answered else []):
        if source not in chosen:
            chosen.append(source)
    return chosen[:MAX_SOURCE_BUTTONS]


def source_callback_data(source: Source) -> str | None:
    """`src:<doc_id>:<ordinal>` (within Telegram's 64 bytes), or None for a passage whose id cannot be one."""
    doc_id, _, ordinal = source.chunk_id.rpartition(":")
    try:
        return SOURCE_CODEC.encode("", doc_id, int(ordinal))
    except (CallbackError, ValueError):
        return None


def parse_source_callback(data: str | None) -> str | None:
    """The chunk id a "source" button names, or None for anything forged, huge, negative or malformed."""
    try:
        doc_id, ordinal = SOURCE_CODEC.decode(data).args
    except CallbackError:
        return None
    return f"{doc_id}:{ordinal:04d}"
