"""The first line of the reply for answered questions, from tests/cases/first_lines.txt: the kind of fact the
question asks for and the fact exactly as the documents give it (answered over the five initial documents)."""

from __future__ import annotations

from pathlib import Path

import pytest

CASES = Path(__file__).parent / "cases" / "first_lines.txt"


def _cases() -> list:
    """(question, kind, fact) for each case line, with its line as id."""
    cases = []
    for number, line in enumerate(CASES.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip() and not line.startswith("#"):
            question, kind, fact = line.split("\t")
            cases.append(pytest.param(question, kind, fact, id=f"line{number}"))
    return cases


@pytest.mark.parametrize(("question", "kind", "fact"), _cases())
def test_the_first_line_is_the_fact(policy_service, question, kind, fact):
    answer = policy_service.ask(question, use_llm=False)
    assert answer.answered, answer.reason
    assert (answer.kind, answer.fact) == (kind, fact)


def test_the_cases_span_the_kinds_of_fact():
    assert len({case.values[1] for case in _cases()}) >= 6
