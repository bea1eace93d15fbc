"""A question about what a measure is meant to fix is answered by the sentence naming the problem, and that
problem is the first line."""

from __future__ import annotations


def test_the_problem_is_the_first_line(policy_service):
    answer = policy_service.ask("厦门给托儿所配那个安全服务包，说白了是要补机构哪方面的短板？", use_llm=False)
    assert answer.answered and answer.fact == "托育机构防护能力不足"
    assert "解决托育机构防护能力不足的问题" in answer.quotes[0].text
