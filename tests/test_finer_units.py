"""A fact must be as fine as asked: a day when the question asks which day, a length in the unit it asks in;
a year is never a length of time; a month alone is a date; 几个幼儿园 counts kindergartens, not people."""

from __future__ import annotations

import pytest

from retrieval import answer_type as at
from retrieval.counted import asked_classifier


@pytest.mark.parametrize(
    ("kind", "question", "text", "fact"),
    [
        (at.DATE, "温岭中心托育园几月开园？", "也将于今年9月份开园。", "今年9月份"),
        (at.DATE, "托育园哪天开园？", "也将于今年9月份开园。", ""),  # a month does not say which day
        (at.DATE, "方案哪天印发？", "于2024年6月17日印发", "2024年6月17日"),
        (at.DATE, "几月开园？", "2024年开园", ""),
        (at.DURATION, "临时托一次最多能托几个小时？", "到2024年底,全市新增社区普惠托育点10个", ""),  # a date
        (at.DURATION, "临时托一次最多能托几个小时？", "每次不超过4小时", "4小时"),
        (at.DURATION, "临时托一次最多能托几个小时？", "托育期限为3个月", ""),
        (at.DURATION, "产假有几天？", "产假158天,护理假15天", "158天"),
        (at.DURATION, "How many days does the filing take?", "5个工作日内完成备案", "5个工作日"),
        (at.DURATION, "要多久？", "2个月", "2个月"),
    ],
)
def test_a_date_or_a_length_as_fine_as_asked(kind, question, text, fact):
    asked = at.asked_of(question)
    assert at.states(kind, text, asked) is bool(fact)
    assert at.extract(kind, text, asked=asked) == fact


@pytest.mark.parametrize(
    ("question", "classifier"),
    [("要新增几个幼儿园普惠托班？", "个"), ("一个班最多多少个孩子", "名"), ("几个托班", "个")],
)
def test_a_kindergarten_is_no_person(question, classifier):
    assert asked_classifier(question) == classifier


def test_a_question_asking_which_day_is_not_answered_with_a_neighbours_month(policy_service):
    """路桥's nursery "即将开园" (no date); 温岭's opens "今年9月份" in the same sentence."""
    answer = policy_service.ask("路桥区政府机关托育园具体哪天开园？", use_llm=False)
    assert "9月" not in answer.fact


def test_a_quoted_name_stands_for_the_thing_counted_in_the_parents_words():
    """The parent says 托育小站; the plan counts 托育服务点 — the quoted “爱邻护幼” names the same thing."""
    text = "全市建立不少于80个爱邻护幼托育服务点"
    quoted = at.asked_of("厦门一共开多少个“爱邻护幼”托育小站？", ("小站",))
    assert at.states(at.COUNT, text, quoted) and at.extract(at.COUNT, text, asked=quoted) == "不少于80个"
    unquoted = at.asked_of("厦门一共开多少个托育小站？", ("小站",))
    assert not at.states(at.COUNT, text, unquoted), "without the name, 服务点 is not what was counted"


def test_an_age_range_covers_the_ages_inside_it():
    from retrieval.units import ages_in_ranges

    assert ages_in_ranges("营业范围由3-6岁变更为2-6岁或0-6岁").startswith("3岁 4岁 5岁 6岁 2岁")
    assert ages_in_ranges("0～3岁婴幼儿") == "0岁 1岁 2岁 3岁"
    assert ages_in_ranges("6-12个月") == ""


def test_a_parent_asking_about_a_two_year_old_gets_the_age_range_that_holds_it(policy_service):
    answer = policy_service.ask("北仑的幼儿园现在能收两岁的娃了吗？", use_llm=False)
    assert answer.answered and "2-6岁" in answer.quotes[0].text


@pytest.mark.parametrize(
    ("question", "fact"),
    [("台州托育从哪年开始被列为民生实事？", "2020"), ("哪几年被列为民生实事？", "2020、2021、2022"),
     ("Since when has childcare been a livelihood project?", "2020")],
)
def test_years_listed_without_their_character(question, fact):
    text = "2020、2021、2022连续三年,托育服务均列为市政府民生实事项目。"
    asked = at.asked_of(question)
    assert at.states(at.DATE, text, asked) and at.extract(at.DATE, text, asked=asked) == fact


def test_a_spoken_age_range_is_written_as_the_documents_write_it():
    from retrieval.query import as_documents_write

    assert as_documents_write("厦门要出一套0到3岁特殊儿童托育的规范？") == "厦门要出一套0-3岁特殊儿童托育的规范？"
    assert as_documents_write("3至6周岁") == "3-6周岁"
    assert as_documents_write("从2到3个月") == "从2到3个月", "months are not ages"
