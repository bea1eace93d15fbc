"""Bound how many CPU-heavy policy searches run at once in a process.

Policy `ask` is pure CPU (tokenising, BM25, embedding, fusion) unless an LLM writes the answer. Run in
many threads at once it does not get faster — the GIL lets one run at a time — but it gets much more
expensive: measured with 150 simultaneous questions on the 2-core box (bench/load_bench.py), 82-87 ms of
bot CPU per question with 32 threads against 49-51 ms with one search at a time, and the p95 reply time
halved. Waiting for the gate happens in an executor thread; the event loop stays free.

The embedding of a question (one sentence) runs on ONE BLAS/torch thread (`OneThreadEmbedder`): splitting so
small a matrix product over two threads buys nothing and costs much — measured on the 2-core box, 5 ms of CPU
per question with one thread against 13-60 ms with two (the second thread spins waiting for work, and under
load the two wait for each other), with bit-identical vectors; even a 180-passage index batch was cheaper.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

__all__ = ["GatedPolicyService", "OneThreadEmbedder"]


class GatedPolicyService:
    """A PolicyService whose `ask` runs at most `limit` at a time; everything else is the service's own."""

    def __init__(self, service: Any, limit: int):
        self._service = service
        self._gate = threading.BoundedSemaphore(max(1, limit))

    @property
    def wrapped(self) -> Any:
        """The PolicyService behind the gate."""
        return self._service

    def ask(self, *args: Any, **kwargs: Any) -> Any:
        """`PolicyService.ask`, after waiting for a free slot."""
        with self._gate:
            return self._service.ask(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._service, name)


class OneThreadEmbedder:
    """The embedder EMBEDDING_MODEL names, loaded on first use, computing on one thread (see the module
    docstring). Knows its `name` without loading, like `PolicyService` expects of an injected embedder."""

    def __init__(self, name: str = "") -> None:
        from retrieval.embedding import DEFAULT_MODEL

        self.name = name or DEFAULT_MODEL
        self._default = self.name == DEFAULT_MODEL
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                if self._default:
                    from retrieval.embedding import UseMultilingualEmbedder

                    self._model = UseMultilingualEmbedder(threads=1)
                else:
                    import torch

                    from retrieval.embedding import load_embedder

                    torch.set_num_threads(1)  # a process-wide setting: this process embeds one question at a time
                    self._model = load_embedder(self.name)
            return self._model

    def encode(self, texts: list[str]) -> np.ndarray:
        """The model's `encode` (unit-length float32 rows)."""
        return (self._model or self._load()).encode(texts)
