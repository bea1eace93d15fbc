"""Evaluation on a question set (`eval/policy_qa_dev.jsonl` format): hit@k, MRR@5, refusals, latency, and,
for files with `kind` and `answer` (the hard set), the same per kind, the answer-fact rate and the reasons."""

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
    answer: str | None = None  # the fact a correct reply contains
    kind: str = ""


@dataclass
class EvalRow:
    """The outcome for one question."""

    question: str
    answerable: bool
    answered: bool
    rank: int | None  # 1-based rank of the first passage containing the evidence, within the top 5
    latency_ms: float
    kind: str = ""
    reason: str = ""
    fact_expected: bool = False
    fact_in_reply: bool = False


@dataclass
class EvalReport:
    """Aggregate figures."""

    rows: list[EvalRow] = field(default_factory=list)

    def summary(self) -> dict:
        """hit@1/3/5, MRR@5, refusals, reasons, answer-fact rate and latency (and per kind), JSON-ready."""
        latencies = sorted(r.latency_ms for r in self.rows) or [0.0]
        summary = _figures(self.rows)
        summary["latency_ms"] = {
            "p50": round(statistics.median(latencies), 2),
            "p95": round(latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))], 2),
            "max": round(latencies[-1], 2),
        }
        kinds = sorted({r.kind for r in self.rows if r.kind})
        if kinds:
            summary["by_kind"] = {kind: _figures([r for r in self.rows if r.kind == kind]) for kind in kinds}
        return summary

    def misses(self) -> list[dict]:
        """Questions that missed, were refused wrongly or lack the fact, for tuning by mechanism."""
        return [
            {"question": r.question, "kind": r.kind, "rank": r.rank, "answered": r.answered, "reason": r.reason,
             "fact_in_reply": r.fact_in_reply if r.fact_expected else None}
            for r in self.rows
            if (r.answerable and (r.rank is None or r.rank > 1 or not r.answered))
            or (not r.answerable and r.answered)
            or (r.fact_expected and not r.fact_in_reply)
        ]


def _figures(rows: list[EvalRow]) -> dict:
    """hit@1/3/5, MRR@5, refusals, answer-fact rate and reasons of `rows`."""
    answerable = [r for r in rows if r.answerable]
    unanswerable = [r for r in rows if not r.answerable]
    n = max(len(answerable), 1)

    def hit(k: int) -> float:
        return round(sum(1 for r in answerable if r.rank is not None and r.rank <= k) / n, 4)

    with_fact = [r for r in rows if r.fact_expected]
    reasons: dict[str, int] = {}
    for r in rows:
        if not r.answered:
            reasons[r.reason or "not_found"] = reasons.get(r.reason or "not_found", 0) + 1
    out = {
        "questions": len(rows),
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
            / max(len(rows), 1),
            4,
        ),
        "reasons": dict(sorted(reasons.items())),
    }
    if with_fact:
        out["answer_fact"] = sum(1 for r in with_fact if r.fact_in_reply)
        out["answer_fact_rate"] = round(out["answer_fact"] / len(with_fact), 4)
    return out


def read_eval_file(path: Path) -> list[EvalItem]:
    """Read a JSON-lines question file."""
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            data = json.loads(line)
            items.append(
                EvalItem(data["question"], data.get("doc"), data.get("evidence"), data.get("answer"),
                         str(data.get("kind") or ""))
            )
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


def reply_text(answer: Answer) -> str:
    """What a reply says, without rendering: the generated text, or the facts and quotes."""
    return " ".join([answer.generated, *(q.fact for q in answer.quotes), *(q.text for q in answer.quotes)])


def evaluate(ask, items: list[EvalItem], render=reply_text) -> EvalReport:
    """Run `ask(question) -> Answer` over `items`; `render(answer)` is the reply text the fact is looked for in."""
    report = EvalReport()
    for item in items:
        started = time.perf_counter()
        answer = ask(item.question)
        elapsed = (time.perf_counter() - started) * 1000
        answerable = item.evidence is not None
        rank = evidence_rank(answer, item.evidence) if answerable else None
        fact_expected = answerable and bool(item.answer)
        fact_in_reply = fact_expected and answer.answered and _squash(item.answer) in _squash(render(answer))
        report.rows.append(
            EvalRow(item.question, answerable, answer.answered, rank, elapsed, item.kind,
                    "" if answer.answered else (answer.reason or "not_found"), fact_expected, fact_in_reply)
        )
    return report
