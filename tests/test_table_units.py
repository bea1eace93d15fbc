"""A table row's label gives its bare figures their unit: 凤凰镇: 430 in a row of 辖区总托位数(个) is 430个."""

from __future__ import annotations

import pytest

from retrieval import answer_type as at
from retrieval.tables import row_unit, with_row_unit

PLACES_ROW = "项目: 数量指标 / 辖区总托位数(个); 市级: 6520; 保税区 (含三个街道): 1140; 凤凰镇: 430"


@pytest.mark.parametrize(
    ("row", "unit", "written"),
    [
        (PLACES_ROW, "个", "项目: 数量指标 / 辖区总托位数(个); 市级: 6520个; 保税区 (含三个街道): 1140个; 凤凰镇: 430个"),
        ("一级指标: 产出指标; 三级指标: 1.每千人口拥有3岁以下婴幼儿托位数(个); 2024年目标值: ≥4.5", "个",
         "一级指标: 产出指标; 三级指标: 1.每千人口拥有3岁以下婴幼儿托位数(个); 2024年目标值: ≥4.5个"),
        ("项目: 举办托育服务从业人员职业技能竞赛(场); 市级: 1", "场", "项目: 举办托育服务从业人员职业技能竞赛(场); 市级: 1场"),
        ("三级指标: 普惠率(%); 2024年目标值: ≥60%", "%", "三级指标: 普惠率(%); 2024年目标值: ≥60%"),
        ("所在地: 保税区 (含三个街道); 托位: 1140", "", "所在地: 保税区 (含三个街道); 托位: 1140"),
    ],
)
def test_the_label_unit_is_written_after_bare_figures(row, unit, written):
    assert row_unit(row) == unit
    assert with_row_unit(row) == written


def test_a_row_with_a_unit_states_a_count():
    asked = at.asked_of("凤凰镇的辖区托位总数目标定的是多少个？", ("托位", "托位数"))
    assert at.states(at.COUNT, PLACES_ROW, asked)


def test_how_many_matches_is_a_count():
    assert at.detect_all("张家港每年举办几场托育从业人员职业技能竞赛？") == [at.COUNT]


def test_a_row_is_quoted_with_the_label_the_question_is_about(policy_service):
    answer = policy_service.ask("张家港绩效指标表里，医院跟托育机构的签约指导率，2024年目标值填的是多少？", use_llm=False)
    assert answer.answered and answer.fact == "100%"
    assert "签约指导率" in answer.quotes[0].text, "not only the row's group (一级指标: 产出指标)"


@pytest.mark.parametrize(
    ("question", "text", "listed"),
    [
        ("大庆独立开的托儿所一般分几种班？", "机构一般设置乳儿班、托小班和托大班,招收3岁以下婴幼儿。", "乳儿班、托小班和托大班"),
        ("有几种补贴？", "给予托育补贴、租金补贴和运营补贴", "托育补贴、租金补贴和运营补贴"),
        ("厦门有几种托育服务方式？", "提升托育服务的信任感和获得感", ""),  # 感 is not the 方式 counted
        ("有几个托班？", "设置乳儿班、托小班和托大班", ""),  # a count by number, not by kind
    ],
)
def test_a_count_of_kinds_is_answered_by_the_list_of_them(question, text, listed):
    asked = at.asked_of(question)
    assert at.extract(at.COUNT, text, asked=asked) == listed
    assert at.states(at.COUNT, text, asked) is bool(listed)


@pytest.mark.parametrize(
    "question",
    ["Which office in Fenghuang town is responsible for nursery places?", "凤凰镇哪个部门负责托位建设？"],
)
def test_a_towns_count_is_no_answer_to_which_department(policy_service, question):
    """The table gives 凤凰镇 430 places; which office is responsible it does not say: no figure as the answer."""
    answer = policy_service.ask(question, use_llm=False)
    assert not any(ch.isdigit() for ch in answer.fact), answer.fact
