"""Figures given "respectively" (城区新建6 班、9 班、12 班及以上规模幼儿园分别设置 2 个、3 个、4 个托大班): the
question names one case (a 9-class kindergarten) and is answered by the figure in the same place of the second
list (3 个). Without a case named, no single figure answers."""

from __future__ import annotations

import re

# A list of cases, each with its figure, then 分别 and as many figures.
_RESPECTIVE = re.compile(
    r"(?P<cases>(?:\d+\s*[\u4e00-\u9fff]{0,2}\s*[、,，和]\s*)+\d+\s*[\u4e00-\u9fff]{0,8}?)[^。；;\d]*?分别[^。；;\d]{0,8}"
    r"(?P<figures>(?:\d+\s*[个家名所班人]?\s*[、,，和]\s*)+\d+\s*[个家名所班人]?)"
)
_FIGURE = re.compile(r"\d+")


def respective_figure(text: str, question: str) -> str:
    """The figure `text` gives "respectively" for the case `question` names (its number: 9班, 12个班以上),
    as written (3 个 → 3个); "" when the text lists no such pair or the question names no case."""
    asked = set(_FIGURE.findall(question))
    for match in _RESPECTIVE.finditer(text):
        cases = _FIGURE.findall(match.group("cases"))
        figures = re.findall(r"\d+\s*[个家名所班人]?", match.group("figures"))
        if len(cases) != len(figures):
            continue
        named = [i for i, case in enumerate(cases) if case in asked]
        if len(named) == 1:
            return re.sub(r"\s+", "", figures[named[0]])
    return ""
