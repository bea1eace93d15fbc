"""Grounded answers from an LLM through langchain, used only when LLM_BASE_URL/LLM_MODEL are set.

The model sees only the retrieved passages and must cite them; it may say it cannot answer, and the
retrieval confidence bar is applied before it is ever called, so it cannot turn a refusal into a guess.
"""

from __future__ import annotations

import logging
import re

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from retrieval.answer import Source

log = logging.getLogger(__name__)
NOT_FOUND = "NOT_FOUND"
_CITATION = re.compile(r"\[(\d+)\]")

SYSTEM_PROMPT = (
    "你是托育政策助手。只根据给出的政策原文片段回答，不要使用片段以外的知识，不要编造数字。"
    "回答要简短（不超过120字），每句话后用方括号标注所依据的片段编号，如 [1]。"
    "如果片段不能回答问题，只输出 NOT_FOUND。"
    "You answer only from the numbered passages, cite them as [n], and reply NOT_FOUND if they do not answer. "
    "Answer in the language of the question."
)


def make_chat_model(base_url: str, model: str, api_key: str = "not-needed") -> BaseChatModel:
    """An OpenAI-compatible chat model (Ollama, vLLM, …)."""
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(base_url=base_url, model=model, api_key=api_key, temperature=0, timeout=30, max_retries=1)


def format_passages(sources: list[Source]) -> str:
    """Numbered passages for the prompt."""
    return "\n\n".join(
        f"[{i}] 《{s.title}》（{s.city}） {s.section}\n{s.text}" for i, s in enumerate(sources, start=1)
    )


def generate_answer(llm: BaseChatModel, question: str, sources: list[Source]) -> str | None:
    """The model's cited answer, or None when it says the passages do not answer (or cites nothing real)."""
    messages = [
        SystemMessage(content=SYSTEM_PROMPT),
        HumanMessage(content=f"政策原文片段：\n{format_passages(sources)}\n\n问题：{question}"),
    ]
    try:
        text = str(llm.invoke(messages).content).strip()
    except Exception:  # the LLM service is outside our control: fall back to the extractive answer
        log.warning("LLM call failed; falling back to extractive answer", exc_info=True)
        return None
    if not text or NOT_FOUND in text:
        return ""
    cited = {int(n) for n in _CITATION.findall(text)}
    if not cited or not cited <= set(range(1, len(sources) + 1)):
        log.info("LLM answer without valid citations rejected (%d chars)", len(text))
        return None
    return text
