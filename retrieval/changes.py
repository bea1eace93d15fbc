"""Figures of a change ("从46个工作日缩短至2个工作日"): the one after the change word is the value now, the one
before it the value before; a question asking how it was before (改革前, 原来, previously) gets the earlier."""

from __future__ import annotations

import re
from collections.abc import Callable

CHANGE = re.compile(r"(?:缩短|缩减|减少|降低|压缩|提高|提升|增加|增长|扩大|调整|变更|上调|下调)(?:至|到|为)|(?:增|降|减|缩)至")

# "2025年前" is a deadline, not the earlier value: 前 counts only after a change or reform word.
_ASKS_EARLIER = re.compile(
    r"原来|原先|以前|之前|此前|过去|(?:改革|改|调整|缩短|压缩|精简|优化|减少|实施|推行)(?:之|以)?前|"
    r"\b(?:before|previously|originally|used to|prior to|formerly)\b",
    re.I,
)


def asks_earlier(question: str) -> bool:
    """True when `question` asks for the value before a change (改革前要多少个工作日, how many days did it take
    before the reform)."""
    return bool(_ASKS_EARLIER.search(question))


def figures_of_the_change(
    pattern: re.Pattern[str], text: str, question: str, keep: Callable[[re.Match[str]], bool]
) -> list[re.Match[str]]:
    """The matches of `pattern` in `text` on the side of its change word the question asks about: the figure
    nearest before it for the earlier value, those after it otherwise; [] when `text` states no change."""
    change = CHANGE.search(text)
    if change is None:
        return []
    if asks_earlier(question):
        return [m for m in pattern.finditer(text, 0, change.start()) if keep(m)][-1:]
    return [m for m in pattern.finditer(text, change.end()) if keep(m)]
