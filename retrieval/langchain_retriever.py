"""The policy search as a LangChain retriever: `PolicyRetriever` wraps a `PolicyService` (its public
`search(question, k)`) and returns LangChain `Document`s, one per ranked passage, with where it comes from.

Each document's `page_content` is the passage's verbatim text; its `metadata` holds `doc` (document id),
`title`, `city` ("" for national documents), `section` (the section path, "A › B"), `chunk_id` and `score`
(the fused retrieval score), so a chain can cite its sources the way the bot does.

Plug it into a chain like any retriever (langchain-core only, no `langchain` package needed):

    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_core.runnables import RunnablePassthrough

    retriever = PolicyRetriever(service=policy_service, k=4)
    prompt = ChatPromptTemplate.from_template("仅根据以下政策原文回答。\\n{context}\\n\\n问题：{question}")
    chain = (
        {"context": retriever | (lambda docs: "\\n\\n".join(d.page_content for d in docs)),
         "question": RunnablePassthrough()}
        | prompt | llm | StrOutputParser()
    )
    chain.invoke("张家港普惠托育收费标准")

The search itself is CPU-bound; `ainvoke` runs it in a worker thread (BaseRetriever's default).
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field

from retrieval.answer import source_of


class PolicyRetriever(BaseRetriever):
    """Ranked policy passages for a question, as LangChain documents (see the module docstring)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    #: A `retrieval.service.PolicyService` (anything with `search(question, k)` returning ranked hits).
    service: Any
    k: int = Field(default=5, ge=1, le=50)

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        result = self.service.search(query, k=self.k)
        return [_document(hit) for hit in result.hits[: self.k]]


def _document(hit) -> Document:
    source = source_of(hit.item, hit.score)
    return Document(
        page_content=source.text,
        metadata={
            "doc": source.doc_id,
            "title": source.title,
            "city": source.city,
            "section": source.section,
            "chunk_id": source.chunk_id,
            "score": float(source.score),
        },
    )
