"""A question about what a measure is meant to fix is answered by the sentence naming the problem, and that
problem is the first line."""

from __future__ import annotations

import pytest

from retrieval.problems import asks_problem, problem_named


@pytest.mark.parametrize(
    ("question", "asks"),
    [
        ("厦门给乳儿班发奖补，是想治一治普惠托儿所的哪些老毛病？", True),
        ("安全服务包说白了是要补机构哪方面的短板？", True),
        ("这个方案主要解决什么问题？", True),
        ("What complaints does the plan want to ease?", True),
        ("厦门租金减免最高多少？", False),
        ("What issue number is the notice?", False),
    ],
)
def test_a_question_about_the_problem_fixed(question, asks):
    assert asks_problem(question) is asks


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("通过加强安防能力提升和安全服务频次来解决托育机构防护能力不足的问题,促进托育机构", "托育机构防护能力不足"),
        ("围绕缓解群众“入托难”“入托贵”问题,拓宽普惠性托育服务供给渠道", "“入托难”“入托贵”"),
        ("奖补后,解决成本居高不下、收费标准过高、托位使用率偏低的问题,同时促进", "成本居高不下、收费标准过高、托位使用率偏低"),
        # Solving "the problems that arise" names none.
        ("及时协调解决项目实施过程中的重点难点问题,加强项目进展调度", ""),
        ("同时协调解决工作中的有关问题,并将重大事项提交市委", ""),
        ("商议解决重大事项和问题", ""),
    ],
)
def test_the_problem_a_sentence_says_is_solved(text, problem):
    assert problem_named(text) == problem


def test_the_problem_is_the_first_line(policy_service):
    answer = policy_service.ask("厦门给托儿所配那个安全服务包，说白了是要补机构哪方面的短板？", use_llm=False)
    assert answer.answered and answer.fact == "托育机构防护能力不足"
    assert "解决托育机构防护能力不足的问题" in answer.quotes[0].text
