"""A change ("从46个工作日缩短至2个工作日") answers "now" with the figure after it and "before" with the one before."""

from __future__ import annotations

import pytest

from retrieval import answer_type as at

CLAUSE = "办理时限从46个工作日缩短至2个工作日"


@pytest.mark.parametrize(
    ("question", "fact"),
    [
        ("审批现在要几个工作日？", "2个工作日"),
        ("审批原来要几个工作日？", "46个工作日"),
        ("How many working days did approval take before the reform?", "46个工作日"),
        ("How many working days does approval take now?", "2个工作日"),
    ],
)
def test_the_side_of_the_change_the_question_asks_about(question, fact):
    kinds = at.detect_all(question)
    assert kinds == [at.DURATION], "how many working days is a duration, not a count of things"
    assert at.extract(at.DURATION, CLAUSE, asked=at.asked_of(question)) == fact


def test_a_count_before_the_change():
    question = "申报资料原来要多少件？"
    assert at.extract(at.COUNT, "相关申报资料从43件缩减至18件", asked=at.asked_of(question)) == "43件"


def test_the_earlier_value_of_a_real_passage_is_answered(policy_service):
    answer = policy_service.ask("台州改革前开办托育机构审批要多少个工作日？", use_llm=False)
    assert answer.answered and answer.fact == "46个工作日"
    answer = policy_service.ask("台州开办托育机构的申报资料原来要多少件？", use_llm=False)
    assert answer.answered and answer.fact == "43件", "a time word asking for the side is no topic word"
