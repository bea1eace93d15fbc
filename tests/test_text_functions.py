"""Text functions of `retrieval` against the cases in tests/cases/text_functions.txt: one table of inputs and
results for the small readers of questions and sentences (what a count counts, who a clause says is
responsible, whether an upload's sentence is an advert…)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

CASES = Path(__file__).parent / "cases" / "text_functions.txt"


def _cases() -> list:
    """(dotted function, input, expected result) for each case line, with the function and line as id."""
    cases, function = [], ""
    for number, line in enumerate(CASES.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith("## "):
            function = line[3:].strip()
        elif line.strip() and not line.startswith("#"):
            text, expected = line.split("\t")
            cases.append(pytest.param(function, text, ast.literal_eval(expected), id=f"{function.rsplit('.', 1)[1]}:{number}"))
    return cases


@pytest.mark.parametrize(("function", "text", "expected"), _cases())
def test_text_function(function, text, expected):
    module, name = function.rsplit(".", 1)
    assert getattr(importlib.import_module(module), name)(text) == expected


def test_the_cases_cover_each_function_both_ways():
    by_function: dict[str, set] = {}
    for case in _cases():
        by_function.setdefault(case.values[0], set()).add(bool(case.values[2]))
    assert len(by_function) >= 7
    assert all(results == {True, False} for results in by_function.values()), by_function
