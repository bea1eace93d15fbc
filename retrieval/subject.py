"""What a "where is it" question asks the place of: its subject.

"厦门的托育服务两岸融合展厅在什么地方" asks where the 展厅 is. A sentence placing something else (依托托育综合实践示范园,
设立…实验班, the next sentence of the same passage) is no answer, however many of the question's other words it
shares. The subject is the rarest topic word written before the asking word in its clause, with the document
words for it; a sentence stating a place answers only when it names the subject (`Asked.names_subject`).
"""

from __future__ import annotations

import re

from retrieval.salience import Salient

# Asking where something is (not 在哪个部门, which asks for a unit; the question kinds tell them apart first).
_WHERE = re.compile(r"在哪|设在|位于|建在|放在|落在|哪里|哪儿|什么地方|什么位置|啥地方|地址")
_CLAUSE_MARKS = "，,。；;？?！!"
# Words that ask for the place themselves (地点可以放在哪些地方): no subject.
_PLACE_WORDS = frozenset({"地点", "地方", "位置", "场所", "场地", "地址", "地段", "选址"})
# A subject weighs at least this much (general Chinese's rarity, `retrieval.salience.word_weight`): 展厅 6.3,
# 基地 1.6. A common word such as 结果 or 机构 names no particular thing.
SUBJECT_MIN_WEIGHT = 3.0


def place_subject(question: str, salient: list[Salient]) -> tuple[str, ...]:
    """The word naming what a Chinese "where" question asks the place of, with its document words; () when the
    question asks no place or its clause names nothing rare enough before the asking word."""
    match = _WHERE.search(question)
    if match is None:
        return ()
    start = max(question.rfind(mark, 0, match.start()) for mark in _CLAUSE_MARKS) + 1
    before = question[start : match.start()]
    named = [word for word in salient
             if word.word in before and word.weight >= SUBJECT_MIN_WEIGHT and word.word not in _PLACE_WORDS]
    if not named:
        return ()
    subject = max(named, key=lambda word: word.weight)
    return (subject.word, *subject.alternatives)
