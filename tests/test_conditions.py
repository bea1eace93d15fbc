"""Who qualifies or what must be met (需要什么条件, 哪些家庭才算, "who is eligible"), a floor area or the building
asked for is answered only by a passage that says so; one that only names the topic (建立星级评定标准, 困境婴幼儿, 公共活动区域)
is reported as not stating it."""

from __future__ import annotations

import pytest

from retrieval import answer_type as at


def test_a_passage_states_conditions_in_their_words():
    assert at.states(at.CONDITION, "从业人员应符合国家主管部门规定的相关从业条件")
    assert not at.states(at.CONDITION, "建立托育机构星级评定标准、机构“红黑榜”“白名单”")
    assert not at.states(at.CONDITION, "对全市0~3岁困境婴幼儿给予送托关爱服务。")


@pytest.mark.parametrize(
    "question",
    ["北仑的婴幼儿照护驿站要达到省级标准，具体需要满足哪些条件？", "张家港说的0~3岁困境婴幼儿，具体哪些家庭的孩子才算？"],
)
def test_conditions_the_documents_do_not_give_are_said_to_be_missing(policy_service, question):
    answer = policy_service.ask(question, use_llm=False)
    assert not answer.answered and answer.reason == "not_stated" and answer.kind == at.CONDITION


def test_conditions_the_documents_give_are_quoted(policy_service):
    answer = policy_service.ask("大慶的托育機構招員工，從業人員要符合什麼條件？", use_llm=False)
    assert answer.answered and "从业人员应符合国家主管部门规定的相关从业条件" in answer.quotes[0].text


def test_a_floor_area_is_stated_with_its_unit():
    assert at.extract(at.AREA, "建筑面积不少于200平方米,户外活动场地") == "不少于200平方米"
    assert not at.states(at.AREA, "通过做好公共活动区域和设施改造,为婴幼儿照护创造安全、适宜的环境")


def test_a_building_asked_for_needs_an_address(policy_service):
    answer = policy_service.ask("厦门那个全国首个托育职称评审试点基地设在哪栋楼？", use_llm=False)
    assert not answer.answered and answer.reason == "not_stated"
