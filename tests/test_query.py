"""Places, English expansion and follow-up resolution."""

from pathlib import Path

import pytest

from retrieval.query import load_gazetteer, load_glossary, resolve_followup

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"


@pytest.fixture(scope="module")
def gazetteer():
    return load_gazetteer(KNOWLEDGE / "places.yaml")


def test_finds_documented_city_by_alias_and_district(gazetteer):
    assert gazetteer.find("厦门每年新增多少个普惠托位？") == (["厦门市"], [])
    assert gazetteer.find("思明区有没有托育补贴") == (["厦门市"], [])
    assert gazetteer.find("What about Zhangjiagang?") == (["张家港市"], [])


def test_finds_undocumented_city(gazetteer):
    assert gazetteer.find("深圳的普惠托育补贴每月多少钱？") == ([], ["深圳"])


def test_ascii_names_match_whole_words_only(gazetteer):
    assert gazetteer.find("the dalianroad centre") == ([], [])


def test_order_of_appearance(gazetteer):
    assert gazetteer.find("张家港和厦门的托位") == (["张家港市", "厦门市"], [])


def test_followup_keeps_topic_and_switches_city(gazetteer):
    previous = "厦门困境婴幼儿入托能减免多少费用？"
    assert resolve_followup("那张家港呢？", previous, gazetteer) == "张家港困境婴幼儿入托能减免多少费用？"


def test_followup_in_english(gazetteer):
    previous = "How many new affordable places will Xiamen add every year?"
    resolved = resolve_followup("What about Zhangjiagang?", previous, gazetteer)
    assert "Zhangjiagang" in resolved and "affordable places" in resolved and "Xiamen" not in resolved


def test_a_new_question_is_not_a_followup(gazetteer):
    previous = "厦门每年新增多少个普惠托位？"
    question = "张家港全日托的平均价格是多少钱一个月？"
    assert resolve_followup(question, previous, gazetteer) == question
    assert resolve_followup("那张家港呢？", None, gazetteer) == "那张家港呢？"


def test_glossary_expands_english_only():
    glossary = load_glossary(KNOWLEDGE / "glossary.yaml")
    terms = glossary.expand("What fee reduction do children in difficult circumstances get?")
    assert "减免" in terms and "困境婴幼儿" in terms
    assert glossary.expand("张家港困境婴幼儿能减免多少") == []
