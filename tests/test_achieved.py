""""实际完成了多少" asks what was done: a figure inside a quoted task (“新增托位5200个”) is what was set, not done."""

from __future__ import annotations

from retrieval import answer_type as at
from retrieval.asked import Asked

TASK = "一是在省民生实事“新增16个乡镇实现托育覆盖,新增托位5200个(其中普惠托位3160个)”已经提前超额完成的前提下,继续推进。"
DONE = "省民生实事项目已提前超额完成年度任务:“新增托育覆盖乡镇”已达到21个、“新增托位”为5671个(其中普惠托位为4584个)。"
ACHIEVED = Asked(classifier="个", question="台州省民生实事的新增托位实际完成了多少个？", counted=("托位",))
SET = Asked(classifier="个", question="台州省民生实事要求新增多少个托位？", counted=("托位",))


def test_a_question_about_what_was_done_is_not_answered_by_the_task():
    assert ACHIEVED.asks_achieved and not SET.asks_achieved
    assert not at.states(at.COUNT, TASK, ACHIEVED)
    assert at.states(at.COUNT, DONE, ACHIEVED) and at.extract(at.COUNT, DONE, asked=ACHIEVED) == "5671个"


def test_a_question_about_the_task_still_takes_the_task():
    assert at.states(at.COUNT, TASK, SET) and at.extract(at.COUNT, TASK, asked=SET) == "5200个"


def test_a_clause_holding_only_the_end_of_a_quotation_is_inside_it():
    """Sentences are cut into clauses at commas; 新增托位600个” still ends the quoted task."""
    fragment = "新增托位600个”"
    assert not at.states(at.COUNT, fragment, ACHIEVED)
    assert at.states(at.COUNT, fragment, SET)
    assert at.states(at.COUNT, "实际新增托位600个,确保完成", ACHIEVED)
