"""A count or share said of the whole city (全市…占比达70%) or of another year (2024年目标值) does not answer the same
question asked of a district inside it or of the year asked; a district named only as where the parent lives does
not change the question."""

from __future__ import annotations


def test_a_city_wide_share_is_no_answer_for_a_district(policy_service):
    answer = policy_service.ask("台州黄岩区现在普惠托位占比是多少？", use_llm=False)
    assert not answer.answered and answer.reason == "not_stated" and answer.missing_kinds == ["percentage"]
    assert "全市" in answer.quotes[0].text and answer.fact == "", "the passage is shown, with no figure as the answer"


def test_the_same_share_answers_for_the_city(policy_service):
    answer = policy_service.ask("台州现在普惠托位占比是多少？", use_llm=False)
    assert answer.answered and answer.fact == "70%"


def test_where_the_parent_lives_is_context(policy_service):
    answer = policy_service.ask("我住柴桥，北仑打算建成多少家达到省级标准的婴幼儿照护驿站？", use_llm=False)
    assert answer.answered and answer.fact == "30家"


def test_a_figure_of_another_year_is_no_answer_for_the_year_asked(policy_service):
    asked_2023 = policy_service.ask("张家港2023年托位的实际使用率是多少？", use_llm=False)
    assert not asked_2023.answered and asked_2023.reason == "not_stated"
    asked_2024 = policy_service.ask("张家港2024年托位使用率目标是多少？", use_llm=False)
    assert asked_2024.answered and "70" in asked_2024.fact and "2024" in asked_2024.fact


def test_a_date_of_another_event_is_no_answer_to_when_to_enrol(policy_service):
    answer = policy_service.ask("张家港市托育综合服务中心的托位，什么时候开始招生？", use_llm=False)
    assert not answer.answered and answer.reason == "not_stated", "到2024年底建成 is when it is built"
    built = policy_service.ask("张家港市托育综合服务中心什么时候建成？", use_llm=False)
    assert built.answered and built.fact == "2024年底"


def test_a_prize_is_a_sum():
    from retrieval import answer_type as at

    assert at.detect_all("一等奖奖金多少？") == [at.AMOUNT]


def test_a_place_asked_of_what_parents_do_needs_a_sentence_naming_it():
    from retrieval import answer_type as at
    from retrieval.other_scope import of_another_scope

    question = "张家港托育服务宣传月期间，有没有免费的亲子体验活动？在哪报名？"
    guidance = "依托妇幼保健机构、托育综合服务中心等,通过入户指导、亲子活动等方式,开展家庭养育指导。"
    assert of_another_scope(question, [at.PLACE], [], guidance, "依托妇幼保健机构")
    assert not of_another_scope(question, [at.PLACE], [], "家长可在社区卫生服务中心报名参加亲子活动。", "在社区卫生服务中心")
