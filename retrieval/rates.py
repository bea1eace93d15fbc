"""Which rate a share belongs to: "健康管理率做到多少" is not answered by "健康档案建档率达到100%" in the same
sentence. The rate the question names must be the one written right before the figure (its words in order:
持证率 is 从业人员持证上岗率), when the text names one there."""

from __future__ import annotations

import re

_ASKED_RATE = re.compile(r"([\u4e00-\u9fff]{2,10})率")
_TEXT_RATE = re.compile(r"([\u4e00-\u9fff]{1,10})率[^，,。；;率]*$")
_CORE = 2  # the last characters of the asked rate's words that must stand in the text's rate, in order


def rate_asked(question: str) -> str:
    """The words of the rate a question names (健康管理 in 婴幼儿的健康管理率做到多少), "" when none."""
    match = _ASKED_RATE.search(question)
    if match is None:
        return ""
    return re.split(r"[的对是在和与及]", match.group(1))[-1][-_CORE:]


def _in_order(needle: str, hay: str) -> bool:
    it = iter(hay)
    return all(char in it for char in needle)


def of_the_rate(asked: str, text: str, at: int) -> bool:
    """True when the figure at `at` in `text` may be the rate `asked` (`rate_asked`): the rate written right
    before it in its clause is that one, or no rate is written there."""
    if len(asked) < 2:
        return True
    clause = re.split(r"[，,。；;]", text[:at])[-1]
    written = _TEXT_RATE.search(clause)
    return written is None or _in_order(asked, written.group(1))
