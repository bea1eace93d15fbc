"""A change ("从46个工作日缩短至2个工作日") answers "now" with the figure after it and "before" with the one before."""

from __future__ import annotations

import pytest

from retrieval import answer_type as at
from retrieval.changes import asks_earlier

CLAUSE = "办理时限从46个工作日缩短至2个工作日"


@pytest.mark.parametrize(
    ("question", "earlier"),
    [
        ("台州改革前开办托育机构审批要多少个工作日？", True),
        ("原来要多少个工作日？", True),
        ("Before the one-stop reform, how many working days did it take?", True),
        ("How long did approval previously take?", True),
        ("台州开办托育机构审批现在要几个工作日？", False),
        ("2025年前大庆要建多少个托位？", False),  # a deadline, not the value before a change
        ("前两年建了多少个托位？", False),
    ],
)
def test_a_question_asking_how_it_was_before(question, earlier):
    assert asks_earlier(question) is earlier


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
