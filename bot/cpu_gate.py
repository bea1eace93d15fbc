"""Bound how many CPU-heavy policy searches run at once in a process.

Policy `ask` is pure CPU (tokenising, BM25, embedding, fusion) unless an LLM writes the answer. Run in
many threads at once it does not get faster — the GIL lets one run at a time — but it gets much more
expensive: measured with 150 simultaneous questions on the 2-core box (bench/load_bench.py), 82-87 ms of
bot CPU per question with 32 threads against 49-51 ms with one search at a time, and the p95 reply time
halved. Waiting for the gate happens in an executor thread; the event loop stays free.
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["GatedPolicyService"]


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
