"""The incremental BM25 index scores exactly like bm25s (the library it replaces for ranking), and stays
exact while documents are added and removed one at a time."""

from __future__ import annotations

import random

import bm25s
import numpy as np
import pytest

from retrieval.lexical import LexicalIndex

WORDS = [f"w{i}" for i in range(60)] + ["托育", "补贴", "普惠", "收费", "元", "月"]


def random_corpus(rng: random.Random, n: int) -> list[list[str]]:
    # Skewed word frequencies, like text: a few words in most passages, many rare ones.
    return [[rng.choice(WORDS[: rng.randint(3, len(WORDS))]) for _ in range(rng.randint(1, 40))] for _ in range(n)]


def bm25s_scores(corpus: list[list[str]], query: list[str]) -> np.ndarray:
    reference = bm25s.BM25()
    reference.index(corpus, show_progress=False)
    known = [t for t in query if t in reference.vocab_dict]
    if not known:
        return np.zeros(len(corpus), dtype=np.float32)
    return reference.get_scores(known)


@pytest.mark.parametrize("seed", range(8))
def test_a_fresh_index_scores_exactly_as_bm25s(seed):
    rng = random.Random(seed)
    corpus = random_corpus(rng, rng.randint(1, 300))
    index = LexicalIndex()
    for tokens in corpus:
        index.add(tokens)
    for _ in range(20):
        query = [rng.choice(WORDS + ["unknown"]) for _ in range(rng.randint(1, 8))]
        ours = index.scores(query)
        assert ours.dtype == np.float32
        np.testing.assert_array_equal(ours, bm25s_scores(corpus, query))


@pytest.mark.parametrize("seed", range(6))
def test_adding_and_removing_passages_matches_an_index_built_from_the_survivors(seed):
    rng = random.Random(100 + seed)
    index = LexicalIndex()
    live: dict[int, list[str]] = {}
    for _ in range(rng.randint(20, 120)):
        tokens = random_corpus(rng, 1)[0]
        live[index.add(tokens)] = tokens
    for _round in range(10):
        # Score once (fills the caches), then change the corpus: the caches must not survive the change.
        index.scores(["托育", "w1"])
        for slot in rng.sample(sorted(live), k=min(len(live) - 1, rng.randint(0, 10))):
            index.remove(slot)
            del live[slot]
        for tokens in random_corpus(rng, rng.randint(0, 10)):
            live[index.add(tokens)] = tokens
        slots = sorted(live)
        query = [rng.choice(WORDS) for _ in range(rng.randint(1, 6))]
        ours = index.scores(query)
        assert not ours[[s for s in range(index.slot_count) if s not in live]].any(), "a removed passage scored"
        np.testing.assert_array_equal(ours[slots], bm25s_scores([live[s] for s in slots], query))


def test_the_saved_state_scores_the_same_and_keeps_changing():
    rng = random.Random(7)
    index = LexicalIndex()
    slots = [index.add(tokens) for tokens in random_corpus(rng, 80)]
    for slot in slots[::3]:
        index.remove(slot)
    copy = LexicalIndex.from_state(index.to_state())
    query = ["托育", "补贴", "w2", "w2"]
    np.testing.assert_array_equal(copy.scores(query), index.scores(query))
    extra = random_corpus(rng, 5)
    for tokens in extra:
        assert copy.add(tokens) == index.add(tokens)
    copy.remove(slots[1])
    index.remove(slots[1])
    np.testing.assert_array_equal(copy.scores(query), index.scores(query))
    assert copy.document_frequency("托育") == index.document_frequency("托育")


def test_an_empty_index_and_unknown_words_score_nothing():
    index = LexicalIndex()
    assert index.scores(["托育"]).size == 0
    slot = index.add(["托育", "补贴"])
    assert index.scores(["不存在"]).tolist() == [0.0]
    index.remove(slot)
    assert index.scores(["托育"]).tolist() == [0.0]
    assert not index.has_term("托育")
