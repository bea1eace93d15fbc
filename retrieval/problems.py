"""Questions about what a measure is meant to fix (想治哪些老毛病, 要补哪方面的短板, "what complaints does it ease")
and the sentences that say it (解决托育机构防护能力不足的问题, 缓解群众“入托难”“入托贵”问题).

The plans state the problem a measure solves in a sentence of its own, often after the measure itself: a
question about the problem is answered by that sentence, and the problem it names is the first line.
"""

from __future__ import annotations

import re

_ASKS_PROBLEM = re.compile(
    r"毛病|短板|痛点|难题|难处|解决(?:什么|哪|啥)|缓解(?:什么|哪|啥)|治一治|(?:什么|哪些|哪方面的?|啥)问题|"
    r"\b(?:problems?|complaints?|pain points?|shortcomings?|weakness(?:es)?|gaps?)\b|\bissues? (?:does|do|is|are|it)\b",
    re.I,
)
# The problem named: 解决X的问题, 缓解群众“入托难”“入托贵”问题, 破解X难题 (not 协调解决有关问题: no problem named).
_SOLVES = re.compile(r"(?:解决|缓解|破解|改善)(?:群众|家庭|家长)?(?P<problem>[^，。；;,]{2,40}?)的?(?:问题|难题|短板|痛点)")
_NO_PROBLEM_NAMED = re.compile(r"^(?:工作中|实施过程中|项目实施过程中)?的?(?:有关|相关|重点难点|重大事项和|具体)?$")


def asks_problem(question: str) -> bool:
    """True when `question` asks what problem a measure is meant to fix."""
    return _ASKS_PROBLEM.search(question) is not None


def problem_named(text: str) -> str:
    """The problem `text` says is solved ("" when it names none): 防护能力不足 from 解决托育机构防护能力不足的问题."""
    for match in _SOLVES.finditer(text):
        problem = match.group("problem").strip()
        if not _NO_PROBLEM_NAMED.match(problem):
            return problem
    return ""
