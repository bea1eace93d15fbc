"""Quality gates of issue #9 on both development sets (knowledge/eval), measured through the `ask --json`
reply a user gets: retrieval, the fact in the reply, refusals with reasons, per kind."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli_policy import answer_to_contract
from bot.render import answer_language
from retrieval.evaluation import evaluate, read_eval_file

DATA = Path(__file__).resolve().parent.parent / "knowledge" / "eval"


@pytest.fixture(scope="module")
def reports(policy_service):
    covered = sorted({item.meta.city for item in policy_service.searcher.items})

    def render(answer) -> str:
        return answer_to_contract(answer, covered, answer_language(answer.question, "zh"))["answer"]

    def ask(question: str):
        return policy_service.ask(question, use_llm=False)

    return {
        name: evaluate(ask, read_eval_file(DATA / name), render=render)
        for name in ("policy_qa_dev.jsonl", "policy_qa_hard_dev.jsonl", "policy_qa_probe_dev.jsonl", *LATER_PROBES)
    }


def test_hard_set_retrieval(reports):
    report = reports["policy_qa_hard_dev.jsonl"]
    summary, misses = report.summary(), report.misses()
    assert summary["hit@1"] >= 0.90, misses
    assert summary["hit@5"] >= 0.97, misses
    assert summary["mrr@5"] >= 0.92, misses
    assert summary["by_kind"]["english"]["hit@5"] >= 0.90, misses
    assert summary["by_kind"]["table"]["hit@1"] >= 0.90, misses


def test_hard_set_answers_and_refusals(reports):
    report = reports["policy_qa_hard_dev.jsonl"]
    summary, misses = report.summary(), report.misses()
    assert summary["answer_fact"] >= 39, misses
    assert summary["unanswerable_refused"] >= 29, misses
    assert summary["answerable_refused"] <= 1, misses


def test_hard_set_refusals_give_the_right_reason(reports):
    by_kind = reports["policy_qa_hard_dev.jsonl"].summary()["by_kind"]
    assert by_kind["other-city"]["reasons"].get("no_documents_for_place", 0) >= 6
    assert by_kind["national"]["reasons"].get("out_of_scope", 0) >= 4
    assert by_kind["near-topic"]["reasons"].get("not_stated", 0) >= 7


def test_probe_set_meets_its_bar(reports):
    """The team's own set (101 questions of the hard set's kinds, docs/policy-answers.md): measured 2026-11-28."""
    summary = reports["policy_qa_probe_dev.jsonl"].summary()
    misses = reports["policy_qa_probe_dev.jsonl"].misses()
    assert summary["hit@5"] >= 0.97, misses
    assert summary["answer_fact"] >= 63, misses
    assert summary["answerable_refused"] <= 1, misses
    assert summary["unanswerable_refused"] >= 31, misses


# Ten more sets of the hard set's kinds, each written by a helper who never saw the product's code or
# replies (docs/policy-answers.md, "Probe sets 2–11"); measured 2026-11-28 (sessions 9 and 10): answer fact, false
# refusals and unanswerable refused, with a margin of one.
LATER_PROBES = {
    "policy_qa_probe2_dev.jsonl": (57, 1, 47),
    "policy_qa_probe3_dev.jsonl": (52, 1, 43),
    "policy_qa_probe4_dev.jsonl": (55, 1, 43),
    "policy_qa_probe5_dev.jsonl": (49, 1, 43),
    "policy_qa_probe6_dev.jsonl": (54, 2, 43),
    "policy_qa_probe7_dev.jsonl": (52, 2, 41),
    "policy_qa_probe8_dev.jsonl": (52, 1, 41),
    "policy_qa_probe9_dev.jsonl": (52, 1, 36),
    "policy_qa_probe10_dev.jsonl": (50, 2, 41),
    "policy_qa_probe11_dev.jsonl": (50, 2, 41),
}


@pytest.mark.parametrize("name", LATER_PROBES)
def test_later_probe_sets_meet_their_bar(reports, name):
    summary, misses = reports[name].summary(), reports[name].misses()
    fact, false_refusals, refused = LATER_PROBES[name]
    assert summary["hit@5"] >= 0.94, misses
    assert summary["answer_fact"] >= fact, misses
    assert summary["answerable_refused"] <= false_refusals, misses
    assert summary["unanswerable_refused"] >= refused, misses


def test_easy_set_unchanged(reports):
    summary = reports["policy_qa_dev.jsonl"].summary()
    assert summary["hit@5"] == 1.0
    assert summary["unanswerable_refused"] == summary["unanswerable"]
    assert summary["answerable_refused"] == 0


@pytest.mark.parametrize("question", ["托育机构保育人员和婴幼儿比例是多少", "厦门托育机构的师幼比是多少？"])
def test_a_ratio_question_is_never_answered_with_a_share(policy_service, question):
    """The documents state shares (托位占比达30%) but no staffing ratio: the reply says the ratio is not stated
    (or not found) instead of presenting a share as the answer."""
    answer = policy_service.ask(question, use_llm=False)
    assert not answer.answered and answer.reason in {"not_stated", "not_found"}, (answer.reason, answer.fact)
    assert "%" not in (answer.fact or "")


@pytest.mark.parametrize(
    ("question", "wrong"),
    [
        ("台州托育机构的普惠价格是多少", "1460"),  # a central investment is not a price
        ("张家港托育机构一个班最多多少个孩子", "家"),  # places and list labels are not children
        ("厦门托育机构每天开放几个小时", "家"),  # hours are not a count of centres
    ],
)
def test_a_figure_of_another_thing_is_never_the_answer(policy_service, question, wrong):
    """The documents state sums and counts near the topic, but none of what was asked: the reply says so
    instead of putting another figure on its first line."""
    answer = policy_service.ask(question, use_llm=False)
    assert not answer.answered, (answer.fact, answer.reason)
    assert wrong not in (answer.fact or "")


def test_a_total_is_not_answered_by_a_per_unit_figure_or_a_duration(policy_service):
    """"台州有多少家托育机构": neither "每个县…至少建成一家" (per county) nor "缩短至2个工作日" (a duration) is a
    number of centres."""
    answer = policy_service.ask("台州有多少家托育机构", use_llm=False)
    assert answer.fact not in {"一家", "至少一家", "至少建成一家", "2个"}, answer.fact


@pytest.mark.parametrize(
    ("question", "fact", "wrong"),
    [
        ("台州村里的托育驿站一共建了多少家？", "近200家", "446家"),  # 446 counts centres, not stations
        ("台州市民生实事要求新增多少个托位？", "个", "16个"),  # 16 counts towns, not places
        ("北仑要建几个“医、防、护”三位一体儿童健康管理中心？", "一家", ""),  # 几个 takes 家 once the noun agrees
    ],
)
def test_a_count_counts_the_noun_asked_about(policy_service, question, fact, wrong):
    """The first line's figure must count what the question counts, named in the figure's own clause."""
    answer = policy_service.ask(question, use_llm=False)
    assert answer.answered and fact in answer.fact, (answer.reason, answer.fact)
    assert not wrong or wrong != answer.fact


@pytest.mark.parametrize(
    ("question", "missing"),
    [("北仑的婴幼儿照护驿站开放时间是几点到几点？", "几点"), ("台州市级家庭教育热线电话是多少？", "联系方式")],
)
def test_hours_and_phone_numbers_are_stated_or_refused(policy_service, question, missing):
    """The documents name the stations and the hotline, but give no hours and no number: the reply says so."""
    answer = policy_service.ask(question, use_llm=False)
    assert not answer.answered, (answer.fact, answer.reason)
    covered = sorted({item.meta.city for item in policy_service.searcher.items})
    reply = answer_to_contract(answer, covered, "zh")["answer"]
    assert answer.reason != "not_stated" or missing in reply, reply


