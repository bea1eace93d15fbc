"""A "where" question asks the place of one thing: a sentence placing another thing, or naming only the city the
parent asked about, is no answer (`retrieval.subject`, `Asked.names_subject`, `Gazetteer.names_another_place`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval import answer_type as at
from retrieval.asked import Asked
from retrieval.query import load_gazetteer
from retrieval.salience import Salient
from retrieval.subject import SUBJECT_MIN_WEIGHT, place_subject

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"

EXHIBITION_HALL = [Salient("托育服务", 3.1), Salient("两岸", 2.9), Salient("融合", 3.7), Salient("展厅", 6.3),
                   Salient("周末", 4.4), Salient("开放", 1.9)]
NEXT_SENTENCE = "依托托育综合实践示范园,专门设立两岸融合托育实验班,配置两岸融合特色的师资、设施、课程等。"
SAME_SENTENCE = "托育服务两岸融合展厅设在思明区莲前西路100号。"


@pytest.mark.parametrize(("question", "salient", "subject"), [
    ("厦门的托育服务两岸融合展厅在什么地方？周末对市民开放吗？", EXHIBITION_HALL, ("展厅",)),
    ("展厅的地址是什么", [Salient("展厅", 6.3, ("展示厅",))], ("展厅", "展示厅")),
    # The rarest word before the asking word, in the asking word's own clause.
    ("周末开放，展厅在哪里", EXHIBITION_HALL, ("展厅",)),
    # No "where": no subject; nothing rare enough before it: none either.
    ("展厅周末开放吗", EXHIBITION_HALL, ()),
    ("结果在哪里公示", [Salient("结果", 1.4), Salient("公示", 6.1)], ()),
])
def test_the_subject_is_the_rarest_word_before_the_asking_word(question, salient, subject):
    assert place_subject(question, salient) == subject


def test_a_weak_word_is_no_subject():
    assert place_subject("基地在哪里", [Salient("基地", SUBJECT_MIN_WEIGHT - 0.1)]) == ()
    assert place_subject("基地在哪里", [Salient("基地", SUBJECT_MIN_WEIGHT)]) == ("基地",)


def test_a_place_answers_only_in_a_sentence_naming_the_subject():
    asked = Asked(question="托育服务两岸融合展厅在什么地方", subject=("展厅",))
    assert not at.states(at.PLACE, NEXT_SENTENCE, asked)
    assert at.states(at.PLACE, SAME_SENTENCE, asked)
    # Without a subject (nothing rare named) any place statement answers, as before.
    assert at.states(at.PLACE, NEXT_SENTENCE, Asked(question="在什么地方"))


def test_the_subject_itself_is_not_its_own_place():
    asked = Asked(question="托育综合实践示范园在哪里", subject=("托育综合实践示范园",))
    sentence = "开设名师工作室。依托托育综合实践示范园,专门设立两岸融合托育实验班。"
    assert not at.states(at.PLACE, sentence, asked)
    assert at.extract(at.PLACE, sentence, asked=asked) == ""
    assert at.extract(at.PLACE, sentence, asked=Asked(question="实验班在哪里")) .startswith("依托托育综合实践示范园")


def test_the_city_asked_about_is_no_answer_to_where():
    gazetteer = load_gazetteer(KNOWLEDGE / "places.yaml")
    question = "厦门托育综合实践示范园在哪里？"
    assert not gazetteer.names_another_place("打造市级示范托育机构,即厦门市托育综合实践示范园", question)
    assert gazetteer.names_another_place("示范园设在思明区", question)
    assert gazetteer.names_another_place("示范园设在厦门市", "示范园在哪里")


def test_a_word_asking_for_the_place_is_no_subject_and_premises_are_a_place():
    salient = [Salient("企事业", 5.7), Salient("职工", 2.4), Salient("地点", 3.1), Salient("放在", 2.1)]
    assert place_subject("给职工提供托育，地点可以放在哪些地方？", salient) == ()
    sentence = "鼓励机关企事业单位通过自主或联合第三方机构共同举办等方式,在工作或生活场所为职工提供福利性托育服务。"
    assert at.states(at.PLACE, sentence) and at.extract(at.PLACE, sentence) == "在工作或生活场所"
    assert not at.states(at.PLACE, "为职工提供福利性托育服务。")


def test_a_place_in_a_title_is_no_answer_to_where():
    gazetteer = load_gazetteer(KNOWLEDGE / "places.yaml")
    question = "张家港托育机构质量评估的结果会在哪里公示？"
    assert not gazetteer.names_another_place("执行《苏州市托育服务质量评估指南》地方性标准,开展质量评估", question)
    assert gazetteer.names_another_place("评估结果在苏州市卫健委网站公示", question)


def test_what_a_place_sets_up_is_no_longer_the_place():
    asked = Asked(question="张家港市托育综合服务中心建在哪里", subject=("托育综合服务中心",))
    sentence = "依托市实验幼儿园沙洲湖园区和市教师发展中心成立市托育综合服务中心,设置一定规模的托位。"
    assert at.states(at.PLACE, sentence, asked) and at.extract(at.PLACE, sentence, asked=asked).startswith("依托市实验幼儿园")


def test_a_table_rows_column_labels_are_no_location():
    from retrieval.search import _names_a_location

    gazetteer = load_gazetteer(KNOWLEDGE / "places.yaml")
    row = "项目: 数量指标 / 建成托育综合服务中心数(个); 市级: 1; 保税区 (含三个街道): 1"
    assert not _names_a_location(gazetteer, "张家港托育综合服务中心在哪里？", row)
    assert _names_a_location(gazetteer, "托育点在哪里？", "具体举措: 在保税区新建托育点1个; 相关单位: 市卫生健康委")
