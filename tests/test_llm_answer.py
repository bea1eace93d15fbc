"""LLM answers through langchain, with langchain's fake chat models standing in for the LLM service."""

from __future__ import annotations


def test_grounded_answer_with_citations(service_with):
    service = service_with(["张家港对困境婴幼儿减免500元/人/月 [1]。"])
    answer = service.ask("张家港困境婴幼儿入托能减免多少费用？")
    assert answer.answered
    assert answer.generated.endswith("[1]。")
    prompt = service.llm.prompts[0][1].content
    assert "减免500元/人/月" in prompt  # the model saw the retrieved passage


def test_model_saying_not_found_is_a_refusal(service_with):
    service = service_with(["NOT_FOUND"])
    answer = service.ask("张家港困境婴幼儿入托能减免多少费用？")
    assert not answer.answered and answer.reason == "not_found"


def test_uncited_text_falls_back_to_extractive_quotes(service_with):
    service = service_with(["大概减免一些吧。"])
    answer = service.ask("张家港困境婴幼儿入托能减免多少费用？")
    assert answer.answered and answer.generated == ""
    assert answer.quotes


def test_llm_is_not_asked_when_retrieval_refuses(service_with):
    service = service_with(["厦门的天气很好 [1]"])
    answer = service.ask("今天天气怎么样？")
    assert not answer.answered
    assert service.llm.prompts == []


def test_a_question_about_the_document_itself_is_not_rephrased(service_with):
    service = service_with(["NOT_FOUND"])
    answer = service.ask("厦门普惠托育示范项目方案的文号是多少？")
    assert answer.answered and answer.fact == "厦卫人口家庭〔2024〕169号"
    assert service.llm.prompts == []
