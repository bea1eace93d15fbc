"""What kind of fact a question asks for: several (好几个) is no question, a basis (按什么来算) is no figure, a
count of a part (占了多少个) is a count, and "how many working days" is a length of time."""

from __future__ import annotations

import pytest

from retrieval import question_kinds as qk


@pytest.mark.parametrize(
    ("question", "kinds"),
    [
        ("张家港是不是一家示范托儿所带着好几个社区托育点一起办？这种叫什么模式？", [qk.NAME, qk.YES_NO]),
        ("台州托育是不是连着好几年都被当成实事？从哪年开始的？", [qk.DATE, qk.YES_NO]),
        ("厦门托育机构的房租减免，是按场地的什么来算比例的？", []),
        ("厦门给普惠托儿所发课程、图书、玩具，每家发多少是看什么定的？", []),
        ("托育补贴按什么标准发放？每人多少钱？", [qk.AMOUNT]),
        ("租金减免按什么比例？", [qk.PERCENTAGE]),
        ("看什么时候开园", [qk.DATE]),
        ("台州的普惠托育机构里，公立幼儿园办的占了多少个？", [qk.COUNT]),
        ("台州普惠托位占了多大比例？", [qk.PERCENTAGE]),
        ("How many working days did approval take?", [qk.DURATION]),
        ("How many townships are covered?", [qk.COUNT]),
        ("张家港每年举办几场职业技能竞赛？", [qk.COUNT]),
        ("Which Daqing office is listed for low-interest loans?", [qk.UNIT]),
        ("大庆方案里这一条，责任单位有哪些？", [qk.UNIT]),
        # 那几位, 这几家: "those few", no question; 几位 counts people; 满意度 is a rate.
        ("台州那几位政协委员提的托育提案，题目叫什么？", [qk.NAME]),
        ("椒江那几家社区托育中心，是谁建的？", []),
        ("一共有几位台湾老师？", [qk.COUNT]),
        ("入托家庭的满意度目标值填的是多少？", [qk.PERCENTAGE]),
    ],
)
def test_the_kinds_a_question_asks_for(question, kinds):
    assert qk.detect_all(question) == kinds


@pytest.mark.parametrize(
    ("question", "kinds"),
    [
        ("台州有没有开通家庭教育方面的热线？是哪一级开的？", [qk.YES_NO]),  # whether it exists, not the number
        ("张家港市托育综合服务中心的咨询电话是多少？", [qk.CONTACT]),
        ("托育中心电话", [qk.CONTACT]),
        ("What is the hotline number for Zhangjiagang childcare?", [qk.CONTACT]),
        ("Is there a parenting hotline in Taizhou?", [qk.YES_NO]),
        ("张家港医院跟托育机构的签约指导率，2024年目标值填的是多少？", [qk.PERCENTAGE]),  # a rate asked by 多少
        ("In Beilun, who gives the professional backing for integration?", [qk.UNIT]),
    ],
)
def test_contact_rate_and_who_questions(question, kinds):
    assert qk.detect_all(question) == kinds
