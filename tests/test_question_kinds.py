"""What kind of fact a question asks for: the cases are in tests/cases/question_kinds.txt (several, 好几个, is no
question; a basis, 按什么来算, is no figure; "how many working days" is a length of time …)."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval import question_kinds as qk

CASES = Path(__file__).parent / "cases" / "question_kinds.txt"


def _cases() -> list:
    """(question, kinds) from tests/cases/question_kinds.txt, one question a line, each with its line as id."""
    cases = []
    for number, line in enumerate(CASES.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip() and not line.startswith("#"):
            question, kinds = line.split("\t")
            cases.append(pytest.param(question, [] if kinds == "-" else kinds.split(","), id=f"line{number}"))
    return cases


@pytest.mark.parametrize(("question", "kinds"), _cases())
def test_the_kinds_a_question_asks_for(question, kinds):
    assert qk.detect_all(question) == kinds


def test_every_kind_is_exercised_by_the_cases():
    exercised = {kind for case in _cases() for kind in case.values[1]}
    assert exercised == set(qk.SPECIFIC) | {qk.YES_NO}
