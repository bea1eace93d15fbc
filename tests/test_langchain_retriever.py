"""PolicyRetriever: the policy search as a LangChain retriever over the real index."""

from __future__ import annotations

import pytest
from langchain_core.documents import Document

from retrieval.langchain_retriever import PolicyRetriever

pytestmark = pytest.mark.slow


def test_documents_carry_the_passage_and_its_source(policy_service):
    retriever = PolicyRetriever(service=policy_service, k=3)
    docs = retriever.invoke("张家港普惠托育收费标准")
    assert 1 <= len(docs) <= 3 and all(isinstance(d, Document) for d in docs)
    top = docs[0]
    assert top.metadata["city"] == "张家港市"
    assert top.page_content and top.metadata["title"] and top.metadata["doc"]
    assert set(top.metadata) == {"doc", "title", "city", "section", "chunk_id", "score"}
    # the search's own ranking, passage for passage
    hits = policy_service.search("张家港普惠托育收费标准", k=3).hits
    assert [d.metadata["chunk_id"] for d in docs] == [h.item.chunk.chunk_id for h in hits[:3]]


def test_another_city_and_async(policy_service):
    retriever = PolicyRetriever(service=policy_service, k=2)
    docs = retriever.invoke("厦门市托育机构备案需要哪些材料")
    assert docs and docs[0].metadata["city"] in ("厦门市", "")


async def test_ainvoke(policy_service):
    docs = await PolicyRetriever(service=policy_service, k=1).ainvoke("张家港普惠托育收费标准")
    assert len(docs) == 1 and docs[0].metadata["city"] == "张家港市"
