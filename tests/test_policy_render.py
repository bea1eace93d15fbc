"""Policy replies: the fact first, quote and source, a phone screen long; refusals with their reasons;
source buttons whose data is validated strictly."""

from __future__ import annotations

import pytest

from bot.policy_render import (
    english_fact,
    english_label,
    parse_source_callback,
    render_policy_answer,
    source_callback_data,
    sources_for_buttons,
)
from retrieval.answer import Answer, Quote, Source

SOURCE = Source("zhangjiagang", "张家港市普惠托育服务发展示范项目工作方案", "张家港市", "三、重点任务 › 3. 加强特殊婴幼儿关心关爱",
                "托育机构收托困境婴幼儿的,按规定减免500元/人/月托育服务费用。", 0.3, "zhangjiagang:0014")
COVERED = ["厦门市", "张家港市", "宁波市北仑区"]


def answered(fact: str = "500元/人/月") -> Answer:
    quote = Quote("托育机构收托困境婴幼儿的,按规定减免500元/人/月托育服务费用。", SOURCE, fact)
    return Answer("张家港困境婴幼儿能减免多少？", True, [quote], [SOURCE], cities=["张家港市"],
                  named_cities=["张家港市"], effective_question="张家港困境婴幼儿能减免多少？")


def test_the_fact_comes_first_then_quote_and_source():
    text = render_policy_answer(answered(), "zh", COVERED, as_html=False)
    lines = text.split("\n")
    assert lines[0] == "答：500元/人/月"
    assert lines[1].startswith("“托育机构收托困境婴幼儿") and "出处：《张家港市普惠托育服务发展示范项目工作方案》" in lines[2]
    assert len(text) <= 350


def test_an_english_reply_keeps_a_name_as_written():
    answer = answered("“五四三”")
    answer.kind = "name"
    assert render_policy_answer(answer, "en", COVERED, as_html=False).startswith("Answer: “五四三”")


def test_english_reply_has_an_english_gist_and_english_labels():
    text = render_policy_answer(answered(), "en", COVERED, as_html=False)
    assert text.startswith("Answer: 500 yuan per child per month")
    assert "About: " in text and "Source: 《" in text and "出处" not in text and "答：" not in text


def test_html_is_escaped():
    answer = answered("<b>500元</b>")
    assert "&lt;b&gt;" in render_policy_answer(answer, "zh", COVERED)


def test_not_stated_says_what_the_document_says_and_what_it_does_not():
    quote = Quote("对普惠托育服务机构按一定比例和最高限额给予相应的租金减免。", SOURCE)
    answer = Answer("厦门租金减免最高多少？", False, [quote], [SOURCE], reason="not_stated", kind="amount",
                    missing_kinds=["amount"], effective_question="厦门租金减免最高多少？")
    text = render_policy_answer(answer, "zh", COVERED, as_html=False)
    assert "没有写明具体金额" in text and "按一定比例和最高限额" in text and "出处：《" in text
    english = render_policy_answer(answer, "en", COVERED, as_html=False)
    assert "does not state the amount" in english and "Source: 《" in english


def test_a_sibling_place_gets_the_documented_neighbour_named_not_its_figures():
    answer = Answer("鄞州的补贴", False, reason="no_documents_for_place", unknown_places=["鄞州"],
                    nearby={"鄞州": ["宁波市北仑区"]}, effective_question="鄞州的补贴")
    text = render_policy_answer(answer, "zh", COVERED, as_html=False)
    assert "没有鄞州的政策文件" in text and "宁波市北仑区" in text and "元" not in text


def test_national_question_is_out_of_scope():
    answer = Answer("国家育儿补贴", False, reason="out_of_scope", effective_question="国家育儿补贴")
    assert "国家层面" in render_policy_answer(answer, "zh", COVERED, as_html=False)
    assert "national" in render_policy_answer(answer, "en", COVERED, as_html=False)


def test_english_helpers():
    assert english_fact("2个工作日") == "2 working days"
    assert english_fact("每季度至少一次") == "every quarter, at least once"
    assert english_fact("不少于300人次") == "at least 300 person-times"
    # Bounds and approximations in English, the verb between a bound and its figure dropped, numerals in digits.
    assert english_fact("至少建立一家") == "at least 1"
    assert english_fact("近200家") == "nearly 200"
    assert english_fact("约30个") == "about 30"
    assert english_fact("不超过5人") == "at most 5 people"
    assert english_fact("三百零五名") == "305"
    assert english_fact("1460 万元") == "14,600,000 yuan" and english_fact("2.5万元") == "25,000 yuan"
    assert english_fact("2024年6月17日") == "17 June 2024" and english_fact("2021年11月底") == "end of November 2021"
    assert english_fact("4月19日") == "19 April" and english_fact("2025年") == "2025"
    # Only a figure is put into English: names keep every character (人 in 人力社保部门 is no "people").
    for name in ("人力社保部门", "一键报警系统", "两岸融合托育实验班", "建立健全家庭教育体系", "9家县级妇幼机构",
                 "厦卫人口家庭〔2024〕169号"):
        assert english_fact(name) == name
    assert "reduction" in english_label("按规定减免500元/人/月托育服务费用")


def test_source_buttons_round_trip():
    data = source_callback_data(SOURCE)
    assert data == "src:zhangjiagang:14" and len(data.encode()) <= 64
    assert parse_source_callback(data) == "zhangjiagang:0014"
    assert sources_for_buttons(answered()) == [SOURCE]


@pytest.mark.parametrize(
    "data",
    [None, "", "src:", "src:xiamen", "src:xiamen:-1", "src:xiamen:0", "src:xiamen:abc", "src:xiamen:1.5",
     "src:Xiamen:1", "src:" + "x" * 70 + ":1", "src:xiamen:" + "9" * 500, "src:../etc:1", "src:xiamen:1:2",
     "src:xiamen:1\n"],
)
def test_forged_source_data_is_rejected(data):
    assert parse_source_callback(data) is None


def test_a_table_row_answers_with_its_value_unless_its_label_carries_what_was_asked():
    from retrieval.answer import _table_fact
    from retrieval.salience import Salient

    row = "项目: 社会效益指标 / 全日托平均价格(在2022年基础上下浮100~300元/月); 市级: 1787; 保税区: 1787"
    price = [Salient("全日托", 3.0), Salient("价格", 2.0)]
    cheaper = [Salient("全日托", 3.0), Salient("便宜", 3.0, ("下浮", "降低"))]
    assert _table_fact(row, ["amount"], [], price)[0] == "市级: 1787"
    assert _table_fact(row, ["amount"], [], cheaper)[0] == "100~300元/月"
    assert _table_fact(row, ["count"], ["保税区"], price) == ("1787", "项目: 社会效益指标 / 全日托平均价格(在2022年基础上下浮100~300元/月); 保税区: 1787")
