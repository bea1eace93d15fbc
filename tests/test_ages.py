"""Questions about how old the children are (收多大的孩子, 几岁, "what age", a child's age band) are answered by the
age the passage gives; a question that gives the child's age is answered by the band holding it, never by
another band or by "3岁以下"."""

from __future__ import annotations

import pytest

from retrieval import answer_type as at
from retrieval.ages import age_asked, holds

BANDS = "针对6-12个月、12-24个月、24-36个月不同年龄差异及特征,为入托婴幼儿分别提供差异化的生活料理"


@pytest.mark.parametrize(
    ("question", "months"),
    [("一岁半的宝宝", 18), ("2岁的孩子", 24), ("18个月大的宝宝", 18), ("a one-and-a-half-year-old", 18),
     ("my 8-month-old", 8), ("收多大的孩子", None)],
)
def test_the_age_a_question_gives(question, months):
    assert age_asked(question) == months


def test_a_band_holds_an_age_and_an_open_range_is_no_band():
    assert holds("12-24个月", 18) and not holds("6-12个月", 18) and holds("2至3岁", 30)
    assert not holds("3岁以下", 18)


def test_the_age_taken_in_comes_first_and_a_given_age_picks_its_band():
    assert at.extract(at.AGE, "利用现有资源开设托班,招收2至3岁的幼儿。", asked=at.asked_of("托班收多大的孩子？")) == "2至3岁"
    asked = at.asked_of("一岁半的宝宝在大庆算哪个年龄段？")
    assert at.extract(at.AGE, BANDS, asked=asked) == "12-24个月"
    assert not at.states(at.AGE, "招收3岁以下婴幼儿。", asked), "no band holds the child's age there"




def test_only_the_ages_a_place_takes_in_answer():
    asked = at.asked_of("托育机构收多大的孩子？")
    subsidy = "按照普惠托育机构0-2岁婴幼儿收托情况发放相应激励性奖补。"
    assert not at.states(at.AGE, subsidy, asked) and at.extract(at.AGE, subsidy, asked=asked) == ""
    assert at.extract(at.AGE, "营业范围由3-6岁变更为2-6岁或0-6岁", asked=asked) == "2-6岁"
    assert at.extract(at.AGE, "一般设置乳儿班、托小班和托大班,招收3岁以下婴幼儿。", asked=asked) == "3岁以下"


def test_an_age_the_documents_do_not_give_is_said_to_be_missing(policy_service):
    answer = policy_service.ask("What age can kids start at a Xiamen nursery?", use_llm=False)
    assert not answer.answered and answer.reason == "not_stated", "0-2岁 there says who earns a subsidy"
