"""Policy QA benchmark: index build time, model load time, `ask` latency over both dev sets, peak memory.

Run: `python -m bench.ask_latency [--rounds 3]`. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from bot.settings import KNOWLEDGE_DIR
from retrieval.evaluation import evaluate, read_eval_file

DATA = Path(__file__).resolve().parent.parent / "knowledge" / "eval"
DEV_SET = DATA / "policy_qa_dev.jsonl"
HARD_SET = DATA / "policy_qa_hard_dev.jsonl"


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def latency_summary(latencies: list[float], digits: int) -> dict:
    """How many, median, 95th percentile and slowest of `latencies`, rounded to `digits`."""
    return {
        "n": len(latencies),
        "p50": round(statistics.median(latencies), digits),
        "p95": round(percentile(latencies, 0.95), digits),
        "max": round(max(latencies), digits),
    }


def main() -> None:
    """Measure and print JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3, help="passes over the dev set")
    args = parser.parse_args()

    from retrieval.embedding import load_embedder
    from retrieval.service import PolicyService

    started = time.perf_counter()
    embedder = load_embedder()
    model_load_s = time.perf_counter() - started

    with tempfile.TemporaryDirectory() as tmp:
        service = PolicyService(Path(tmp) / "index", KNOWLEDGE_DIR, embedder=embedder)
        started = time.perf_counter()
        report = service.build()
        build_s = time.perf_counter() - started
        started = time.perf_counter()
        service.build()
        rebuild_unchanged_s = time.perf_counter() - started
        service.warm_up()

        items = read_eval_file(DEV_SET) + read_eval_file(HARD_SET)
        latencies: list[float] = []
        for _ in range(args.rounds):
            result = evaluate(service.ask, items)
            latencies += [row.latency_ms for row in result.rows]
        quality = {}
        for name, path in (("easy", DEV_SET), ("hard", HARD_SET)):
            summary = evaluate(service.ask, read_eval_file(path)).summary()
            quality[name] = {
                k: summary[k]
                for k in ("hit@1", "hit@5", "mrr@5", "unanswerable_refused", "answerable_refused", "answer_fact")
                if k in summary
            }

    print(
        json.dumps(
            {
                "benchmark": "ask_latency",
                "date": date.today().isoformat(),
                "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "system": platform.system()},
                "embedding_model": embedder.name,
                "documents": len(report.documents),
                "chunks": sum(d.chunks for d in report.documents),
                "model_load_s": round(model_load_s, 3),
                "index_build_s": round(build_s, 3),
                "index_rebuild_unchanged_s": round(rebuild_unchanged_s, 3),
                "ask_ms": latency_summary(latencies, 2),
                "quality": quality,
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
