"""Off-topic questions (flights, food, a port) are refused as out of scope, even when they name a city the
documents cover; domain questions, including those in the documents' own words, are not."""

from __future__ import annotations

import pytest

from bot.cli_policy import answer_to_contract
from bot.settings import KNOWLEDGE_DIR
from retrieval.topicality import OFF_TOPIC_COVERAGE, TopicWords, load_topic_words, off_topic

WORDS = load_topic_words(KNOWLEDGE_DIR / "topic_words.yaml")


@pytest.mark.parametrize(
    "question",
    ["厦门托育补贴多少钱", "孩子入托要准备什么", "宝宝发烧能送吗", "Does Xiamen subsidise nurseries?",
     "How many childcare places does Taizhou have?", "大庆的实施方案什么时候到期", "北仑的照护驿站开放吗"],
)
def test_domain_questions_use_a_domain_word(question):
    assert WORDS.in_question(question)


@pytest.mark.parametrize(
    "question",
    ["帮我查一下明天从厦门飞大庆的航班", "张家港有什么好吃的本地特色小吃？", "北仑港的集装箱吞吐量在全国排第几？",
     "What's the weather in Xiamen tomorrow?", "厦门鼓浪屿的门票多少钱？", "Where can I buy a cheap phone in Daqing?"],
)
def test_off_topic_questions_use_none(question):
    assert not WORDS.in_question(question)


def test_off_topic_needs_both_no_domain_word_and_low_coverage():
    assert off_topic("北仑港的集装箱吞吐量", 0.03, WORDS)
    assert not off_topic("北仑港的集装箱吞吐量", OFF_TOPIC_COVERAGE, WORDS), "a well covered question is in scope"
    assert not off_topic("北仑托育机构有多少", 0.0, WORDS), "a domain word keeps it in scope"
    assert not off_topic("anything", 0.0, TopicWords()), "without a word list every question is in scope"


def test_english_words_match_at_the_start_of_a_word():
    words = TopicWords((), load_topic_words(KNOWLEDGE_DIR / "topic_words.yaml").english)
    assert words.in_question("childcare in Xiamen") and words.in_question("CHILDREN")
    assert not words.in_question("scare tactics"), "care inside another word is no domain word"


@pytest.mark.parametrize(
    ("question", "lang"),
    [("帮我查一下明天从厦门飞大庆的航班", "zh"), ("张家港有什么好吃的本地特色小吃？", "zh"),
     ("北仑港的集装箱吞吐量在全国排第几？", "zh"), ("What's the weather in Xiamen tomorrow?", "en")],
)
def test_an_off_topic_question_naming_a_city_is_refused_and_told_what_the_bot_does(policy_service, question, lang):
    answer = policy_service.ask(question, use_llm=False)
    assert not answer.answered and answer.reason == "out_of_scope" and answer.off_topic
    contract = answer_to_contract(answer, ["厦门市"], lang)
    assert contract["reason"] == "out_of_scope", "the JSON contract's reasons are unchanged"
    reply = contract["answer"]
    assert ("托育助手" in reply and "国家" not in reply) if lang == "zh" else "childcare assistant" in reply
    assert "“" not in reply, "no quote from a passage"


@pytest.mark.parametrize(
    "question",
    ["台州“1+9+X”培训模式里，理论培训由谁负责？", "How many departments jointly issued Taizhou's basic public service standard?"],
)
def test_a_question_in_the_documents_own_words_stays_in_scope(policy_service, question):
    answer = policy_service.ask(question, use_llm=False)
    assert answer.answered and not answer.off_topic
