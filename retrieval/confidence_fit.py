"""Refit the answer-confidence weights (`retrieval.confidence.WEIGHTS`, `BIAS`) on both development sets:
`python -m retrieval.confidence_fit` prints them with the accuracy they reach; paste them into confidence.py."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from retrieval.confidence import THRESHOLD, Signals, confidence, fit, signals_of
from retrieval.service import PolicyService

KNOWLEDGE_DIR = Path(__file__).resolve().parent.parent / "knowledge"


def main() -> None:
    """Fit the weights on the dev sets and print them with the accuracy they reach."""
    data = KNOWLEDGE_DIR / "eval"
    files = [data / "policy_qa_dev.jsonl", data / "policy_qa_hard_dev.jsonl"]
    with tempfile.TemporaryDirectory() as tmp:
        service = PolicyService(Path(tmp) / "index", KNOWLEDGE_DIR)
        service.build()
        rows: list[tuple[Signals, bool]] = []
        for file in files:
            for line in file.read_text(encoding="utf-8").splitlines():
                if not line.strip():
                    continue
                item = json.loads(line)
                result = service.search(item["question"])
                if result.scope or not result.hits:
                    continue
                rows.append((signals_of(result), item.get("evidence") is not None))
    weights, bias = fit(rows)
    correct = sum(1 for s, label in rows if (confidence(s, weights, bias) >= THRESHOLD) == label)
    print(json.dumps({"weights": weights, "bias": bias, "rows": len(rows), "accuracy": round(correct / len(rows), 3)}))


if __name__ == "__main__":
    main()
