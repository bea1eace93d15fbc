"""The salient words of a question: what a glued phrase weighs, and which particles are dropped."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.question_refs import given_figures
from retrieval.salience import Synonyms, chinese_salient, coverage, english_salient
from retrieval.tokenize import load_stopwords, load_user_dictionary

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"


@pytest.fixture(scope="module")
def salient_of():
    load_user_dictionary(KNOWLEDGE / "jieba_userdict.txt")
    stopwords = load_stopwords(KNOWLEDGE / "stopwords.txt")

    def words(question: str) -> dict[str, float]:
        return {s.word: s.weight for s in chinese_salient(question, stopwords, Synonyms())}

    return words


@pytest.mark.parametrize(
    ("question", "phrase", "parts"),
    [
        ("北仑的普惠托育价格是怎么订出来的？", "订出来", ["出来"]),  # a rare dictionary phrase
        ("会考虑哪些因素？", "哪些因素", ["因素"]),  # a rare dictionary phrase holding an asking word
        ("大庆的幼儿园托班收多大的孩子？", "收多大", ["托班"]),  # a run jieba's guesser glued
    ],
)
def test_a_glued_phrase_weighs_as_its_words(salient_of, question, phrase, parts):
    words = salient_of(question)
    assert phrase not in words
    assert all(part in words for part in parts)
    assert max(words.values()) < 8, words  # no common words in a row weigh like a rare word


def test_a_dictionary_word_is_never_cut_into_nonsense(salient_of):
    words = salient_of("宝宝一岁半了还不怎么会说话，正常吗？")
    assert "不怎" not in words
    assert "说话" in words and "正常" in words


def test_a_glued_particle_is_dropped(salient_of):
    words = salient_of("能不能租个闲置的厂子改成托儿所？")
    assert "租" in words and "租个" not in words
    assert {"闲置", "改成", "托儿所"} <= set(words)


def test_a_rare_topic_word_still_weighs_the_most(salient_of):
    words = salient_of("托育机构能不能享受水电气民用价格？")
    heaviest = sorted(words, key=lambda w: -words[w])[:2]
    assert set(heaviest) == {"水电", "民用"}, words


def test_a_passage_missing_only_glued_filler_still_covers_the_question(salient_of):
    stopwords = load_stopwords(KNOWLEDGE / "stopwords.txt")
    salient = chinese_salient("北仑的普惠托育价格是怎么订出来的？会考虑哪些因素？", stopwords, Synonyms())
    passage = "综合考虑我区居民收入水平、服务成本、合理利润等因素,确定普惠托育服务价格。"
    assert coverage(salient, passage) >= 0.6


def test_a_compound_spelt_out_covers_most_of_the_word():
    from retrieval.salience import PARTIAL_CREDIT, SPLIT_CREDIT, Salient

    centres = Salient("托育机构", 3.0)
    assert centres.covered_by("全市共建成提供规范托育服务的机构446家") == SPLIT_CREDIT
    assert centres.covered_by("托育服务机构") == SPLIT_CREDIT
    assert centres.covered_by("机构与托育") == PARTIAL_CREDIT, "the halves in the other order are no spelling of it"


def test_a_word_the_documents_use_stays_whole():
    """普惠 is no word of general Chinese, but the documents' own: cut into 普 and 惠 it would match anything."""
    load_user_dictionary(KNOWLEDGE / "jieba_userdict.txt")
    stopwords = load_stopwords(KNOWLEDGE / "stopwords.txt")
    general = [s.word for s in chinese_salient("普惠的有几个", stopwords, Synonyms())]
    documents = [s.word for s in chinese_salient("普惠的有几个", stopwords, Synonyms(), {"普惠"}.__contains__)]
    assert "普惠" not in general and "普惠" in documents


def test_an_english_question_quotes_its_figures_as_the_documents_write_them():
    assert given_figures("In the task of 5,200 new places as of July 2022, with 3.30 per 1,000 and 3 towns") == [
        "5200", "2022", "3.30", "1000"]
    assert given_figures("the 1+9+X model") == [], "single digits are everywhere"


def test_a_document_word_kept_whole_weighs_as_its_parts():
    """公共卫生 is one rare dictionary entry; kept whole, it must not outweigh 公共 + 卫生."""
    load_user_dictionary(KNOWLEDGE / "jieba_userdict.txt")
    stopwords = load_stopwords(KNOWLEDGE / "stopwords.txt")
    split = {s.word: s.weight for s in chinese_salient("基本公共卫生服务", stopwords, Synonyms())}
    whole = {s.word: s.weight for s in chinese_salient("基本公共卫生服务", stopwords, Synonyms(), {"公共卫生"}.__contains__)}
    assert "公共卫生" in whole and whole["公共卫生"] == pytest.approx(split["公共"] + split["卫生"])


def test_an_english_word_rendered_by_a_document_word_weighs_as_its_parts():
    """affordable → 普惠: a word general Chinese does not list must not outweigh every other word of the question."""
    salient = {s.word: s.weight for s in english_salient(["affordable", "index"], {"affordable": ["普惠"], "index": ["索引"]})}
    assert salient["affordable"] <= 2.0 < salient["index"]
