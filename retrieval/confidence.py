"""One confidence for the answer/refuse decision, and the re-ranking weights — all fitted weights live here.

Signals of the best passage (after re-ranking):
- coverage: weighted share of the question's salient words it covers (weights from jieba's general
  frequency dictionary, so a missing rare word such as 护照 or 个税 costs the most; `retrieval.salience`);
- states: it states the kind of fact asked for (an amount, a date, a unit…; 1 for open questions);
- dense: cosine similarity of the multilingual embedding;
- margin: how far it leads the runner-up (relative re-rank score);
- scope: the question names a documented place (1) or no place at all (0): the documents are local, so a
  question that names no place is less likely to be about them (个税, vaccines…).
A national question without national documents and a place without documents are refused before, by
rule, and never reach this score.

How the weights were chosen: `python -m retrieval.confidence_fit` computes the signals for every question of
both development sets (knowledge/eval/policy_qa_dev.jsonl and policy_qa_hard_dev.jsonl; questions refused by
scope left out) and fits a logistic regression (L2 = 1.0, standardised inputs, then mapped back) of
"answerable" on them; it prints the weights pasted below and the dev-set accuracy. The threshold is 0.5.
The re-ranking weights were chosen by a grid over the same sets (retrieval 0.5–1.5, coverage 0–1, unit
0.5–1.5, sub-place 0.25–0.5; best hit@1 of both sets with hit@5 kept at its best), before fitting.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Fitted on both dev sets (see the module docstring); refit after changing signals or documents.
WEIGHTS = {"scope": 3.172, "coverage": 4.105, "states": 6.084, "dense": 2.582, "margin": -1.229}
BIAS = -8.997
THRESHOLD = 0.5

# Re-ranking of the fused candidates: retrieval score (relative to the best), coverage of the salient
# words by the passage, coverage by its best sentence/row that states the kind of fact asked for, naming
# the town/district the question names.
RERANK = {"retrieval": 0.5, "coverage": 1.0, "unit": 0.5, "sub_place": 0.5, "phrase": 0.15}


@dataclass(frozen=True)
class Signals:
    """What the decision looks at."""

    coverage: float
    states: float
    dense: float
    margin: float
    scope: float = 1.0

    def vector(self) -> list[float]:
        """The signals in the order of `WEIGHTS`."""
        return [getattr(self, name) for name in WEIGHTS]


def confidence(signals: Signals, weights: dict[str, float] | None = None, bias: float | None = None) -> float:
    """Probability-like confidence in [0, 1] that the best passage answers the question (with the fitted
    `WEIGHTS`/`BIAS`, or others being tried)."""
    weights = WEIGHTS if weights is None else weights
    bias = BIAS if bias is None else bias
    z = bias + sum(weights[name] * value for name, value in zip(weights, signals.vector(), strict=True))
    return 1.0 / (1.0 + math.exp(-z))


def signals_of(result) -> Signals:
    """The signals of a search result's best passage (`retrieval.search.SearchResult`)."""
    if not result.hits:
        return Signals(0.0, 0.0, 0.0, 0.0, 0.0)
    top = result.hits[0]
    second = result.hits[1].rerank if len(result.hits) > 1 else 0.0
    margin = (top.rerank - second) / top.rerank if top.rerank > 0 else 0.0
    return Signals(top.coverage, float(top.states), top.dense_similarity, margin, 1.0 if result.cities else 0.0)


def fit(rows: list[tuple[Signals, bool]], l2: float = 1.0, steps: int = 4000, rate: float = 0.1) -> tuple[dict, float]:
    """Logistic regression of answerable on the signals: (weights by name, bias), in raw signal units."""
    import numpy as np

    x = np.array([s.vector() for s, _ in rows], dtype=np.float64)
    y = np.array([1.0 if label else 0.0 for _, label in rows])
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = (x - mean) / std
    w = np.zeros(z.shape[1])
    b = 0.0
    n = len(rows)
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(z @ w + b)))
        w -= rate * ((z.T @ (p - y)) / n + l2 * w / n)
        b -= rate * float(np.mean(p - y))
    raw = w / std
    return {name: round(float(v), 3) for name, v in zip(WEIGHTS, raw, strict=True)}, round(b - float(raw @ mean), 3)
