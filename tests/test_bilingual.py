"""English renderings from CC-CEDICT restricted to the documents' vocabulary, and the fitted confidence."""

from __future__ import annotations

from retrieval.bilingual import BilingualIndex, content_words
from retrieval.confidence import Signals, confidence, fit


def test_cedict_renders_english_words_the_glossary_lacks():
    index = BilingualIndex(["贷款", "职称", "上市公司", "托育"])
    found = index.expand("Can providers get cheap loans or professional titles at a listed company?")
    assert "贷款" in found["loan"] and "职称" in found["title"] and found["listed company"] == ["上市公司"]
    assert index.expand("How do I reset my passcode?") == {}


def test_content_words_drop_question_words_and_plurals():
    assert content_words("Does the company's nursery have places?") == ["company", "nursery", "place"]


def test_confidence_rises_with_coverage_and_a_stated_fact():
    low = Signals(coverage=0.2, states=0.0, dense=0.2, margin=0.1)
    high = Signals(coverage=0.9, states=1.0, dense=0.5, margin=0.1)
    assert confidence(low) < 0.5 < confidence(high)


def test_fit_separates_answerable_from_unanswerable():
    rows = [(Signals(0.9, 1.0, 0.5, 0.2), True), (Signals(0.8, 1.0, 0.4, 0.1), True),
            (Signals(0.3, 0.0, 0.2, 0.1), False), (Signals(0.2, 1.0, 0.1, 0.0), False)] * 5
    weights, bias = fit(rows)
    assert weights["coverage"] > 0 and weights["states"] > 0


def test_question_fillers_are_no_topic_words():
    assert content_words("What kind of society is it supposed to help build, according to the plan?") == [
        "society", "help", "build", "plan"]


def test_glossary_phrases_are_compiled_once_not_for_every_question():
    """The glossary holds more phrases than `re` caches (512): compiling them per question cost 70 ms."""
    from pathlib import Path

    from retrieval.query import _phrase_pattern, load_glossary

    glossary = load_glossary(Path(__file__).resolve().parent.parent / "knowledge" / "glossary.yaml")
    assert sum(len(phrases) for phrases, _ in glossary.entries) > 512
    glossary.expand_phrases("How much is the fee for a full-day place?")
    compiled = _phrase_pattern.cache_info().misses
    assert glossary.expand_phrases("What fee do parents of toddlers pay?")
    assert _phrase_pattern.cache_info().misses == compiled
