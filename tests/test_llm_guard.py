"""The fact guard around LLM answers (langchain's fake chat models stand in for the LLM service)."""

from __future__ import annotations

from retrieval.guard import figures, grounded


def test_figures_ignore_citations():
    assert figures("减免500元/人/月 [1]，占比30% [2]") == ["500", "30%"]


def test_grounded_needs_every_figure_in_the_passages_and_the_kind_asked_for():
    passages = ["托育机构收托困境婴幼儿的,按规定减免500元/人/月托育服务费用。"]
    assert grounded("困境婴幼儿每月减免500元 [1]。", passages, ["amount"])
    assert not grounded("困境婴幼儿每月减免800元 [1]。", passages, ["amount"])
    assert not grounded("可以减免一部分费用 [1]。", passages, ["amount"])


def test_an_llm_answer_with_a_figure_the_quotes_lack_is_dropped(service_with):
    service = service_with(["张家港对困境婴幼儿每月减免800元 [1]。"])
    answer = service.ask("张家港困境婴幼儿入托能减免多少费用？")
    assert service.llm.prompts, "the model was asked"
    assert answer.answered and answer.generated == "", "the invented figure never reaches the user"
    assert "500元/人/月" in answer.fact


def test_a_grounded_llm_answer_is_kept(service_with):
    service = service_with(["张家港对困境婴幼儿减免500元/人/月 [1]。"])
    answer = service.ask("张家港困境婴幼儿入托能减免多少费用？")
    assert answer.generated.startswith("张家港对困境婴幼儿减免500元/人/月")


def test_the_llm_is_not_asked_when_the_documents_do_not_state_the_fact(service_with):
    service = service_with(["厦门租金减免最高5000元 [1]。"])
    answer = service.ask("How much rent reduction can a childcare centre in Xiamen get at most?")
    assert not answer.answered and answer.reason == "not_stated"
    assert service.llm.prompts == []
