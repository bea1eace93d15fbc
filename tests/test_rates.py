"""A share answers only the rate the question names: "健康管理率做到多少" is not answered by the 100% of
"健康档案建档率" in the same sentence; 持证率 is 从业人员持证上岗率 (its words in order)."""

from __future__ import annotations

from retrieval import answer_type as at
from retrieval.rates import of_the_rate, rate_asked

TARGETS = "3.建设儿童健康管理中心,其辖区婴幼儿医防护健康档案建档率达到100%;6.婴幼儿健康管理率95%以上"


def test_the_rate_a_question_names():
    assert rate_asked("北仑希望辖区婴幼儿的健康管理率做到多少？") == "管理"
    assert rate_asked("北仑对托育从业人员持证率的目标是多少？") == "持证"
    assert rate_asked("台州普惠托位占了多大比例？") == ""


def test_a_share_written_after_another_rate_is_not_the_one_asked():
    text = "其辖区婴幼儿医防护健康档案建档率达到100%"
    assert not of_the_rate("管理", text, text.find("100"))
    text = "2024年实现托育从业人员持证上岗率达100%"
    assert of_the_rate("持证", text, text.find("100"))
    assert of_the_rate("管理", "占比达70%", 3), "no rate written there: any share may answer"


def test_the_share_of_the_rate_asked_is_the_fact():
    asked = at.asked_of("北仑希望辖区婴幼儿的健康管理率做到多少？")
    assert at.extract(at.PERCENTAGE, TARGETS, asked=asked) == "95%"
    assert at.extract(at.PERCENTAGE, TARGETS) == "100%", "without the question, the first share"


def test_the_rate_asked_is_answered(policy_service):
    answer = policy_service.ask("北侖希望轄區嬰幼兒的健康管理率做到多少？", use_llm=False)
    assert answer.answered and answer.fact.startswith("95%")
