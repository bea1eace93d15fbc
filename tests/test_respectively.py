"""Figures given "respectively" answer the case the question names (a 9-class kindergarten → 3个), and none
when it names no case."""

from __future__ import annotations

import pytest

from retrieval import answer_type as at
from retrieval.respectively import respective_figure

CITY = "城区新建6 班、9 班、12 班及以上规模幼儿园分别设置 2 个、3 个、4 个托大班;"


@pytest.mark.parametrize(
    ("question", "figure"),
    [
        ("台州城区新建一个9班规模的幼儿园，按要求得配几个拖大班啊", "3个"),
        ("城里新盖的大幼儿园（12个班以上）要设几个托班？", "4个"),
        ("规模最小的那档新建幼儿园（6个班），托大班的配置数量是多少？", "2个"),
        ("新建幼儿园要设几个托大班？", ""),  # which case? No single figure answers
        ("新建15班的幼儿园要设几个托大班？", ""),
    ],
)
def test_the_figure_of_the_case_named(question, figure):
    assert respective_figure(CITY, question) == figure


def test_a_count_extracts_the_respective_figure():
    asked = at.asked_of("新建一个9班规模的幼儿园，要配几个托大班", counted=("托大班",))
    assert at.extract(at.COUNT, CITY, asked=asked) == "3个"


def test_the_named_case_is_answered(policy_service):
    answer = policy_service.ask("在台州市区，规模最小的那档新建幼儿园（6个班），托大班的配置数量是多少？", use_llm=False)
    assert answer.answered and answer.fact == "2个"
    rural = policy_service.ask("台州乡下新建一所6个班的幼儿园，按规定要配几个托大班？", use_llm=False)
    assert rural.answered and rural.fact == "1个"
