"""The fact guard an LLM answer passes after generation: every figure it states must be in the quoted
passages, and a question asking for a kind of fact (an amount, a date…) must get one. The same check as
before generation (`answer_type.states`), so the model may only rephrase what the quotes state."""

from __future__ import annotations

import re

from retrieval import answer_type

# A figure: digits (with decimals, ranges) or Chinese numerals with a measure word, and a percent sign.
_FIGURE = re.compile(r"\d+(?:[.,]\d+)*(?:\s*[~\-－—至到]\s*\d+(?:[.,]\d+)*)?\s*[%％]?")
_CITATION = re.compile(r"\[\d+\]")


def _squash(text: str) -> str:
    return re.sub(r"[\s,，]", "", text)


def figures(text: str) -> list[str]:
    """The figures `text` states (citation markers such as [1] are not figures)."""
    return [m.group(0) for m in _FIGURE.finditer(_CITATION.sub(" ", text))]


def grounded(generated: str, passages: list[str], kinds: list[str]) -> bool:
    """True when every figure of `generated` occurs in `passages` and it states each kind asked for."""
    haystack = _squash(" ".join(passages))
    for figure in figures(generated):
        if _squash(figure) not in haystack:
            return False
    text = _CITATION.sub(" ", generated)
    return all(answer_type.states(kind, text) for kind in kinds if kind in answer_type.SPECIFIC)
