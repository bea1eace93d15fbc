"""The policy-search gate: at most `limit` asks at once, everything else passes through."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from bot.cpu_gate import GatedPolicyService


class _Service:
    def __init__(self) -> None:
        self.running = 0
        self.peak = 0
        self.lock = threading.Lock()
        self.knowledge_dir = "kb"

    def ask(self, question: str, previous: str | None = None) -> str:
        with self.lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
        time.sleep(0.02)
        with self.lock:
            self.running -= 1
        return f"answer to {question} after {previous}"


def test_at_most_limit_asks_run_at_once():
    for limit in (1, 2):
        service = _Service()
        gated = GatedPolicyService(service, limit)
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(gated.ask, [f"q{i}" for i in range(16)]))
        assert service.peak == limit
        assert answers[3] == "answer to q3 after None"


def test_everything_else_is_the_services_own():
    service = _Service()
    gated = GatedPolicyService(service, 1)
    assert gated.knowledge_dir == "kb"
    assert gated.wrapped is service


def test_one_thread_embedder_names_itself_without_loading_and_embeds_like_the_default(embedder):
    import numpy as np

    from bot.cpu_gate import OneThreadEmbedder

    one = OneThreadEmbedder("")
    assert one.name == embedder.name and one._model is None  # the index's collection name, nothing loaded yet
    texts = ["厦门每年新增多少个普惠托位？", "How much is the childcare subsidy?"]
    assert np.array_equal(one.encode(texts), embedder.encode(texts))
    assert one.encode(texts[:1]).shape == (1, embedder.encode(texts[:1]).shape[1])
