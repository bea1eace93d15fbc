"""LLM answers through langchain, with langchain's fake chat models standing in for the LLM service."""

from __future__ import annotations

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from bot.settings import KNOWLEDGE_DIR
from retrieval.service import PolicyService, ServiceOptions


class RecordingFakeModel(FakeListChatModel):
    """A fake chat model that remembers the prompts it was given."""

    prompts: list = []

    def _call(self, messages, stop=None, run_manager=None, **kwargs):
        self.prompts.append(messages)
        return super()._call(messages, stop=stop, run_manager=run_manager, **kwargs)


@pytest.fixture
def service_with(policy_service, policy_index_dir, embedder):
    def make(responses: list[str]) -> PolicyService:
        llm = RecordingFakeModel(responses=responses, prompts=[])
        return PolicyService(policy_index_dir / "index", KNOWLEDGE_DIR, embedder=embedder, options=ServiceOptions(llm=llm))

    return make


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
