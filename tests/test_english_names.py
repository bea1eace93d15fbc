"""English questions name places and firms in pinyin and sums in millions; who does what is said as 某某负责."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.bilingual import BilingualIndex, written_in_pinyin
from retrieval.places import load_place_tree, pinyin_alias
from retrieval.question_refs import given_figures

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"


def test_a_proper_noun_is_reached_by_its_pinyin():
    index = BilingualIndex(["温岭", "天台", "南洋", "托育"])
    found = index.expand("a firm put money into nurseries in Wenling and Tiantai")
    assert "温岭" in found["wenling"] and "天台" in found["tiantai"]


def test_pinyin_that_spells_an_english_word_is_not_a_name():
    index = BilingualIndex(["嫦娥"])  # Chang'e, the moon goddess: "change" is an English word
    assert "change" not in index.expand("what will change for parents")


@pytest.mark.parametrize(
    ("question", "figures"),
    [
        ("Name the firm that put 30 million yuan each into nurseries.", ["3000"]),
        ("Was the central investment 14.6 million yuan?", ["1460"]),
        ("Is it 1.2 billion?", ["12"]),
        ("In the task of 5,200 new places, how many were affordable?", ["5200"]),
    ],
)
def test_english_sums_are_read_as_the_documents_write_them(question, figures):
    assert given_figures(question) == figures


def test_an_english_question_naming_places_in_pinyin_finds_the_passage(policy_service):
    answer = policy_service.ask(
        "Name the publicly listed firm that put 30 million yuan each into nurseries in Wenling and Tiantai.",
        use_llm=False,
    )
    assert answer.answered and "南洋科技" in answer.quotes[0].text


def test_a_document_word_is_reached_by_its_pinyin():
    index = BilingualIndex(["医呼通", "浙有善育"])
    assert index.expand("the 'Yihutong' system")["yihutong"] == ["医呼通"]
    assert written_in_pinyin("托育") == "tuoyu" and written_in_pinyin("医") == "", "one character is no name"
    # The whole word's reading (CC-CEDICT), not its characters' first readings (zhangsha, zhongqing).
    assert written_in_pinyin("长沙") == "changsha" and written_in_pinyin("重庆") == "chongqing"
    assert written_in_pinyin("乐余") == "leyu", "a town CC-CEDICT lacks is read character by character"


def test_a_town_is_read_from_its_pinyin(policy_service):
    """凤凰镇 and 乐余镇 are towns of 张家港 in knowledge/places.yaml, with no pinyin written there."""
    tree = load_place_tree(KNOWLEDGE / "places.yaml")
    assert any(key.endswith("凤凰镇") for key in tree.by_alias["fenghuang"])
    answer = policy_service.ask(
        "In Zhangjiagang's target-task table, how many new puhui toddler classes in kindergartens are set for "
        "Fenghuang town?", use_llm=False)
    assert answer.answered and answer.fact == "1个", "the town's column, not the city's 30"


def test_pinyin_spelling_an_english_word_is_no_place_alias():
    assert pinyin_alias("嫦娥") == [] and pinyin_alias("凤凰") == ["fenghuang"]
