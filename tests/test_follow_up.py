"""A follow-up after 那 ("then") that the quoted passage does not cover is not stated (`retrieval.follow_up`)."""

from __future__ import annotations

from retrieval.follow_up import beyond_the_quote
from retrieval.salience import Salient

HALF_DAY = [Salient("全日托", 3.6), Salient("平均", 1.0), Salient("半日托", 3.6)]
ROW = "项目: 社会效益指标 / 全日托平均价格(在2022年基础上下浮100~300元/月); 市级: 1787"
MASSAGE = [Salient("健康指导员", 4.0), Salient("中医", 3.0), Salient("保健", 2.0), Salient("一岁", 6.0),
           Salient("宝宝", 2.5), Salient("小儿", 4.5), Salient("推拿", 4.7), Salient("积食", 7.0)]
ADVISERS = "机构选派从事儿童保健的工作人员担任托育机构健康指导员,开展中医保健指导。"


def test_a_follow_up_the_quote_does_not_cover_is_beyond_it():
    assert beyond_the_quote("张家港全日托平均1787一个月，那半日托平均多少钱？", HALF_DAY, ROW)
    assert beyond_the_quote("张家港健康指导员说要做中医保健，那给一岁宝宝做小儿推拿治积食有用吗？", MASSAGE, ADVISERS)


def test_a_follow_up_the_quote_covers_is_answered():
    assert not beyond_the_quote("张家港全日托平均1787一个月，那半日托平均多少钱？", HALF_DAY, ROW + "; 半日托: 1200")


def test_only_a_follow_up_after_then_counts():
    # No "，那": the question's own coverage decides elsewhere.
    assert not beyond_the_quote("张家港半日托平均多少钱？", HALF_DAY, ROW)
    # 那个 / 那边 point back at something named before; they start no follow-up.
    assert not beyond_the_quote("厦门说要给名师开工作室，那个叫什么？", [Salient("工作室", 4.0), Salient("名师", 5.0)],
                                "开设两岸融合托育名师工作室。")
    # A follow-up made only of the relayed words adds nothing to check.
    assert not beyond_the_quote("全日托平均1787，那全日托呢？", HALF_DAY, ROW)
