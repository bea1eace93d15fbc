"""Evaluation on a question set (`eval/policy_qa_dev.jsonl` format): hit@k, MRR@5, refusals, latency."""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from retrieval.answer import Answer


@dataclass
class EvalItem:
    """One question of an evaluation file."""

    question: str
    doc: str | None
    evidence: str | None


@dataclass
class EvalRow:
    """The outcome for one question."""

    question: str
    answerable: bool
    answered: bool
    rank: int | None  # 1-based rank of the first passage containing the evidence, within the top 5
    latency_ms: float


@dataclass
class EvalReport:
    """Aggregate figures."""

    rows: list[EvalRow] = field(default_factory=list)

    def summary(self) -> dict:
        """hit@1/3/5, MRR@5, refusal accuracy and latency, JSON-ready."""
        answerable = [r for r in self.rows if r.answerable]
        unanswerable = [r for r in self.rows if not r.answerable]
        n = max(len(answerable), 1)

        def hit(k: int) -> float:
            return round(sum(1 for r in answerable if r.rank is not None and r.rank <= k) / n, 4)

        latencies = sorted(r.latency_ms for r in self.rows) or [0.0]
        return {
            "questions": len(self.rows),
            "answerable": len(answerable),
            "unanswerable": len(unanswerable),
            "hit@1": hit(1),
            "hit@3": hit(3),
            "hit@5": hit(5),
            "mrr@5": round(sum(1 / r.rank for r in answerable if r.rank) / n, 4),
            "unanswerable_refused": sum(1 for r in unanswerable if not r.answered),
            "answerable_refused": sum(1 for r in answerable if not r.answered),
            "refusal_accuracy": round(
                (sum(1 for r in unanswerable if not r.answered) + sum(1 for r in answerable if r.answered))
                / max(len(self.rows), 1),
                4,
            ),
            "latency_ms": {
                "p50": round(statistics.median(latencies), 2),
                "p95": round(latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))], 2),
                "max": round(latencies[-1], 2),
            },
        }

    def misses(self) -> list[dict]:
        """Questions that missed or were refused wrongly, for tuning by mechanism, not by question."""
        return [
            {"question": r.question, "rank": r.rank, "answered": r.answered}
            for r in self.rows
            if (r.answerable and (r.rank is None or r.rank > 1 or not r.answered)) or (not r.answerable and r.answered)
        ]


def read_eval_file(path: Path) -> list[EvalItem]:
    """Read a JSON-lines question file."""
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            data = json.loads(line)
            items.append(EvalItem(data["question"], data.get("doc"), data.get("evidence")))
    return items


def _squash(text: str) -> str:
    return "".join(text.split())


def evidence_rank(answer: Answer, evidence: str, k: int = 5) -> int | None:
    """1-based rank of the first cited passage containing `evidence` (whitespace ignored)."""
    wanted = _squash(evidence)
    for rank, source in enumerate(answer.sources[:k], start=1):
        if wanted in _squash(source.text):
            return rank
    return None


def evaluate(ask, items: list[EvalItem]) -> EvalReport:
    """Run `ask(question) -> Answer` over `items`."""
    report = EvalReport()
    for item in items:
        started = time.perf_counter()
        answer = ask(item.question)
        elapsed = (time.perf_counter() - started) * 1000
        answerable = item.evidence is not None
        rank = evidence_rank(answer, item.evidence) if answerable else None
        report.rows.append(EvalRow(item.question, answerable, answer.answered, rank, elapsed))
    return report
