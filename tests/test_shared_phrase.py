"""A run of the question's own words standing verbatim in a passage (健康管理率) counts in the re-ranking: words in
their order say more than the same words apart (健康档案建档率 … 健康管理中心)."""

from __future__ import annotations

from retrieval.search import PHRASE_FULL, shared_phrase


def test_a_longer_shared_run_scores_higher_and_short_ones_not_at_all():
    runs = ["希望辖区婴幼儿健康管理率做到多少"]
    right = "6.婴幼儿健康管理率95%以上,婴幼儿家长科学育儿知识普及率90%以上"
    apart = "儿童健康管理中心,其辖区婴幼儿医防护健康档案建档率达到100%"
    assert shared_phrase(runs, right) > shared_phrase(runs, apart) > 0
    assert shared_phrase(["托育机构"], "托育") == 0.0, "three characters or fewer are no phrase"
    assert shared_phrase(["一二三四五六七八九十"], "一二三四五六七八九十") == 1.0
    assert PHRASE_FULL == 8



def test_a_model_named_by_its_figures_is_found_by_them(policy_service):
    answer = policy_service.ask("台州“5+X”托育服务模式里，“5”具体是指哪五方面？", use_llm=False)
    assert answer.answered and "家庭+社区+机构+单位+社会" in answer.quotes[0].text
