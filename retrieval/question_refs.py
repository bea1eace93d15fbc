"""What a question cites rather than asks: the names it quotes (“一老一小”, 《托幼机构卫生评价报告》, "1+9+X") and
the figures it gives (全日托平均1787一个月, the task of 5,200 places). A statement of the fact must name what is
quoted; a figure the question gives is context, never the answer (`retrieval.asked.Asked`)."""

from __future__ import annotations

import re

# A name in quotes; an English phrase in quotes is no name the Chinese documents hold.
_QUOTED = re.compile(r"[“\"「『《‘']([^”\"」』》’']{2,30})[”\"」』》’']")
_CJK_OR_DIGIT = re.compile(r"[\u4e00-\u9fff\d]")
_FIGURE = re.compile(r"(?<![\d.,])(?:\d{1,3}(?:,\d{3})+(?![\d,])|\d+(?:\.\d+)?)")


def quoted_names(question: str) -> tuple[str, ...]:
    """The names `question` quotes that the documents could hold (Chinese characters or digits in them)."""
    return tuple(name for name in _QUOTED.findall(question) if _CJK_OR_DIGIT.search(name))


def names_any(names: tuple[str, ...], text: str) -> bool:
    """True when `text` names one of `names`. A parent quotes from memory: “进来出去” names 引进来、走出去 (the
    characters in order, at most two between each)."""
    return any(re.search("[^。；;]{0,2}?".join(map(re.escape, name)), text) for name in names)


# An English sum in millions or billions, which the documents write in 万 and 亿: 30 million → 3000(万).
_MAGNITUDE = re.compile(r"(\d+(?:\.\d+)?)\s*(million|billion)\b", re.I)
_IN_WAN_OR_YI = {"million": 100, "billion": 10}


def _as_documents_write(match: re.Match[str]) -> str:
    value = float(match.group(1)) * _IN_WAN_OR_YI[match.group(2).lower()]
    return f"{value:g}"


def given_figures(question: str) -> list[str]:
    """The figures `question` states, as the documents write them (5,200 → 5200; 30 million → 3000, of 3000万),
    two digits or more (single digits are everywhere)."""
    question = _MAGNITUDE.sub(_as_documents_write, question)
    figures = (figure.replace(",", "") for figure in _FIGURE.findall(question))
    return list(dict.fromkeys(figure for figure in figures if len(figure) >= 2))


def last_figure(text: str) -> str:
    """The last figure written in `text` ("" when none), as `given_figures` writes it."""
    figures = _FIGURE.findall(text)
    return figures[-1].replace(",", "") if figures else ""
