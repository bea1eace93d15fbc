"""Quotable units of a passage: table rows whole, other text sentence by sentence."""

from __future__ import annotations

import re

from retrieval.chunking import split_sentences

MIN_SENTENCE_CHARS = 16  # a heading alone says little: quote the sentence after it too
TABLE_CELL = re.compile(r"^([^:：;]{1,60})[:：]\s*(.+)$")


def quotable_units(text: str) -> list[str]:
    """Quotable units of a passage: table rows whole, other text by sentence (a short heading joined to
    the sentence after it)."""
    if is_table(text):
        return [line.strip() for line in text.split("\n") if line.strip()]
    sentences = [s.strip() for s in split_sentences(text) if s.strip()]
    units: list[str] = []
    i = 0
    while i < len(sentences):
        unit = sentences[i].strip(";；").strip()
        while len(unit) < MIN_SENTENCE_CHARS and i + 1 < len(sentences):
            i += 1
            unit = f"{unit}{sentences[i].strip()}"
        units.append(unit)
        i += 1
    return units


def is_table(text: str) -> bool:
    lines = [line for line in text.split("\n") if line.strip()]
    return bool(lines) and all("; " in line and TABLE_CELL.match(line.split("; ")[0]) for line in lines)
